#pragma once
// A fixed set of worker threads, each running its own Loop. Threads inherit
// the creating thread's signal mask: block signals before start().

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "core/loop.h"

namespace sluice::core {

class Workers {
 public:
  // `count` 0 means one per CPU. Loops exist (and accept add/arm/post) from
  // construction; threads only from start().
  explicit Workers(unsigned count);
  ~Workers();  // stops and joins
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  unsigned size() const { return static_cast<unsigned>(loops_.size()); }
  Loop& loop(unsigned i) { return *loops_[i]; }

  // Start the threads; each runs `init(loop)` on its own thread, then
  // loop.run(). Threads are named "sluice/N".
  void start(std::function<void(Loop&)> init = {});
  // Ask every loop to stop (any thread).
  void stop();
  // Wait for every thread to end.
  void join();

 private:
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
};

}  // namespace sluice::core
