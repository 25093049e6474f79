#include "core/workers.h"

#include <pthread.h>

#include <string>

namespace sluice::core {

Workers::Workers(unsigned count) {
  if (count == 0) count = std::thread::hardware_concurrency();
  if (count == 0) count = 1;
  loops_.reserve(count);
  for (unsigned i = 0; i < count; ++i) loops_.push_back(std::make_unique<Loop>(static_cast<int>(i)));
}

Workers::~Workers() {
  stop();
  join();
}

void Workers::start(std::function<void(Loop&)> init) {
  threads_.reserve(loops_.size());
  for (auto& lp : loops_) {
    Loop* loop = lp.get();
    threads_.emplace_back([loop, init] {
      const std::string name = "sluice/" + std::to_string(loop->thread_index());
      pthread_setname_np(pthread_self(), name.c_str());
      loop->refresh_now();
      if (init) init(*loop);
      loop->run();
    });
  }
}

void Workers::stop() {
  for (auto& lp : loops_) lp->stop();
}

void Workers::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace sluice::core
