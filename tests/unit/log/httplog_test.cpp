// The httplog line, byte for byte against one haproxy 2.6 printed.
#include "log/httplog.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace sluice::log {
namespace {

TEST(HttpLog, MatchesHaproxyLayout) {
  setenv("TZ", "UTC", 1);
  tzset();
  HttpLogFields f;
  f.client_addr = "127.0.0.1";
  f.client_port = 47852;
  f.request_time.tv_sec = 1795430364;  // 23/Nov/2026:10:39:24 UTC
  f.request_time.tv_usec = 814000;
  f.frontend = "http-in";
  f.backend = "urlencode";
  f.server = "Local";
  f.treq = 0;
  f.tw = 0;
  f.tc = 0;
  f.tr = 1;
  f.ta = 1;
  f.status = 200;
  f.bytes_read = 76;
  f.termination[2] = 'N';
  f.termination[3] = 'I';
  f.actconn = 1;
  f.feconn = 1;
  f.request_line = "GET /a?b=1 HTTP/1.1";
  EXPECT_EQ(format_httplog(f),
            "127.0.0.1:47852 [23/Nov/2026:10:39:24.814] http-in urlencode/Local 0/0/0/1/1 200 76 "
            "- - --NI 1/1/0/0/0 0/0 \"GET /a?b=1 HTTP/1.1\"");
  f.server = "";
  f.request_line = "";
  f.redispatched = true;
  f.retries = 3;
  EXPECT_NE(format_httplog(f).find("<NOSRV>"), std::string::npos);
  EXPECT_NE(format_httplog(f).find("/+3 0/0 \"<BADREQ>\""), std::string::npos);
}

}  // namespace
}  // namespace sluice::log
