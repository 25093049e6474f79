#include "stats/alerts.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sluice::stats {
namespace {

using C = AlertState::Change;

config::AlertDef def(config::AlertDef::Fn fn, const std::string& op, double t, int window_ms) {
  config::AlertDef d;
  d.name = "a";
  d.metric = "m";
  d.fn = fn;
  d.op = op;
  d.threshold = t;
  d.window = config::Millis(window_ms);
  return d;
}

TEST(Alerts, Compare) {
  EXPECT_TRUE(alert_compare(2, ">", 1));
  EXPECT_FALSE(alert_compare(1, ">", 1));
  EXPECT_TRUE(alert_compare(1, ">=", 1));
  EXPECT_TRUE(alert_compare(0, "<", 1));
  EXPECT_TRUE(alert_compare(1, "<=", 1));
  EXPECT_TRUE(alert_compare(1, "==", 1));
  EXPECT_TRUE(alert_compare(2, "!=", 1));
}

TEST(Alerts, ValueFiresOnceAndClearsOnce) {
  auto d = def(config::AlertDef::Fn::Value, ">", 5, 10000);
  AlertState s(d);
  EXPECT_EQ(s.update(0, {1}), C::None);
  EXPECT_EQ(s.update(1000, {6}), C::Fired);
  EXPECT_EQ(s.update(2000, {7}), C::None);  // no repeat while it holds
  EXPECT_EQ(s.update(3000, {9}), C::None);
  EXPECT_EQ(s.update(4000, {2}), C::Cleared);
  EXPECT_EQ(s.update(5000, {2}), C::None);
  EXPECT_EQ(s.update(6000, {}), C::None);  // no value: not true
}

TEST(Alerts, RateOverWindow) {
  auto d = def(config::AlertDef::Fn::Rate, ">", 2, 4000);
  AlertState s(d);
  EXPECT_EQ(s.update(0, {100}), C::None);
  EXPECT_FALSE(s.has_value());  // one sample: no rate yet
  EXPECT_EQ(s.update(1000, {101}), C::None);
  EXPECT_DOUBLE_EQ(s.value(), 1.0);
  EXPECT_EQ(s.update(2000, {110}), C::Fired);  // 10 in 2 s
  EXPECT_DOUBLE_EQ(s.value(), 5.0);
  for (int t = 3000; t <= 6000; t += 1000) s.update(t, {110});
  // Window 4 s: base is the sample at 2000 (110) → rate 0.
  EXPECT_FALSE(s.firing());
  EXPECT_DOUBLE_EQ(s.value(), 0.0);
}

TEST(Alerts, MedianOverWindow) {
  auto d = def(config::AlertDef::Fn::Median, ">=", 100, 3000);
  AlertState s(d);
  EXPECT_EQ(s.update(0, {10, 20}), C::None);
  EXPECT_DOUBLE_EQ(s.value(), 15.0);
  EXPECT_EQ(s.update(1000, {200, 300, 400}), C::Fired);  // 10 20 200 300 400
  EXPECT_DOUBLE_EQ(s.value(), 200.0);
  EXPECT_EQ(s.update(3000, {5}), C::None);        // t=0 out: 200 300 400 5 → 250
  EXPECT_EQ(s.update(4000, {5, 5}), C::Cleared);  // 5 5 5 (t=1000 out)
}

TEST(Alerts, JsonAndEnv) {
  auto d = def(config::AlertDef::Fn::Rate, ">", 1, 10000);
  d.metric = "rate(hrsp_5xx)";
  AlertState s(d);
  s.update(0, {0});
  s.update(1000, {5});
  auto j = nlohmann::json::parse(alert_json("app", s, true));
  EXPECT_EQ(j["alert"], "a");
  EXPECT_EQ(j["state"], "firing");
  EXPECT_EQ(j["backend"], "app");
  EXPECT_EQ(j["metric"], "rate(hrsp_5xx)");
  EXPECT_DOUBLE_EQ(j["value"].get<double>(), 5.0);
  auto env = alert_env("app", s, false);
  EXPECT_NE(std::find(env.begin(), env.end(), "SLUICE_ALERT_STATE=cleared"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "SLUICE_ALERT_VALUE=5"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "SLUICE_ALERT_BACKEND=app"), env.end());
}

}  // namespace
}  // namespace sluice::stats

#include "stats/email_alert.h"

namespace sluice::stats {
namespace {

TEST(EmailAlert, Data) {
  config::EmailAlert e;
  e.from = "lb@x";
  e.to = "ops@x";
  auto d = email_alert_data(e, "Server app/s1 is DOWN.", 0);
  EXPECT_EQ(d,
            "From: lb@x\r\nTo: ops@x\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n"
            "Subject: [HAproxy Alert] Server app/s1 is DOWN.\r\n\r\n"
            "Server app/s1 is DOWN.\r\n.\r\n");
  EXPECT_NE(email_alert_data(e, ".x", 0).find("\r\n\r\n..x\r\n.\r\n"), std::string::npos);
}

}  // namespace
}  // namespace sluice::stats
