#include "checks/check_types.h"

#include <array>

namespace sluice::checks {

namespace {
constexpr std::array<CheckStatusInfo, 6> kTable{{
    {CheckStatus::Unknown, "UNK", "Unknown", false},
    {CheckStatus::Init, "INI", "Initializing", false},
    {CheckStatus::SockErr, "SOCKERR", "Socket error", false},
    {CheckStatus::L4Ok, "L4OK", "Layer4 check passed", true},
    {CheckStatus::L4Tout, "L4TOUT", "Layer4 timeout", false},
    {CheckStatus::L4Con, "L4CON", "Layer4 connection problem", false},
}};
}  // namespace

const CheckStatusInfo& status_info(CheckStatus s) { return kTable[static_cast<std::size_t>(s)]; }

}  // namespace sluice::checks
