// Retry decisions: which requests may be replayed and where a retry goes.
#include "httpmode/retry.h"

#include <gtest/gtest.h>

#include <string_view>

namespace sluice::httpmode {
namespace {

http::Head head_of(std::string_view raw) {
  http::HeadParser p(http::Side::Request);
  EXPECT_EQ(p.parse(raw).state, http::ParseState::Done) << raw;
  return p.head();
}

TEST(Retry, OnlyIdempotentRequestsWithSmallBodiesAreReplayable) {
  EXPECT_TRUE(replayable_request(head_of("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 16384));
  EXPECT_TRUE(replayable_request(head_of("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"), 16384));
  EXPECT_TRUE(
      replayable_request(head_of("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"), 16384));
  EXPECT_FALSE(
      replayable_request(head_of("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n"), 16384));
  EXPECT_FALSE(replayable_request(head_of("PATCH / HTTP/1.1\r\nHost: x\r\n\r\n"), 16384));
  EXPECT_FALSE(replayable_request(
      head_of("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 9000\r\n\r\n"), 16384));
  EXPECT_FALSE(replayable_request(
      head_of("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), 16384));
}

TEST(Retry, RedispatchFollowsTheIntervalAndHaproxysShortcut) {
  config::Proxy be;
  be.retries = 3;
  be.balance.algo = config::BalanceAlgo::Source;  // hashing: no shortcut
  EXPECT_FALSE(should_redispatch(be, 3, false, false, 2));  // no option redispatch
  be.redispatch = true;
  be.redispatch_interval = -1;  // the last retry
  EXPECT_FALSE(should_redispatch(be, 1, true, false, 2));
  EXPECT_FALSE(should_redispatch(be, 2, true, false, 2));
  EXPECT_TRUE(should_redispatch(be, 3, true, false, 2));
  EXPECT_TRUE(should_redispatch(be, 1, false, false, 2));  // the server went away
  be.redispatch_interval = 2;  // every second retry
  EXPECT_FALSE(should_redispatch(be, 1, true, false, 2));
  EXPECT_TRUE(should_redispatch(be, 2, true, false, 2));
  be.redispatch_interval = -2;  // the retry before the last
  EXPECT_TRUE(should_redispatch(be, 2, true, false, 2));
  EXPECT_FALSE(should_redispatch(be, 3, true, false, 2));
  // Round robin over several servers: at once, unless a cookie chose the server.
  be.balance.algo = config::BalanceAlgo::RoundRobin;
  be.redispatch_interval = -1;
  EXPECT_TRUE(should_redispatch(be, 1, true, false, 2));
  EXPECT_FALSE(should_redispatch(be, 1, true, true, 2));
  EXPECT_FALSE(should_redispatch(be, 1, true, false, 1));
}

}  // namespace
}  // namespace sluice::httpmode
