#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "fixture.h"
#include "proxy/accounting.h"
#include "stats/columns.h"
#include "stats/format.h"
#include "stats/snapshot.h"

namespace sluice::stats {
namespace {

using testing::Objects;

// HAProxy 2.6's `show stat` header (first line, as Debian's haproxy prints it).
constexpr const char* kHaproxyHeader =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
    "wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,"
    "lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,"
    "hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,"
    "cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,"
    "rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,"
    "check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,"
    "conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,"
    "srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,"
    "used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,"
    "agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,"
    "h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,"
    "h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,"
    "h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,"
    "h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,"
    "h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,\n";

constexpr const char* kConfig =
    "defaults\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"
    "listen web\n  mode http\n  bind 127.0.0.1:1\n  balance leastconn\n"
    "  server a 127.0.0.1:81 check maxqueue 4\n  server b 127.0.0.1:82 weight 5 backup\n"
    "listen raw\n  mode tcp\n  bind 127.0.0.1:2\n  server c 127.0.0.1:83 maxconn 9\n";

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  return out;
}

TEST(StatsColumns, HeaderIsHaproxys) {
  EXPECT_EQ(csv_header(), kHaproxyHeader);
  EXPECT_EQ(columns().size(), static_cast<std::size_t>(kColumnCount));
  EXPECT_EQ(columns()[kProxyColumns].name, "ssl_sess");
  EXPECT_EQ(columns()[SrcIlim].name, "src_ilim");  // HAProxy's historic spelling
  EXPECT_EQ(columns()[Stot].tags[static_cast<int>(Kind::Server)], "MCP");
  EXPECT_EQ(columns()[Qcur].tags[static_cast<int>(Kind::Frontend)], "");
}

TEST(StatsSnapshot, RowsInHaproxyOrderWithItsEmptyFields) {
  Objects o(kConfig);
  auto rows = snapshot(o.sources());
  std::vector<std::string> names;
  for (const auto& r : rows) names.push_back(r.v[Pxname].str + "/" + r.v[Svname].str);
  EXPECT_EQ(names, (std::vector<std::string>{"web/FRONTEND", "web/a", "web/b", "web/BACKEND",
                                             "raw/FRONTEND", "raw/c", "raw/BACKEND"}));
  std::string csv = to_csv(rows);
  std::vector<std::string> lines;
  std::stringstream ss(csv);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 8U);
  // A frontend has no queue, a server no dreq, a TCP server no hrsp_*.
  auto fe = split(lines[1]);
  EXPECT_EQ(fe[2], "");
  EXPECT_EQ(fe[17], "OPEN");
  EXPECT_EQ(fe[6], "1000");
  auto a = split(lines[2]);
  EXPECT_EQ(a[10], "");  // dreq
  EXPECT_EQ(a[25], "4");  // qlimit from maxqueue
  EXPECT_EQ(a[36], "INI");  // check_status before the first check
  EXPECT_EQ(a[67], "2");  // check_rise
  EXPECT_EQ(a[73], "127.0.0.1:81");
  EXPECT_EQ(a[55], "-1");  // lastsess: never
  auto b = split(lines[3]);
  EXPECT_EQ(b[17], "no check");
  EXPECT_EQ(b[18], "5");
  EXPECT_EQ(b[19], "0");  // act
  EXPECT_EQ(b[20], "1");  // bck
  EXPECT_EQ(b[36], "");  // no check, no check_status
  auto be = split(lines[4]);
  EXPECT_EQ(be[17], "UP");
  EXPECT_EQ(be[19], "1");  // one active server usable
  EXPECT_EQ(be[76], "leastconn");
  auto c = split(lines[6]);
  EXPECT_EQ(c[6], "9");  // slim from maxconn
  EXPECT_EQ(c[40], "");  // hrsp_2xx: TCP
  // Every line ends with a comma and has as many cells as the header.
  for (const auto& l : lines) {
    EXPECT_EQ(l.back(), ',');
    EXPECT_EQ(std::count(l.begin(), l.end(), ','), std::count(lines[0].begin(), lines[0].end(), ','));
  }
}

