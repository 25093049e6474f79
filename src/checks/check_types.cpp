#include "checks/check_types.h"

#include <array>

namespace sluice::checks {

namespace {
using O = CheckOutcome;
constexpr std::array<CheckStatusInfo, 15> kTable{{
    {CheckStatus::Unknown, "UNK", "Unknown", O::Neutral, false, false},
    {CheckStatus::Init, "INI", "Initializing", O::Neutral, false, false},
    {CheckStatus::SockErr, "SOCKERR", "Socket error", O::Failed, false, false},
    {CheckStatus::L4Ok, "L4OK", "Layer4 check passed", O::Passed, true, false},
    {CheckStatus::L4Tout, "L4TOUT", "Layer4 timeout", O::Failed, false, false},
    {CheckStatus::L4Con, "L4CON", "Layer4 connection problem", O::Failed, false, false},
    {CheckStatus::L6Ok, "L6OK", "Layer6 check passed", O::Passed, true, false},
    {CheckStatus::L6Tout, "L6TOUT", "Layer6 timeout", O::Failed, false, false},
    {CheckStatus::L6Rsp, "L6RSP", "Layer6 invalid response", O::Failed, false, false},
    {CheckStatus::L7Tout, "L7TOUT", "Layer7 timeout", O::Failed, false, false},
    {CheckStatus::L7Rsp, "L7RSP", "Layer7 invalid response", O::Failed, false, false},
    {CheckStatus::L7Ok, "L7OK", "Layer7 check passed", O::Passed, true, true},
    {CheckStatus::L7OkC, "L7OKC", "Layer7 check conditionally passed", O::CondPass, true, true},
    {CheckStatus::L7Sts, "L7STS", "Layer7 wrong status", O::Failed, false, true},
    {CheckStatus::Hana, "HANA", "Health analyze", O::Failed, false, false},
}};
}  // namespace

const CheckStatusInfo& status_info(CheckStatus s) { return kTable[static_cast<std::size_t>(s)]; }
std::span<const CheckStatusInfo> status_table() { return kTable; }

}  // namespace sluice::checks
