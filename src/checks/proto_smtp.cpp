// `option smtpchk [HELO|EHLO DOMAIN]`: banner, HELO, QUIT; 2xx passes.

#include <memory>

#include "checks/protocols.h"

namespace sluice::checks {

namespace {
// One (possibly multi-line: "250-...") SMTP reply.
class ReplyMatcher final : public Matcher {
 public:
  Verdict match(std::string_view in, bool eof) const override {
    std::size_t pos = 0;
    while (true) {
      std::size_t eol = in.find('\n', pos);
      if (eol == std::string_view::npos) {
        if (!eof) return Verdict::need_more();
        return Verdict::fail(CheckStatus::L7Rsp, "");
      }
      std::string_view line = in.substr(pos, eol - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.size() < 3 || line.substr(0, 3).find_first_not_of("0123456789") != std::string_view::npos)
        return Verdict::fail(CheckStatus::L7Rsp, "invalid SMTP reply");
      if (line.size() > 3 && line[3] == '-') {
        pos = eol + 1;
        continue;
      }
      int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
      std::string text(line.size() > 4 ? line.substr(4) : std::string_view());
      if (line[0] == '2') return Verdict::pass(CheckStatus::L7Ok, text, code);
      return Verdict::fail(CheckStatus::L7Sts, text, code);
    }
  }
};
}  // namespace

std::string compile_smtp(const CompileInput& in, std::vector<CheckStep>& steps) {
  std::string hello = "HELO localhost";
  const auto& a = in.def.args;
  if (a.size() == 2 && (a[0] == "HELO" || a[0] == "EHLO")) hello = a[0] + " " + a[1];
  auto m = std::make_shared<ReplyMatcher>();
  steps.push_back(CheckStep::connect(false));
  steps.push_back(CheckStep::expect(m));
  steps.push_back(CheckStep::send(hello + "\r\n"));
  steps.push_back(CheckStep::expect(m));
  steps.push_back(CheckStep::send("QUIT\r\n"));
  return {};
}

}  // namespace sluice::checks
