#pragma once
// The one table of stats columns: HAProxy's `show stat` fields in their
// order, with the value type and, per object kind, the typed-output tags
// (origin, nature, scope). CSV, typed, JSON and later Prometheus, the HTML
// page, expvar and Graphite all read this table; no format keeps its own
// list. Light header: no runtime objects.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sluice::stats {

// The object a row describes; the value is the CSV `type` column.
enum class Kind : std::uint8_t { Frontend = 0, Backend = 1, Server = 2 };

enum class ValueType : std::uint8_t { Str, U32, U64, S32 };

struct Column {
  std::string_view name;
  ValueType type;
  // Typed-output tags for Frontend, Backend, Server ("" when HAProxy never
  // reports the field for that kind), e.g. "MCP": metric, counter, process.
  std::string_view tags[3];
  // Fields of HAProxy's stats modules (SSL, H2, H1): after the "-" marker
  // column in CSV.
  bool module;
};

// Column positions (typed/JSON "pos"); the CSV adds a "-" column before
// the first module field.
enum Col : std::uint16_t {
  Pxname, Svname, Qcur, Qmax, Scur, Smax, Slim, Stot, Bin, Bout, Dreq, Dresp, Ereq, Econ, Eresp, Wretr, Wredis, Status, Weight, Act, Bck, Chkfail, Chkdown, Lastchg, Downtime, Qlimit, Pid, Iid, Sid, Throttle, Lbtot, Tracked, Type, Rate, RateLim, RateMax, CheckStatus, CheckCode, CheckDuration, Hrsp1xx, Hrsp2xx, Hrsp3xx, Hrsp4xx, Hrsp5xx, HrspOther, Hanafail, ReqRate, ReqRateMax, ReqTot, CliAbrt, SrvAbrt, CompIn, CompOut, CompByp, CompRsp, Lastsess, LastChk, LastAgt, Qtime, Ctime, Rtime, Ttime, AgentStatus, AgentCode, AgentDuration, CheckDesc, AgentDesc, CheckRise, CheckFall, CheckHealth, AgentRise, AgentFall, AgentHealth, Addr, Cookie, Mode, Algo, ConnRate, ConnRateMax, ConnTot, Intercepted, Dcon, Dses, Wrew, Connect, Reuse, CacheLookups, CacheHits, SrvIcur, SrcIlim, QtimeMax, CtimeMax, RtimeMax, TtimeMax, Eint, IdleConnCur, SafeConnCur, UsedConnCur, NeedConnEst, Uweight, AggServerStatus, AggServerCheckStatus, AggCheckStatus, SslSess, SslReusedSess, SslFailedHandshake, H2HeadersRcvd, H2DataRcvd, H2SettingsRcvd, H2RstStreamRcvd, H2GoawayRcvd, H2DetectedConnProtocolErrors, H2DetectedStrmProtocolErrors, H2RstStreamResp, H2GoawayResp, H2OpenConnections, H2BackendOpenStreams, H2TotalConnections, H2BackendTotalStreams, H1OpenConnections, H1OpenStreams, H1TotalConnections, H1TotalStreams, H1BytesIn, H1BytesOut, H1SplicedBytesIn, H1SplicedBytesOut,
  kColumnCount
};
constexpr std::size_t kProxyColumns = 103;  // fields before the "-" marker

std::span<const Column> columns();
std::string_view type_name(ValueType t);  // "str", "u32", "u64", "s32"

}  // namespace sluice::stats
