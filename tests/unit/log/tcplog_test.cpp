#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "log/logger.h"

namespace sluice::log {
namespace {

timeval utc(int year, int mon, int day, int h, int m, int s, int ms) {
  setenv("TZ", "UTC", 1);
  tzset();
  tm t{};
  t.tm_year = year - 1900;
  t.tm_mon = mon - 1;
  t.tm_mday = day;
  t.tm_hour = h;
  t.tm_min = m;
  t.tm_sec = s;
  timeval tv{};
  tv.tv_sec = timegm(&t);
  tv.tv_usec = ms * 1000 + 999;  // sub-millisecond part is cut, not rounded
  return tv;
}

TEST(AcceptDate, HaproxyFormat) {
  EXPECT_EQ(format_accept_date(utc(2026, 11, 23, 8, 36, 3, 123)), "23/Nov/2026:08:36:03.123");
  EXPECT_EQ(format_accept_date(utc(2009, 2, 6, 12, 12, 51, 443)), "06/Feb/2009:12:12:51.443");
  EXPECT_EQ(format_accept_date(utc(2027, 1, 1, 0, 0, 0, 7)), "01/Jan/2027:00:00:00.007");
}

// Lines produced by Debian's haproxy 2.6 (option tcplog, log to a UDP socket).
TEST(TcpLog, MatchesHaproxyNormalSession) {
  TcpLogFields f;
  f.client_addr = "127.0.0.1";
  f.client_port = 34222;
  f.accept_time = utc(2026, 11, 23, 8, 46, 21, 137);
  f.frontend = "fe1";
  f.backend = "fe1";
  f.server = "s1";
  f.tw = 1;
  f.tc = 0;
  f.tt = 10;
  f.bytes_read = 11;
  f.actconn = 2;
  f.feconn = 1;
  EXPECT_EQ(format_tcplog(f),
            "127.0.0.1:34222 [23/Nov/2026:08:46:21.137] fe1 fe1/s1 1/0/10 11 -- 2/1/0/0/0 0/0");
}

TEST(TcpLog, MatchesHaproxyConnectFailure) {
  TcpLogFields f;
  f.client_addr = "127.0.0.1";
  f.client_port = 48218;
  f.accept_time = utc(2026, 11, 23, 8, 46, 21, 147);
  f.frontend = "fe2";
  f.backend = "fe2";
  f.server = "s1";
  f.tw = 1;
  f.tc = -1;
  f.tt = 3008;
  f.termination[0] = 'S';
  f.termination[1] = 'C';
  f.actconn = 1;
  f.feconn = 1;
  f.retries = 3;
  EXPECT_EQ(format_tcplog(f),
            "127.0.0.1:48218 [23/Nov/2026:08:46:21.147] fe2 fe2/s1 1/-1/3008 0 SC 1/1/0/0/3 0/0");
}

TEST(TcpLog, ManualExampleRedispatchNoServerAndBigCounters) {
  TcpLogFields f;
  f.client_addr = "10.0.1.2";
  f.client_port = 33313;
  f.accept_time = utc(2009, 2, 6, 12, 12, 51, 443);
  f.frontend = "fnt";
  f.backend = "bck";
  f.server = "srv1";
  f.tw = 0;
  f.tc = 0;
  f.tt = 5007;
  f.bytes_read = 212;
  f.retries = 3;
  EXPECT_EQ(format_tcplog(f),
            "10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0");

  f.redispatched = true;
  f.retries = 1;
  f.server = "<NOSRV>";
  f.tw = -1;
  f.tc = -1;
  f.bytes_read = 18446744073709551615ULL;
  f.srv_queue = 4;
  f.backend_queue = 12;
  f.termination[0] = 'C';
  f.termination[1] = 'Q';
  EXPECT_EQ(format_tcplog(f),
            "10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/<NOSRV> -1/-1/5007 "
            "18446744073709551615 CQ 0/0/0/0/+1 4/12");
  f.server = {};
  EXPECT_NE(format_tcplog(f).find(" bck/<NOSRV> "), std::string::npos);
}

TEST(TcpLog, BufferVersionReportsFullLengthAndCuts) {
  TcpLogFields f;
  f.client_addr = "::1";
  f.client_port = 5;
  f.accept_time = utc(2026, 11, 23, 8, 46, 21, 0);
  f.frontend = "f";
  f.backend = "b";
  f.server = "s";
  const std::string full = format_tcplog(f);
  EXPECT_EQ(full, "::1:5 [23/Nov/2026:08:46:21.000] f b/s -1/-1/0 0 -- 0/0/0/0/0 0/0");
  char small[10];
  EXPECT_EQ(format_tcplog(f, small, sizeof small), full.size());
  EXPECT_EQ(std::string(small, sizeof small), full.substr(0, sizeof small));
}

}  // namespace
}  // namespace sluice::log
