#pragma once
// `alert` rules (config::AlertDef): thresholds on a backend's own stats,
// evaluated once a second on one worker loop. A rule fires once when its
// condition becomes true and clears once when it becomes false; its action
// (a command, or a JSON POST) runs without blocking the loop.

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "core/loop.h"
#include "log/logger.h"
#include "stats/snapshot.h"

namespace sluice::stats {

// One rule's samples and state; pure, for tests.
class AlertState {
 public:
  enum class Change { None, Fired, Cleared };
  explicit AlertState(const config::AlertDef& def) : def_(&def) {}
  // The samples of one evaluation at `now_ms`: the backend row's value of
  // the column (Value, Rate) or every server's (Median).
  Change update(std::int64_t now_ms, const std::vector<double>& values);
  bool firing() const { return firing_; }
  bool has_value() const { return has_value_; }
  double value() const { return value_; }
  const config::AlertDef& def() const { return *def_; }

 private:
  const config::AlertDef* def_;
  std::deque<std::pair<std::int64_t, double>> samples_;
  bool firing_ = false;
  bool has_value_ = false;
  double value_ = 0;
};

bool alert_compare(double v, const std::string& op, double threshold);

// The JSON body of a POST and the environment of a command.
std::string alert_json(const std::string& backend, const AlertState& a, bool fired);
std::vector<std::string> alert_env(const std::string& backend, const AlertState& a, bool fired);

class AlertWatch {
 public:
  AlertWatch(std::vector<const config::Proxy*> proxies, std::function<Sources()> sources,
             const log::Logger& logger);
  ~AlertWatch();
  bool empty() const { return rules_.empty(); }
  void start(core::Loop& loop);
  void stop();

 private:
  struct Rule {
    std::string backend;
    AlertState state;
  };
  class Post;
  void tick();
  void act(const Rule& r, bool fired);

  std::vector<Rule> rules_;
  std::function<Sources()> sources_;
  const log::Logger& logger_;
  core::Loop* loop_ = nullptr;
  core::Timer timer_;
  std::vector<pid_t> children_;
  std::vector<std::unique_ptr<Post>> posts_;
};

}  // namespace sluice::stats
