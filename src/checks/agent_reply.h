#pragma once
// What an agent check's one-line answer asks for (manual, "agent-check"):
// words separated by spaces, tabs or commas, in any order. Pure: parsed
// here, applied by proxy::Backend::on_agent_result.

#include <optional>
#include <string>
#include <string_view>

namespace sluice::checks {

struct AgentReply {
  enum class Health { Up, Down, Fail, Stopped };  // operational state words
  enum class Admin { Ready, Drain, Maint };  // administrative state words
  std::optional<Health> health;
  std::optional<Admin> admin;
  std::optional<unsigned> weight_percent;  // "75%"
  std::optional<unsigned> maxconn;  // "maxconn:30"
  std::string description;  // after a word starting with '#', to the end of the line
  bool empty() const { return !health && !admin && !weight_percent && !maxconn; }
};

// Parses the first line of `answer` (up to the first '\r' or '\n').
// Unknown words are ignored; the last word of each kind wins.
AgentReply parse_agent_reply(std::string_view answer);

std::string_view agent_health_word(AgentReply::Health h);

}  // namespace sluice::checks