TEST(StatsSnapshot, CountersMoveWithSessionEnds) {
  Objects o(kConfig);
  proxy::Frontend& fe = *o.frontends[0];
  proxy::Backend& be = *o.backends[0];
  proxy::Server& a = *be.servers()[0];
  fe.counters().entered();
  be.counters().enter();
  a.counters().enter();
  proxy::SessionEnd e;
  e.http = true;
  e.status = 503;
  e.server_answered = true;
  e.bytes_in = 100;
  e.bytes_out = 250;
  e.tw = 1;
  e.tc = 2;
  e.tr = 30;
  e.tt = 40;
  proxy::account_end(fe, &be, &a, e);
  e.status = 200;
  e.tt = 60;
  proxy::account_end(fe, &be, &a, e);
  auto rows = snapshot(o.sources());
  const Row& frow = rows[0];
  const Row& arow = rows[1];
  const Row& brow = rows[3];
  EXPECT_EQ(frow.v[Stot].num, 1);
  EXPECT_EQ(frow.v[ReqTot].num, 2);
  EXPECT_EQ(frow.v[Hrsp5xx].num, 1);
  EXPECT_EQ(frow.v[Hrsp2xx].num, 1);
  EXPECT_EQ(frow.v[Bin].num, 200);
  EXPECT_EQ(frow.v[Bout].num, 500);
  EXPECT_GE(frow.v[ReqRateMax].num, 1);
  EXPECT_EQ(arow.v[Hrsp2xx].num, 1);
  // HAProxy's sliding average (swrate): sum += v - sum/n, read (sum + n - 1) / n.
  EXPECT_EQ(arow.v[Ttime].num, 40);  // sum 40, then 40 + 60 - 20 = 80 over 2
  EXPECT_EQ(arow.v[TtimeMax].num, 60);
  EXPECT_EQ(arow.v[Rtime].num, 23);  // sum 30, then 30 + 30 - 15 = 45 over 2
  EXPECT_EQ(arow.v[Ctime].num, 2);
  EXPECT_GE(arow.v[Lastsess].num, 0);
  EXPECT_EQ(brow.v[ReqTot].num, 2);
  EXPECT_EQ(brow.v[Stot].num, 1);
  // clear counters all
  fe.counters().clear_all();
  EXPECT_EQ(snapshot(o.sources())[0].v[ReqTot].num, 0);
}

TEST(StatsSnapshot, ServerStatusText) {
  Objects o(kConfig);
  proxy::Backend& be = *o.backends[0];
  proxy::Server& a = *be.servers()[0];
  EXPECT_EQ(server_status(a), "UP");
  a.check().health.store(3);  // rise 2 fall 3: 2..4 is UP, below the top going down
  EXPECT_EQ(server_status(a), "UP 2/3");
  a.set_up(false);
  a.set_check_ok(false);
  a.check().health.store(1);
  EXPECT_EQ(server_status(a), "DOWN 1/2");
  be.set_server_maint(a, true);
  EXPECT_EQ(server_status(a), "MAINT");
  proxy::Server& b = *be.servers()[1];
  be.set_server_drain(b, true);
  EXPECT_EQ(server_status(b), "DRAIN");
}

TEST(StatsFormat, CsvQuotesOnlyWhatNeedsIt) {
  Row r;
  r.v[Pxname].is = Value::Is::Str;
  r.v[Pxname].str = "a,b";
  r.v[LastChk].is = Value::Is::Str;
  r.v[LastChk].str = "say \"hi\"";
  r.v[Stot].is = Value::Is::Num;
  r.v[Stot].num = 7;
  std::string out;
  append_csv(out, r);
  EXPECT_EQ(out.substr(0, 7), "\"a,b\",,");
  EXPECT_NE(out.find(",\"say \"\"hi\"\"\","), std::string::npos);
  EXPECT_NE(out.find(",7,"), std::string::npos);
}

TEST(StatsFormat, TypedAndJson) {
  Objects o(kConfig);
  auto rows = snapshot(o.sources());
  std::string typed;
  append_typed(typed, rows[1]);
  EXPECT_EQ(typed.substr(0, typed.find('\n')), "S.1.1.0.pxname.1:KNS:str:web");
  std::regex line(R"(^[FBS]\.\d+\.\d+\.\d+\.[a-z0-9_]+\.1:[A-Za-z]{3}:(str|u32|u64|s32):.*$)");
  std::stringstream ss(typed);
  for (std::string l; std::getline(ss, l);) EXPECT_TRUE(std::regex_match(l, line)) << l;
  EXPECT_NE(typed.find("S.1.1.55.lastsess.1:MAP:s32:-1\n"), std::string::npos);
  auto doc = nlohmann::json::parse(to_json(rows));
  ASSERT_EQ(doc.size(), rows.size());
  EXPECT_EQ(doc[0][0]["objType"], "Frontend");
  EXPECT_EQ(doc[1][0]["field"]["name"], "pxname");
  EXPECT_EQ(doc[1][0]["tags"]["origin"], "Key");
  EXPECT_EQ(doc[1][0]["value"]["value"], "web");
}

TEST(StatsCounters, RateOverTheLastSecond) {
  proxy::RateCounter r;
  for (int i = 0; i < 10; ++i) r.add(5000);  // second 5
  EXPECT_EQ(r.read(5500), 10U);
  // Half-way through the next second, half of the previous one still counts.
  r.add(6500);
  EXPECT_EQ(r.read(6500), 1U + 10U / 2U);
  EXPECT_EQ(r.read(9000), 0U);
  EXPECT_EQ(r.max(), 10U);
}

TEST(StatsCounters, AverageOverTheLastSamples) {
  proxy::TimeAverage t;
  EXPECT_EQ(t.average(), 0U);
  t.add(10);
  EXPECT_EQ(t.average(), 10U);
  t.add(30);
  EXPECT_EQ(t.average(), 18U);  // swrate: (10 + 30 - 5 + 1) / 2
  for (int i = 0; i < 5000; ++i) t.add(100);
  EXPECT_NEAR(static_cast<double>(t.average()), 100.0, 2.0);
  EXPECT_EQ(t.max(), 100U);
}

}  // namespace
}  // namespace sluice::stats
