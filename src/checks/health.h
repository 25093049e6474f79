#pragma once
// The rise/fall health counter, exactly as HAProxy keeps it: health runs
// 0..rise+fall-1, the server is UP while health >= rise. A checked server
// starts UP at health == rise, so the first failed check takes it down.

#include <chrono>

namespace sluice::checks {

enum class HealthChange { None, WentUp, WentDown };

class Health {
 public:
  Health(unsigned rise, unsigned fall)
      : rise_(rise ? rise : 1), fall_(fall ? fall : 1), health_(rise_), up_(true) {}

  HealthChange on_result(bool passed) {
    if (passed) {
      if (health_ < rise_ + fall_ - 1) {
        ++health_;
        if (health_ == rise_ && !up_) {
          up_ = true;
          health_ = rise_ + fall_ - 1;
          return HealthChange::WentUp;
        }
      }
      if (health_ >= rise_) health_ = rise_ + fall_ - 1;
      return HealthChange::None;
    }
    if (health_ > rise_) {
      --health_;
      return HealthChange::None;
    }
    health_ = 0;
    if (up_) {
      up_ = false;
      return HealthChange::WentDown;
    }
    return HealthChange::None;
  }

  // Force a state (admin actions, tests).
  void set_up(bool up) {
    up_ = up;
    health_ = up ? rise_ + fall_ - 1 : 0;
  }

  // Set the counter alone (passive health: "sudden-death", "mark-down").
  void set_health(unsigned h) { health_ = h < rise_ + fall_ ? h : rise_ + fall_ - 1; }

  bool up() const { return up_; }
  unsigned health() const { return health_; }
  unsigned rise() const { return rise_; }
  unsigned fall() const { return fall_; }
  // Fully up or fully down: "inter"/"downinter"; else transitional: "fastinter".
  bool steady_up() const { return up_ && health_ == rise_ + fall_ - 1; }
  bool steady_down() const { return !up_ && health_ == 0; }

  // The interval before the next check, per the manual's table.
  std::chrono::milliseconds interval(std::chrono::milliseconds inter,
                                     std::chrono::milliseconds fastinter,
                                     std::chrono::milliseconds downinter) const {
    if (steady_up()) return inter;
    if (steady_down()) return downinter;
    return fastinter;
  }

 private:
  unsigned rise_, fall_;
  unsigned health_;
  bool up_;
};

}  // namespace sluice::checks
