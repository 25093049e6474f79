// The agent check (`agent-check`): connect to agent-port, send agent-send,
// read one line of words ("up", "drain", "75%", ...). Backend::on_agent_result
// applies them; this file only fetches the line.

#include <memory>

#include "checks/protocols.h"

namespace sluice::checks {

namespace {
class AgentLineMatcher final : public Matcher {
 public:
  Verdict match(std::string_view in, bool eof) const override {
    std::size_t eol = in.find('\n');
    if (eol == std::string_view::npos && !eof) return Verdict::need_more();
    std::string_view line = in.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return Verdict::fail(CheckStatus::L7Rsp, "");
    return Verdict::pass(CheckStatus::L7Ok, std::string(line));
  }
};
}  // namespace

std::vector<CheckStep> compile_agent(const config::ServerDef& server) {
  std::vector<CheckStep> steps;
  // The port is the check's address's (agent-port, or the runtime API's).
  steps.push_back(CheckStep::connect(false));
  if (!server.agent_send.empty()) steps.push_back(CheckStep::send(server.agent_send));
  steps.push_back(CheckStep::expect(std::make_shared<AgentLineMatcher>()));
  return steps;
}

}  // namespace sluice::checks
