#include "stats/columns.h"

#include <array>

namespace sluice::stats {

namespace {
using T = ValueType;
// clang-format off
constexpr Column kColumns[] = {
    {"pxname", T::Str, {"KNS", "KNS", "KNS"}, false},  // 0
    {"svname", T::Str, {"KNS", "KNS", "KNS"}, false},  // 1
    {"qcur", T::U32, {"", "MGP", "MGP"}, false},  // 2
    {"qmax", T::U32, {"", "MMP", "MMP"}, false},  // 3
    {"scur", T::U32, {"MGP", "MGP", "MGP"}, false},  // 4
    {"smax", T::U32, {"MMP", "MMP", "MMP"}, false},  // 5
    {"slim", T::U32, {"CLP", "CLP", ""}, false},  // 6
    {"stot", T::U64, {"MCP", "MCP", "MCP"}, false},  // 7
    {"bin", T::U64, {"MCP", "MCP", "MCP"}, false},  // 8
    {"bout", T::U64, {"MCP", "MCP", "MCP"}, false},  // 9
    {"dreq", T::U64, {"MCP", "MCP", ""}, false},  // 10
    {"dresp", T::U64, {"MCP", "MCP", "MCP"}, false},  // 11
    {"ereq", T::U64, {"MCP", "", ""}, false},  // 12
    {"econ", T::U64, {"", "MCP", "MCP"}, false},  // 13
    {"eresp", T::U64, {"", "MCP", "MCP"}, false},  // 14
    {"wretr", T::U64, {"", "MCP", "MCP"}, false},  // 15
    {"wredis", T::U64, {"", "MCP", "MCP"}, false},  // 16
    {"status", T::Str, {"SGP", "SGP", "SGP"}, false},  // 17
    {"weight", T::U32, {"", "MaP", "MaP"}, false},  // 18
    {"act", T::U32, {"", "MGP", "SGP"}, false},  // 19
    {"bck", T::U32, {"", "MGP", "SGP"}, false},  // 20
    {"chkfail", T::U64, {"", "", "MCP"}, false},  // 21
    {"chkdown", T::U64, {"", "MCP", "MCP"}, false},  // 22
    {"lastchg", T::U32, {"", "MAP", "MAP"}, false},  // 23
    {"downtime", T::U32, {"", "MCP", "MCP"}, false},  // 24
    {"qlimit", T::U32, {"", "", "CGS"}, false},  // 25
    {"pid", T::U32, {"KGP", "KGP", "KGP"}, false},  // 26
    {"iid", T::U32, {"KGS", "KGS", "KGS"}, false},  // 27
    {"sid", T::U32, {"KGS", "KGS", "KGS"}, false},  // 28
    {"throttle", T::U32, {"", "", "MaP"}, false},  // 29
    {"lbtot", T::U64, {"", "MCP", "MCP"}, false},  // 30
    {"tracked", T::Str, {"", "", "CNS"}, false},  // 31
    {"type", T::U32, {"CGS", "CGS", "CGS"}, false},  // 32
    {"rate", T::U32, {"MRP", "MGP", "MRP"}, false},  // 33
    {"rate_lim", T::U32, {"CLP", "", ""}, false},  // 34
    {"rate_max", T::U32, {"MMP", "MGP", "MMP"}, false},  // 35
    {"check_status", T::Str, {"", "", "MOP"}, false},  // 36
    {"check_code", T::U32, {"", "", "MOP"}, false},  // 37
    {"check_duration", T::U64, {"", "", "MDP"}, false},  // 38
    {"hrsp_1xx", T::U64, {"MCP", "MCP", "MCP"}, false},  // 39
    {"hrsp_2xx", T::U64, {"MCP", "MCP", "MCP"}, false},  // 40
    {"hrsp_3xx", T::U64, {"MCP", "MCP", "MCP"}, false},  // 41
    {"hrsp_4xx", T::U64, {"MCP", "MCP", "MCP"}, false},  // 42
    {"hrsp_5xx", T::U64, {"MCP", "MCP", "MCP"}, false},  // 43
    {"hrsp_other", T::U64, {"MCP", "MCP", "MCP"}, false},  // 44
    {"hanafail", T::U64, {"", "", "MCP"}, false},  // 45
    {"req_rate", T::U32, {"MRP", "", ""}, false},  // 46
    {"req_rate_max", T::U32, {"MMP", "", ""}, false},  // 47
    {"req_tot", T::U64, {"MCP", "MCP", "MCP"}, false},  // 48
    {"cli_abrt", T::U64, {"", "MCP", "MCP"}, false},  // 49
    {"srv_abrt", T::U64, {"", "MCP", "MCP"}, false},  // 50
    {"comp_in", T::U64, {"MCP", "MCP", ""}, false},  // 51
    {"comp_out", T::U64, {"MCP", "MCP", ""}, false},  // 52
    {"comp_byp", T::U64, {"MCP", "MCP", ""}, false},  // 53
    {"comp_rsp", T::U64, {"MCP", "MCP", ""}, false},  // 54
    {"lastsess", T::S32, {"", "MAP", "MAP"}, false},  // 55
    {"last_chk", T::Str, {"", "", "MOP"}, false},  // 56
    {"last_agt", T::Str, {"", "", "MOP"}, false},  // 57
    {"qtime", T::U32, {"", "MaP", "MaP"}, false},  // 58
    {"ctime", T::U32, {"", "MaP", "MaP"}, false},  // 59
    {"rtime", T::U32, {"", "MaP", "MaP"}, false},  // 60
    {"ttime", T::U32, {"", "MaP", "MaP"}, false},  // 61
    {"agent_status", T::Str, {"", "", "MOP"}, false},  // 62
    {"agent_code", T::U32, {"", "", "MOP"}, false},  // 63
    {"agent_duration", T::U64, {"", "", "MDP"}, false},  // 64
    {"check_desc", T::Str, {"", "", "MOP"}, false},  // 65
    {"agent_desc", T::Str, {"", "", "MOP"}, false},  // 66
    {"check_rise", T::U32, {"", "", "CGS"}, false},  // 67
    {"check_fall", T::U32, {"", "", "CGS"}, false},  // 68
    {"check_health", T::U32, {"", "", "CGS"}, false},  // 69
    {"agent_rise", T::U32, {"", "", "CGS"}, false},  // 70
    {"agent_fall", T::U32, {"", "", "CGS"}, false},  // 71
    {"agent_health", T::U32, {"", "", "CGS"}, false},  // 72
    {"addr", T::Str, {"", "", "CGS"}, false},  // 73
    {"cookie", T::Str, {"", "CNS", "CNS"}, false},  // 74
    {"mode", T::Str, {"CGS", "CGS", "CGS"}, false},  // 75
    {"algo", T::Str, {"", "CGS", ""}, false},  // 76
    {"conn_rate", T::U32, {"MRP", "", ""}, false},  // 77
    {"conn_rate_max", T::U32, {"MMP", "", ""}, false},  // 78
    {"conn_tot", T::U64, {"MCP", "", ""}, false},  // 79
    {"intercepted", T::U64, {"MCP", "", ""}, false},  // 80
    {"dcon", T::U64, {"MCP", "", ""}, false},  // 81
    {"dses", T::U64, {"MCP", "", ""}, false},  // 82
    {"wrew", T::U64, {"MCP", "MCP", "MCP"}, false},  // 83
    {"connect", T::U64, {"", "MCP", "MCP"}, false},  // 84
    {"reuse", T::U64, {"", "MCP", "MCP"}, false},  // 85
    {"cache_lookups", T::U64, {"MCP", "MCP", ""}, false},  // 86
    {"cache_hits", T::U64, {"MCP", "MCP", ""}, false},  // 87
    {"srv_icur", T::U32, {"", "", "MGP"}, false},  // 88
    {"src_ilim", T::U32, {"", "", "CLP"}, false},  // 89
    {"qtime_max", T::U32, {"", "MMP", "MMP"}, false},  // 90
    {"ctime_max", T::U32, {"", "MMP", "MMP"}, false},  // 91
    {"rtime_max", T::U32, {"", "MMP", "MMP"}, false},  // 92
    {"ttime_max", T::U32, {"", "MMP", "MMP"}, false},  // 93
    {"eint", T::U64, {"MCP", "MCP", "MCP"}, false},  // 94
    {"idle_conn_cur", T::U32, {"", "", "MGP"}, false},  // 95
    {"safe_conn_cur", T::U32, {"", "", "MGP"}, false},  // 96
    {"used_conn_cur", T::U32, {"", "", "MGP"}, false},  // 97
    {"need_conn_est", T::U32, {"", "", "MGP"}, false},  // 98
    {"uweight", T::U32, {"", "MaP", "MaP"}, false},  // 99
    {"agg_server_status", T::U32, {"", "MGP", ""}, false},  // 100
    {"agg_server_check_status", T::U32, {"", "MGP", ""}, false},  // 101
    {"agg_check_status", T::U32, {"", "MGP", ""}, false},  // 102
    {"ssl_sess", T::U64, {"MCP", "MCP", "MCP"}, true},  // 103
    {"ssl_reused_sess", T::U64, {"MCP", "MCP", "MCP"}, true},  // 104
    {"ssl_failed_handshake", T::U64, {"MCP", "MCP", "MCP"}, true},  // 105
    {"h2_headers_rcvd", T::U64, {"MCP", "MCP", ""}, true},  // 106
    {"h2_data_rcvd", T::U64, {"MCP", "MCP", ""}, true},  // 107
    {"h2_settings_rcvd", T::U64, {"MCP", "MCP", ""}, true},  // 108
    {"h2_rst_stream_rcvd", T::U64, {"MCP", "MCP", ""}, true},  // 109
    {"h2_goaway_rcvd", T::U64, {"MCP", "MCP", ""}, true},  // 110
    {"h2_detected_conn_protocol_errors", T::U64, {"MCP", "MCP", ""}, true},  // 111
    {"h2_detected_strm_protocol_errors", T::U64, {"MCP", "MCP", ""}, true},  // 112
    {"h2_rst_stream_resp", T::U64, {"MCP", "MCP", ""}, true},  // 113
    {"h2_goaway_resp", T::U64, {"MCP", "MCP", ""}, true},  // 114
    {"h2_open_connections", T::U64, {"MGP", "MGP", ""}, true},  // 115
    {"h2_backend_open_streams", T::U64, {"MGP", "MGP", ""}, true},  // 116
    {"h2_total_connections", T::U64, {"MCP", "MCP", ""}, true},  // 117
    {"h2_backend_total_streams", T::U64, {"MCP", "MCP", ""}, true},  // 118
    {"h1_open_connections", T::U64, {"MGP", "MGP", ""}, true},  // 119
    {"h1_open_streams", T::U64, {"MGP", "MGP", ""}, true},  // 120
    {"h1_total_connections", T::U64, {"MCP", "MCP", ""}, true},  // 121
    {"h1_total_streams", T::U64, {"MCP", "MCP", ""}, true},  // 122
    {"h1_bytes_in", T::U64, {"MCP", "MCP", ""}, true},  // 123
    {"h1_bytes_out", T::U64, {"MCP", "MCP", ""}, true},  // 124
    {"h1_spliced_bytes_in", T::U64, {"MCP", "MCP", ""}, true},  // 125
    {"h1_spliced_bytes_out", T::U64, {"MCP", "MCP", ""}, true},  // 126
};
// clang-format on
static_assert(std::size(kColumns) == kColumnCount);
}  // namespace

std::span<const Column> columns() { return kColumns; }

std::string_view type_name(ValueType t) {
  switch (t) {
    case ValueType::Str: return "str";
    case ValueType::U32: return "u32";
    case ValueType::U64: return "u64";
    case ValueType::S32: return "s32";
  }
  return "str";
}

}  // namespace sluice::stats
