// `alert` rules: evaluation, and their actions (a command through
// posix_spawn, or a JSON POST over a non-blocking connection).

#include "stats/alerts.h"

#include <spawn.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "config/address.h"
#include "stats/one_shot.h"

extern char** environ;

namespace sluice::stats {

bool alert_compare(double v, const std::string& op, double t) {
  if (op == ">") return v > t;
  if (op == ">=") return v >= t;
  if (op == "<") return v < t;
  if (op == "<=") return v <= t;
  if (op == "==") return v == t;
  return v != t;
}

AlertState::Change AlertState::update(std::int64_t now_ms, const std::vector<double>& values) {
  const std::int64_t window = def_->window.count();
  for (double v : values) samples_.emplace_back(now_ms, v);
  // Rate keeps one sample older than the window as its base.
  while (samples_.size() > 1 && samples_[1].first <= now_ms - window) samples_.pop_front();
  if (def_->fn != config::AlertDef::Fn::Rate)
    while (!samples_.empty() && samples_.front().first <= now_ms - window) samples_.pop_front();
  has_value_ = false;
  switch (def_->fn) {
    case config::AlertDef::Fn::Value:
      if (!values.empty()) {
        value_ = values.back();
        has_value_ = true;
      }
      break;
    case config::AlertDef::Fn::Rate:
      if (samples_.size() >= 2 && samples_.back().first > samples_.front().first) {
        double dv = samples_.back().second - samples_.front().second;
        if (dv < 0) dv = 0;  // counters cleared
        value_ = dv * 1000.0 / static_cast<double>(samples_.back().first - samples_.front().first);
        has_value_ = true;
      }
      break;
    case config::AlertDef::Fn::Median:
      if (!samples_.empty()) {
        std::vector<double> v;
        for (const auto& s : samples_) v.push_back(s.second);
        std::sort(v.begin(), v.end());
        value_ = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
        has_value_ = true;
      }
      break;
  }
  bool cond = has_value_ && alert_compare(value_, def_->op, def_->threshold);
  if (cond && !firing_) {
    firing_ = true;
    return Change::Fired;
  }
  if (!cond && firing_) {
    firing_ = false;
    return Change::Cleared;
  }
  return Change::None;
}

std::string alert_json(const std::string& backend, const AlertState& a, bool fired) {
  nlohmann::json j;
  j["alert"] = a.def().name;
  j["state"] = fired ? "firing" : "cleared";
  j["backend"] = backend;
  j["metric"] = a.def().metric;
  j["op"] = a.def().op;
  j["threshold"] = a.def().threshold;
  j["window_ms"] = a.def().window.count();
  j["value"] = a.has_value() ? nlohmann::json(a.value()) : nlohmann::json(nullptr);
  j["time"] = static_cast<std::int64_t>(std::time(nullptr));
  return j.dump();
}

std::vector<std::string> alert_env(const std::string& backend, const AlertState& a, bool fired) {
  char v[64];
  std::snprintf(v, sizeof v, "%g", a.has_value() ? a.value() : 0.0);
  char t[64];
  std::snprintf(t, sizeof t, "%g", a.def().threshold);
  return {"SLUICE_ALERT=" + a.def().name,
          std::string("SLUICE_ALERT_STATE=") + (fired ? "firing" : "cleared"),
          "SLUICE_ALERT_BACKEND=" + backend,
          "SLUICE_ALERT_METRIC=" + a.def().metric,
          "SLUICE_ALERT_OP=" + a.def().op,
          std::string("SLUICE_ALERT_VALUE=") + v,
          std::string("SLUICE_ALERT_THRESHOLD=") + t};
}

// ---------------------------------------------------------------- POST

// One JSON POST: connect, write, read until the server closes (or 10 s).
class AlertWatch::Post final : public OneShotExchange {
 public:
  using OneShotExchange::OneShotExchange;

  void start(const std::string& url, const std::string& body) {
    // http://HOST:PORT/PATH
    std::string rest = url.substr(7);
    std::size_t slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
    if (hostport.find(':') == std::string::npos) hostport += ":80";
    config::AddressOptions o;
    auto a = config::parse_address(hostport, config::AddrUse::Server, o);
    if (!a) return fail("bad URL " + url + ": " + a.error());
    out_ = "POST " + path + " HTTP/1.1\r\nHost: " + rest.substr(0, slash) +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
    open(a->addr, core::Millis(10000), "no answer from the alert URL within 10s", " to " + url);
  }

