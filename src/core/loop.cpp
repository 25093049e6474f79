#include "core/loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <mutex>
#include <utility>
#include <vector>

#include "core/send_batch.h"
#include "core/timer_wheel.h"

namespace sluice::core {

namespace {

std::int64_t monotonic_ms() {
  timespec ts{};
  // CLOCK_MONOTONIC is served by the vDSO: no system call.
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

static_assert(Loop::kStreamEvents == (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET));
static_assert(Loop::kReadEvents == (EPOLLIN | EPOLLRDHUP | EPOLLET));

constexpr std::uint64_t kWakeToken = ~0ULL;
constexpr int kMaxEvents = 256;

}  // namespace

struct Loop::Impl {
  explicit Impl(int index) : thread_index(index), now(monotonic_ms()), wheel(now) {}

  struct FdEntry {
    IoHandler* handler = nullptr;
    std::uint32_t gen = 0;
  };
  struct Requeued {
    std::uint64_t token;
    std::uint32_t events;
  };

  static std::uint64_t token(int fd, std::uint32_t gen) {
    return (static_cast<std::uint64_t>(gen) << 32) | static_cast<std::uint32_t>(fd);
  }
  FdEntry* entry(int fd) {
    if (fd < 0 || static_cast<std::size_t>(fd) >= fds.size()) return nullptr;
    return &fds[static_cast<std::size_t>(fd)];
  }
  // The handler for an epoll token, or null when the fd was removed (or
  // removed and reused) since the event was queued.
  IoHandler* lookup(std::uint64_t tok) {
    FdEntry* e = entry(static_cast<int>(static_cast<std::uint32_t>(tok)));
    if (!e || e->gen != static_cast<std::uint32_t>(tok >> 32)) return nullptr;
    return e->handler;
  }

  void wake() {
    const std::uint64_t one = 1;
    ssize_t r = ::write(evfd, &one, sizeof one);
    (void)r;  // EAGAIN means the counter is already non-zero: the loop will wake
  }

  void run_deferred() {
    // Callbacks deferred by deferred callbacks run in the same pass, so
    // destruction chains finish before the next epoll_wait.
    while (!deferred.empty()) {
      deferred.swap(deferred_run);
      for (auto& fn : deferred_run) fn();
      deferred_run.clear();
    }
  }

  void run_requeued() {
    if (requeued.empty()) return;
    requeued.swap(requeued_run);
    for (const Requeued& r : requeued_run) {
      if (IoHandler* h = lookup(r.token)) h->on_events(r.events);
    }
    requeued_run.clear();
  }

  void drain_posts() {
    if (!has_posts.load(std::memory_order_acquire)) return;
    {
      std::lock_guard lock(mu);
      posts.swap(posts_run);
      has_posts.store(false, std::memory_order_relaxed);
    }
    for (auto& fn : posts_run) fn();
    posts_run.clear();
  }

  void fire_timers() {
    wheel.advance(now);
    while (Timer* t = wheel.pop_due()) {
      t->loop_ = nullptr;
      if (t->fn_) t->fn_();  // may re-arm, cancel or destroy any timer, itself included
    }
  }

  // Queued sends go before the loop sleeps; their results may queue more
  // (bounded: whatever is left then goes at the end of the next turn, and
  // the loop does not sleep in between).
  void flush_sends() {
    for (int i = 0; i < 4 && !sends.empty(); ++i) {
      sends.submit();
      run_deferred();
    }
  }

  int timeout() const {
    if (!deferred.empty() || !requeued.empty() || !sends.empty()) return 0;
    const std::int64_t next = wheel.next_expiry();
    if (next < 0) return -1;
    const std::int64_t delta = next - now;
    if (delta <= 0) return 0;
    return delta > INT_MAX ? INT_MAX : static_cast<int>(delta);
  }

  int thread_index;
  int epfd = -1;
  int evfd = -1;
  std::int64_t now;
  std::uint64_t iteration = 0;
  TimerWheel wheel;
  std::uint64_t seq = 0;
  std::uint32_t next_gen = 1;
  std::vector<FdEntry> fds;
  std::vector<std::function<void()>> deferred, deferred_run;
  std::vector<Requeued> requeued, requeued_run;
  std::array<epoll_event, kMaxEvents> events{};
  SendBatch sends;

