#pragma once
// What the runtime API changed of a server's check (`set server ...
// check-addr | check-port | agent-addr | agent-port | agent-send`). A light
// header: proxy::Server keeps one per check, CheckRun applies them.

#include <cstdint>
#include <optional>
#include <string>

#include "config/model.h"

namespace sluice::checks {

// Unset fields keep the configuration's.
struct CheckOverrides {
  std::optional<config::Address> addr;  // the IP alone (its port is not used)
  std::optional<std::uint16_t> port;
  std::optional<std::string> send;  // agent-send
};

}  // namespace sluice::checks