  void on_events(std::uint32_t ev) override {
    if (fd_ < 0) return;
    if ((ev & EPOLLOUT) && sent_ < out_.size()) {
      ssize_t n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
      if (n > 0)
        sent_ += static_cast<std::size_t>(n);
      else if (n < 0 && errno != EAGAIN)
        return fail(std::string("send: ") + std::strerror(errno));
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      char b[1024];
      for (;;) {
        ssize_t n = ::recv(fd_, b, sizeof b, 0);
        if (n > 0) continue;
        if (n == 0 || errno != EAGAIN) {
          close();
          return;
        }
        break;
      }
    }
  }

 private:
  std::string failure_prefix() const override { return "alert POST"; }
  std::string out_;
  std::size_t sent_ = 0;
};

// ---------------------------------------------------------------- watch

AlertWatch::AlertWatch(std::vector<const config::Proxy*> proxies, std::function<Sources()> sources,
                       const log::Logger& logger)
    : sources_(std::move(sources)), logger_(logger) {
  for (const auto* p : proxies)
    for (const auto& a : p->alerts) rules_.push_back(Rule{p->name, AlertState(a)});
}

AlertWatch::~AlertWatch() = default;

void AlertWatch::start(core::Loop& loop) {
  loop_ = &loop;
  timer_.set_callback([this] { tick(); });
  loop.arm(timer_, core::Millis(1000));
}

void AlertWatch::stop() {
  if (loop_) loop_->cancel(timer_);
  posts_.clear();
}

void AlertWatch::tick() {
  loop_->arm(timer_, core::Millis(1000));
  // Reap finished commands, drop finished POSTs.
  std::erase_if(children_, [](pid_t pid) {
    int st = 0;
    return ::waitpid(pid, &st, WNOHANG) != 0;
  });
  std::erase_if(posts_, [](const auto& p) { return p->done(); });
  loop_->refresh_now();
  const std::int64_t now = loop_->now_ms();
  Sources src = sources_();
  auto table = columns();
  for (Rule& r : rules_) {
    Filter f;
    f.proxy = r.backend;
    f.types = r.state.def().fn == config::AlertDef::Fn::Median ? 4 : 2;
    std::vector<Row> rows = snapshot(src, f);
    std::size_t col = table.size();
    for (std::size_t i = 0; i < table.size(); ++i)
      if (table[i].name == r.state.def().column) col = i;
    std::vector<double> values;
    if (col < table.size())
      for (const Row& row : rows)
        if (row.v[col].is == Value::Is::Num) values.push_back(static_cast<double>(row.v[col].num));
    auto change = r.state.update(now, values);
    if (change != AlertState::Change::None) act(r, change == AlertState::Change::Fired);
  }
}

void AlertWatch::act(const Rule& r, bool fired) {
  const auto& d = r.state.def();
  char v[64];
  std::snprintf(v, sizeof v, "%g", r.state.has_value() ? r.state.value() : 0.0);
  std::string msg = "alert " + d.name + " " + (fired ? "firing" : "cleared") + " on backend " +
                    r.backend + ": " + d.metric + " = " + v + " (" + d.op + " " +
                    std::to_string(d.threshold) + ")";
  if (logger_.wants(log::Level::Alert))
    logger_.send(fired ? log::Level::Alert : log::Level::Notice, msg);
  if (d.action == config::AlertDef::Action::Post) {
    auto p = std::make_unique<Post>(*loop_, logger_);
    p->start(d.target, alert_json(r.backend, r.state, fired));
    posts_.push_back(std::move(p));
    return;
  }
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "SLUICE_ALERT", 12) != 0) env.emplace_back(*e);
  for (auto& e : alert_env(r.backend, r.state, fired)) env.push_back(std::move(e));
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string cmd = d.target;
  char sh[] = "/bin/sh";
  char dash_c[] = "-c";
  char* argv[] = {sh, dash_c, cmd.data(), nullptr};
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, envp.data());
  if (rc != 0) {
    if (logger_.wants(log::Level::Warning))
      logger_.send(log::Level::Warning,
                   "alert " + d.name + ": cannot run the command: " + std::strerror(rc));
    return;
  }
  children_.push_back(pid);
}

}  // namespace sluice::stats