  std::mutex mu;
  std::vector<std::function<void()>> posts, posts_run;
  std::atomic<bool> has_posts{false};
  std::atomic<bool> sleeping{false};
  std::atomic<bool> notified{false};
  std::atomic<bool> stop_requested{false};
};

Timer::~Timer() {
  if (loop_) loop_->cancel(*this);
}

Loop::Loop(int thread_index) : impl_(std::make_unique<Impl>(thread_index)) {
  impl_->epfd = epoll_create1(EPOLL_CLOEXEC);
  impl_->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = kWakeToken;
  epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, impl_->evfd, &ev);
  impl_->fds.resize(1024);
}

Loop::~Loop() {
  impl_->wheel.clear();
  if (impl_->evfd >= 0) ::close(impl_->evfd);
  if (impl_->epfd >= 0) ::close(impl_->epfd);
}

int Loop::thread_index() const { return impl_->thread_index; }

bool Loop::add(int fd, IoHandler* handler, std::uint32_t events) {
  if (fd < 0 || !handler) return false;
  auto& fds = impl_->fds;
  if (static_cast<std::size_t>(fd) >= fds.size())
    fds.resize(std::max<std::size_t>(static_cast<std::size_t>(fd) + 1, fds.size() * 2));
  Impl::FdEntry& e = fds[static_cast<std::size_t>(fd)];
  e.handler = handler;
  e.gen = impl_->next_gen++;
  if (impl_->next_gen == 0) impl_->next_gen = 1;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = Impl::token(fd, e.gen);
  if (epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    e = {};
    return false;
  }
  return true;
}

bool Loop::modify(int fd, IoHandler* handler, std::uint32_t events) {
  Impl::FdEntry* e = impl_->entry(fd);
  if (!e || !e->handler || !handler) return false;
  e->handler = handler;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = Impl::token(fd, e->gen);
  return epoll_ctl(impl_->epfd, EPOLL_CTL_MOD, fd, &ev) == 0;
}

bool Loop::rehandle(int fd, IoHandler* handler) {
  Impl::FdEntry* e = impl_->entry(fd);
  if (!e || !e->handler || !handler) return false;
  e->handler = handler;
  return true;
}

void Loop::remove(int fd) {
  Impl::FdEntry* e = impl_->entry(fd);
  if (!e || !e->handler) return;
  *e = {};
  epoll_ctl(impl_->epfd, EPOLL_CTL_DEL, fd, nullptr);
}

void Loop::close_fd(int fd) {
  if (fd < 0) return;
  if (Impl::FdEntry* e = impl_->entry(fd)) *e = {};
  // Closing the last descriptor of a file removes it from the epoll set.
  ::close(fd);
}

void Loop::close_soon(int fd) {
  if (fd < 0) return;
  if (Impl::FdEntry* e = impl_->entry(fd)) *e = {};
  impl_->sends.queue_close(fd);
}

void Loop::requeue(int fd, std::uint32_t events) {
  Impl::FdEntry* e = impl_->entry(fd);
  if (!e || !e->handler) return;
  impl_->requeued.push_back({Impl::token(fd, e->gen), events});
}

void Loop::arm(Timer& t, Millis delay) {
  const std::int64_t d = delay.count() < 0 ? 0 : static_cast<std::int64_t>(delay.count());
  arm_at(t, impl_->now + d);
}

void Loop::arm_at(Timer& t, std::int64_t deadline_ms) {
  if (t.loop_) t.loop_->cancel(t);
  t.loop_ = this;
  impl_->wheel.schedule(t, deadline_ms, ++impl_->seq);
}

void Loop::cancel(Timer& t) {
  if (!t.loop_) return;
  if (t.loop_ != this) {
    t.loop_->cancel(t);
    return;
  }
  impl_->wheel.unlink(t);
  t.loop_ = nullptr;
}

std::int64_t Loop::now_ms() const { return impl_->now; }

void Loop::refresh_now() { impl_->now = monotonic_ms(); }

std::uint64_t Loop::iteration() const { return impl_->iteration; }

void Loop::post(std::function<void()> fn) {
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.mu);
    im.posts.push_back(std::move(fn));
    im.has_posts.store(true, std::memory_order_seq_cst);
  }
  // Only a loop that is (about to be) in epoll_wait needs the eventfd; one
  // write per sleep is enough.
  if (im.sleeping.load(std::memory_order_seq_cst) &&
      !im.notified.exchange(true, std::memory_order_acq_rel)) {
    im.wake();
  }
}

SendBatch& Loop::send_batch() {
  return impl_->sends;
}

void Loop::defer(std::function<void()> fn) { impl_->deferred.push_back(std::move(fn)); }

void Loop::run() {
  Impl& im = *impl_;
  while (!im.stop_requested.load(std::memory_order_acquire)) {
    im.flush_sends();
    int timeout = im.timeout();
    im.sleeping.store(true, std::memory_order_seq_cst);
    if (im.has_posts.load(std::memory_order_seq_cst) ||
        im.stop_requested.load(std::memory_order_seq_cst))
      timeout = 0;
    const int n = epoll_wait(im.epfd, im.events.data(), kMaxEvents, timeout);
    ++im.iteration;
    im.sleeping.store(false, std::memory_order_relaxed);
    im.now = monotonic_ms();

    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = im.events[static_cast<std::size_t>(i)];
      if (ev.data.u64 == kWakeToken) {
        std::uint64_t v;
        ssize_t r = ::read(im.evfd, &v, sizeof v);
        (void)r;
        im.notified.store(false, std::memory_order_release);
        continue;
      }
      if (IoHandler* h = im.lookup(ev.data.u64)) h->on_events(ev.events);
    }
    im.run_deferred();
    im.run_requeued();
    im.run_deferred();
    im.drain_posts();
    im.run_deferred();
    im.fire_timers();
    im.run_deferred();
  }
  // The stop request is consumed: run() may be called again.
  im.stop_requested.store(false, std::memory_order_release);
}

void Loop::stop() {
  impl_->stop_requested.store(true, std::memory_order_seq_cst);
  impl_->wake();
}

bool Loop::stopping() const { return impl_->stop_requested.load(std::memory_order_acquire); }

}  // namespace sluice::core
