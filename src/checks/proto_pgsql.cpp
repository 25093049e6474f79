// `option pgsql-check user NAME`: a startup message; an Authentication
// answer ('R') means the server is alive; an ErrorResponse ('E') fails.

#include <memory>

#include "checks/protocols.h"

namespace sluice::checks {

namespace {
class StartupAnswerMatcher final : public Matcher {
 public:
  Verdict match(std::string_view in, bool eof) const override {
    if (in.size() < 5) {
      if (!eof) return Verdict::need_more();
      return Verdict::fail(CheckStatus::L7Rsp, "");
    }
    if (in[0] == 'R') return Verdict::pass(CheckStatus::L7Ok, "PostgreSQL server is ok");
    if (in[0] == 'E') {
      // Fields: type byte, NUL-terminated text; 'M' is the message.
      std::size_t len = static_cast<unsigned char>(in[1]) << 24 | static_cast<unsigned char>(in[2]) << 16 |
                        static_cast<unsigned char>(in[3]) << 8 | static_cast<unsigned char>(in[4]);
      if (in.size() < 1 + len && !eof) return Verdict::need_more();
      std::string msg;
      for (std::size_t i = 5; i < in.size() && in[i] != '\0';) {
        std::size_t nul = in.find('\0', i + 1);
        if (nul == std::string_view::npos) break;
        if (in[i] == 'M') msg = std::string(in.substr(i + 1, nul - i - 1));
        i = nul + 1;
      }
      return Verdict::fail(CheckStatus::L7Sts, msg);
    }
    return Verdict::fail(CheckStatus::L7Rsp, "invalid PostgreSQL answer");
  }
};
}  // namespace

std::string compile_pgsql(const CompileInput& in, std::vector<CheckStep>& steps) {
  const std::string& user = in.def.args.size() >= 2 ? in.def.args[1] : std::string();
  std::string body;
  body += std::string("\x00\x03\x00\x00", 4);  // protocol 3.0
  body += "user";
  body += '\0';
  body += user;
  body += '\0';
  body += '\0';
  std::uint32_t len = static_cast<std::uint32_t>(body.size() + 4);
  std::string pkt;
  for (int i = 3; i >= 0; --i) pkt += static_cast<char>((len >> (8 * i)) & 0xFF);
  steps.push_back(CheckStep::connect(false));
  steps.push_back(CheckStep::send(pkt + body));
  steps.push_back(CheckStep::expect(std::make_shared<StartupAnswerMatcher>()));
  steps.push_back(CheckStep::send(std::string("X\x00\x00\x00\x04", 5)));  // Terminate
  return {};
}

}  // namespace sluice::checks
