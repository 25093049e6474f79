// `option redis-check`: PING, expect +PONG, then QUIT.

#include <memory>

#include "checks/protocols.h"

namespace sluice::checks {

namespace {
class PongMatcher final : public Matcher {
 public:
  Verdict match(std::string_view in, bool eof) const override {
    std::size_t eol = in.find("\r\n");
    if (eol == std::string_view::npos) {
      if (!eof) return Verdict::need_more();
      return Verdict::fail(CheckStatus::L7Rsp, "");
    }
    std::string_view line = in.substr(0, eol);
    if (line == "+PONG") return Verdict::pass(CheckStatus::L7Ok, "Redis server is ok");
    if (!line.empty() && line[0] == '-') return Verdict::fail(CheckStatus::L7Sts, std::string(line.substr(1)));
    return Verdict::fail(CheckStatus::L7Rsp, "unexpected answer to PING");
  }
};
}  // namespace

std::string compile_redis(const CompileInput&, std::vector<CheckStep>& steps) {
  steps.push_back(CheckStep::connect(false));
  steps.push_back(CheckStep::send("*1\r\n$4\r\nPING\r\n"));
  steps.push_back(CheckStep::expect(std::make_shared<PongMatcher>()));
  steps.push_back(CheckStep::send("*1\r\n$4\r\nQUIT\r\n"));
  return {};
}

}  // namespace sluice::checks
