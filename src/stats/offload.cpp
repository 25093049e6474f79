#include "stats/offload.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace sluice::stats {

// One job: shared by the queue, the answer posted to its loop and the ticket.
struct OffloadTask {
  core::Loop* home = nullptr;
  std::function<void()> job;   // stats thread
  std::function<void()> done;  // home's thread
  // Set on home's thread by cancel(). `mu` orders it with the post of the
  // answer: once cancel() returns, the stats thread will not touch `home`.
  std::mutex mu;
  bool cancelled = false;
};

void OffloadTicket::cancel() {
  if (!task_) return;
  std::function<void()> done;  // destroyed here, on the requester's thread
  {
    std::lock_guard<std::mutex> g(task_->mu);
    task_->cancelled = true;
    done = std::move(task_->done);
  }
  task_.reset();
}

Offload& Offload::shared() {
  static Offload o;
  return o;
}

Offload::~Offload() {
  std::unique_lock<std::mutex> g(mu_);
  stop_ = true;
  queue_.clear();
  cv_.notify_all();
  g.unlock();
  if (thread_.joinable()) thread_.join();
}

void Offload::start_locked() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    // Below the workers: a scrape yields the CPU to proxied traffic. The
    // thread runs where the process may (a worker pinned by cpu-map started
    // it and passed its own CPU on), in the idle class: a worker that wakes
    // up on its CPU preempts it at once, and it runs on time no worker
    // wants (on a saturated CPU it still gets a small share, so scrapes
    // end). Where SCHED_IDLE is refused, nice 10 in the batch class.
    // Failures only cost priority.
    cpu_set_t cpus;
    if (::sched_getaffinity(::getpid(), sizeof cpus, &cpus) == 0)
      (void)::pthread_setaffinity_np(::pthread_self(), sizeof cpus, &cpus);
    sched_param sp{};
    if (::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &sp) != 0) {
      (void)::pthread_setschedparam(::pthread_self(), SCHED_BATCH, &sp);
      (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
    }
    (void)::pthread_setname_np(::pthread_self(), "sluice-stats");
    run();
  });
}

OffloadTicket Offload::submit(core::Loop& home, std::function<void()> job,
                              std::function<void()> done) {
  auto t = std::make_shared<OffloadTask>();
  t->home = &home;
  t->job = std::move(job);
  t->done = std::move(done);
  enqueue(t);
  return OffloadTicket(std::move(t));
}

void Offload::enqueue(std::shared_ptr<OffloadTask> t) {
  {
    std::lock_guard<std::mutex> g(mu_);
    start_locked();
    queue_.push_back(std::move(t));
    unfinished_.fetch_add(1, std::memory_order_relaxed);
  }
  cv_.notify_one();
}

void Offload::dispose(std::string big) {
  auto t = std::make_shared<OffloadTask>();
  t->job = [s = std::move(big)] {};
  t->cancelled = true;  // nothing to run, nobody to answer: only freed there
  enqueue(std::move(t));
}

void Offload::yield_between_slices() {
  if (shared().unfinished_.load(std::memory_order_relaxed) == 0) ::sched_yield();
}

void Offload::release(std::string& answer) {
  if (answer.capacity() <= 65536) {
    answer.clear();
    return;
  }
  auto t = std::make_shared<OffloadTask>();
  t->job = [this, s = std::move(answer)]() mutable {
    if (spares_.size() < kMaxSpares) spares_.push_back(std::move(s));
  };
  answer.clear();
  enqueue(std::move(t));  // housekeeping: no home, no answer
}

std::string Offload::take_spare() {
  if (spares_.empty()) return {};
  std::string s = std::move(spares_.back());
  spares_.pop_back();
  s.clear();
  return s;
}

void Offload::run() {
  std::unique_lock<std::mutex> g(mu_);
  for (;;) {
    if (spares_.empty()) {
      cv_.wait(g, [this] { return stop_ || !queue_.empty(); });
    } else if (!cv_.wait_for(g, kSpareIdle, [this] { return stop_ || !queue_.empty(); })) {
      // No scrape for a while: give the spare answers' memory back.
      std::vector<std::string> old;
      old.swap(spares_);
      g.unlock();
      old.clear();
      g.lock();
      continue;
    }
    if (stop_) break;
    std::shared_ptr<OffloadTask> t = std::move(queue_.front());
    queue_.pop_front();
    running_job_ = true;
    g.unlock();
    bool cancelled;
    const bool housekeeping = t->home == nullptr;
    {
      std::lock_guard<std::mutex> tg(t->mu);
      cancelled = t->cancelled;
    }
    bool failed = false;
    if (!cancelled) {
      try {
        t->job();
      } catch (...) {
        failed = true;  // no answer: the requester's timeout ends its wait
      }
    }
    t->job = nullptr;  // what it captured is freed here, not on the loop
    {
      std::lock_guard<std::mutex> tg(t->mu);
      if (!t->cancelled && !failed && !housekeeping) {
        // The closure keeps the task (and its answer) alive: freed when it
        // runs, or with the loop's mailbox if the loop ends first.
        t->home->post([t] {
          std::function<void()> done;
          {
            std::lock_guard<std::mutex> dg(t->mu);
            if (!t->cancelled) done = std::move(t->done);
          }
          if (done) done();
        });
      }
    }
    t.reset();
    g.lock();
    running_job_ = false;
    unfinished_.fetch_sub(1, std::memory_order_relaxed);
    if (!cancelled && !housekeeping) ++jobs_run_;
    if (queue_.empty()) idle_cv_.notify_all();
  }
  running_job_ = false;
  idle_cv_.notify_all();
}

void Offload::drain() {
  std::unique_lock<std::mutex> g(mu_);
  idle_cv_.wait(g, [this] { return (queue_.empty() && !running_job_) || !thread_.joinable(); });
}

std::uint64_t Offload::jobs_run() const {
  std::lock_guard<std::mutex> g(mu_);
  return jobs_run_;
}

}  // namespace sluice::stats
