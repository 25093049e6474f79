#pragma once
// Sessions waiting for a server slot (server maxconn reached). A queue is
// shared by all threads: a slot freed on one thread must wake the oldest
// waiter, wherever it lives. Only sessions that wait touch it, so a small
// mutex is fine; the hot path (a free slot) never takes it.

#include <atomic>
#include <cstdint>
#include <mutex>

#include "core/loop.h"

namespace sluice::proxy {

class Server;

// Who to wake when a slot is granted. Runs on the waiter's own loop.
class QueueWaiter {
 public:
  virtual ~QueueWaiter() = default;
  // `ticket` identifies the enqueue that was granted (stale ones are ignored).
  virtual void on_slot_granted(std::uint32_t ticket) = 0;
};

class PendingQueue;

// One waiting session's place in a queue. Embedded in the session; every
// field is guarded by the lock of the queue it is (or was last) in.
struct Pending {
  Pending* prev = nullptr;
  Pending* next = nullptr;
  PendingQueue* queue = nullptr;  // non-null while waiting
  // The queue whose lock guards this entry (it moves when a DOWN server's
  // waiters are redistributed; written under both locks).
  std::atomic<PendingQueue*> home{nullptr};
  Server* granted = nullptr;  // a slot on this server was reserved for us
  core::Loop* owner = nullptr;
  QueueWaiter* waiter = nullptr;
  std::uint32_t ticket = 0;
  std::int64_t enqueued_ms = 0;
  std::uint32_t position = 0;  // queue length when we entered (for logs)
};

class PendingQueue {
 public:
  std::uint32_t size() const { return size_.load(std::memory_order_seq_cst); }
  // Longest the queue has been (stats qmax); `clear counters` resets it.
  std::uint32_t max_size() const { return max_.load(std::memory_order_relaxed); }
  void clear_max() { max_.store(size(), std::memory_order_relaxed); }
  std::mutex& mutex() { return mu_; }

  // The caller holds mutex().
  void push_back_locked(Pending& p);
  Pending* pop_front_locked();
  void unlink_locked(Pending& p);

 private:
  std::mutex mu_;
  Pending* head_ = nullptr;
  Pending* tail_ = nullptr;
  std::atomic<std::uint32_t> size_{0};
  std::atomic<std::uint32_t> max_{0};
};

}  // namespace sluice::proxy
