// `option tcp-check` with `tcp-check connect|send|send-binary|expect` rules.

#include "checks/protocols.h"

namespace sluice::checks {

std::string compile_tcp_check(const CompileInput& in, std::vector<CheckStep>& steps) {
  using K = config::CheckRule::Kind;
  const auto& rules = in.def.tcp_rules;
  bool has_data = false;
  for (const auto& r : rules)
    if (r.kind != K::Connect && r.kind != K::Comment) has_data = true;
  // Without a leading connect rule, the sequence starts with one (HAProxy's
  // implicit connect).
  if (rules.empty() || rules.front().kind != K::Connect)
    steps.push_back(CheckStep::connect(!has_data));
  for (const auto& r : rules) {
    int step = static_cast<int>(steps.size()) + 1;
    switch (r.kind) {
      case K::Comment:
        break;
      case K::Connect: {
        std::uint16_t port = 0;
        for (std::size_t i = 0; i + 1 < r.args.size(); ++i)
          if (r.args[i] == "port") port = static_cast<std::uint16_t>(std::stoul(r.args[i + 1]));
        steps.push_back(CheckStep::connect(!has_data, port));
        break;
      }
      case K::Send:
        steps.push_back(CheckStep::send(r.pattern));
        break;
      case K::SendBinary:
        steps.push_back(CheckStep::send(hex_to_bytes(r.pattern)));
        break;
      case K::Expect: {
        MatcherPtr m;
        if (r.match == "string") {
          m = make_string_matcher(r.pattern, r.negate, step);
        } else if (r.match == "binary") {
          m = make_binary_matcher(hex_to_bytes(r.pattern), r.negate, step);
        } else {
          std::string err;
          m = make_regex_matcher(r.pattern, r.negate, r.match == "rbinary", step, err);
          if (!m) return err;
        }
        steps.push_back(CheckStep::expect(std::move(m)));
        break;
      }
    }
  }
  return {};
}

}  // namespace sluice::checks
