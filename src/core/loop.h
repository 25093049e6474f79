#pragma once
// One event loop per worker thread: edge-triggered epoll, a timer wheel and a
// cross-thread mailbox. Everything a session touches runs on its loop.
//
// Rules for users:
//  - register a descriptor once (add) for its whole life, remove() before close;
//  - after a short read or write, wait for the next edge; the only
//    speculative I/O is a session's first read after accept and first write
//    after connect (tcp/session.cpp, httpmode/session.cpp), which usually
//    succeed;
//  - a send queued on send_batch() leaves when the turn's events, timers and
//    tasks are done, before the loop sleeps: until its result comes, its
//    bytes stay in place and its fd open (cancel() it before closing);
//  - a socket registered with kReadEvents (writable until a write stalls)
//    must modify() it to kStreamEvents before waiting for a write edge;
//  - never destroy an IoHandler from inside on_events of a *different* handler
//    in the same batch: use defer(), which runs after the batch.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace sluice::core {

class SendBatch;
using Millis = std::chrono::milliseconds;

class IoHandler {
 public:
  virtual ~IoHandler() = default;
  // `events` is the epoll mask that fired (EPOLLIN, EPOLLOUT, EPOLLRDHUP,
  // EPOLLHUP, EPOLLERR).
  virtual void on_events(std::uint32_t events) = 0;
};

class Loop;

// A timer owned by its user; arming and cancelling never allocate. The
// callback is set once. Destroying an armed timer cancels it.
class Timer {
 public:
  Timer() = default;
  explicit Timer(std::function<void()> fn) : fn_(std::move(fn)) {}
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void set_callback(std::function<void()> fn) { fn_ = std::move(fn); }
  bool armed() const { return loop_ != nullptr; }
  std::int64_t deadline_ms() const { return deadline_; }

 private:
  friend class Loop;
  friend class TimerWheel;
  std::function<void()> fn_;
  Loop* loop_ = nullptr;
  std::int64_t deadline_ = 0;
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  std::uint32_t slot_ = 0;
  std::uint64_t seq_ = 0;  // arming order: ties on the same deadline fire in this order
};

class Loop {
 public:
  // epoll interest for a stream socket that both reads and writes.
  static constexpr std::uint32_t kStreamEvents = 0x001 | 0x004 | 0x2000 | (1U << 31);
  // EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET
  // The same without EPOLLOUT: a connected socket counts as writable until
  // a write stalls (registering EPOLLOUT up front only queues an edge that
  // wakes the loop for nothing); the owner modify()s to kStreamEvents then.
  static constexpr std::uint32_t kReadEvents = 0x001 | 0x2000 | (1U << 31);

  explicit Loop(int thread_index = 0);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  int thread_index() const;

  // Register `fd` with its handler; events default to kStreamEvents.
  bool add(int fd, IoHandler* handler, std::uint32_t events = kStreamEvents);
  bool modify(int fd, IoHandler* handler, std::uint32_t events);
  void remove(int fd);
  // Hand `fd`'s events to another handler, without a system call (the epoll
  // registration names the fd, not the handler).
  bool rehandle(int fd, IoHandler* handler);
  // Forget `fd` and close it, without epoll_ctl(DEL): closing the last
  // descriptor of a file takes it out of the epoll set, so this saves one
  // system call per connection. Only for fds that were never dup()ed.
  void close_fd(int fd);
  // The same, with the close itself made at the end of the turn together
  // with the turn's batched sends (send_batch().queue_close()): for the
  // sockets of finished connections, on the hot path. Not for a descriptor
  // that must be gone before this turn ends (a fork, a re-bind).
  void close_soon(int fd);
  // Call `fd`'s handler again with `events` after the current batch, as if
  // the edge fired again (unless the fd is removed first). For handlers that
  // stop early on an edge-triggered fd so that other sockets get a turn.
  void requeue(int fd, std::uint32_t events);

  // Arm (or re-arm) `t` to fire after `delay`; cancel disarms it.
  void arm(Timer& t, Millis delay);
  void arm_at(Timer& t, std::int64_t deadline_ms);
  void cancel(Timer& t);

  // Monotonic milliseconds, read once per loop iteration (no clock syscall
  // per request). refresh_now() forces a fresh read.
  std::int64_t now_ms() const;
  void refresh_now();
  // Number of epoll_wait calls so far: tells a handler whether it was also
  // ready in the previous batch (a level-triggered socket that stays ready).
  std::uint64_t iteration() const;

  // Sends queued here go to the kernel together, in one system call, when
  // the loop has handled everything else of this turn (core/send_batch.h).
  SendBatch& send_batch();

  // Run `fn` on this loop's thread. Safe from any thread; wakes the loop.
  void post(std::function<void()> fn);
  // Run `fn` on this thread once the current batch of events is handled.
  void defer(std::function<void()> fn);

  // Dispatch until stop(). stop() is safe from any thread; a stop() that
  // comes before run() makes run() return at once. When run() returns the
  // request is consumed, so a loop can run again.
  void run();
  void stop();
  bool stopping() const;  // stop() requested and run() not yet returned

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::core
