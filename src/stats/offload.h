#pragma once
// The stats thread: large stats outputs (`show stat`, the Prometheus page,
// the stats page, expvar: with 1,000 servers, milliseconds of snapshot and
// rendering) are built here rather than on the worker loop that received
// the request, so that the loop's proxied connections do not wait behind a
// scrape. One thread for the process, started by the first job, at a lower
// priority than the workers (SCHED_IDLE; nice 10 and SCHED_BATCH where the
// idle class is refused): a waking worker preempts it at once, and under
// load traffic wins the CPU and scrapes take longer.
//
// A job reads the runtime objects as a stats page on another worker always
// has: their atomics, and the few locks they keep (check info, overrides).
// The answer goes back to the requesting loop with Loop::post.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/loop.h"

namespace sluice::stats {

struct OffloadTask;

// A requester's handle on its job. cancel() (or destroying the ticket), on
// the requesting loop's thread, means `done` will never be called: the
// answer, if it comes, is dropped and freed there. The job itself may still
// be running (Offload::drain() waits for it).
class OffloadTicket {
 public:
  OffloadTicket() = default;
  ~OffloadTicket() { cancel(); }
  OffloadTicket(OffloadTicket&& o) noexcept : task_(std::move(o.task_)) {}
  OffloadTicket& operator=(OffloadTicket&& o) noexcept {
    if (this != &o) {
      cancel();
      task_ = std::move(o.task_);
    }
    return *this;
  }
  OffloadTicket(const OffloadTicket&) = delete;
  OffloadTicket& operator=(const OffloadTicket&) = delete;

  void cancel();
  bool pending() const { return task_ != nullptr; }

 private:
  friend class Offload;
  explicit OffloadTicket(std::shared_ptr<OffloadTask> t) : task_(std::move(t)) {}
  std::shared_ptr<OffloadTask> task_;
};

class Offload {
 public:
  Offload() = default;
  ~Offload();  // drops the jobs not started, waits for the running one
  Offload(const Offload&) = delete;
  Offload& operator=(const Offload&) = delete;

  // The process's stats thread.
  static Offload& shared();

  // Runs `job` on the stats thread, then `done` on `home`'s thread unless
  // the ticket was cancelled (or destroyed) before. `home` must outlive
  // the ticket.
  OffloadTicket submit(core::Loop& home, std::function<void()> job, std::function<void()> done);

  // The same, handing the job's result to `done`.
  template <class Job, class Done>
  OffloadTicket submit_for(core::Loop& home, Job job, Done done) {
    using T = std::invoke_result_t<Job&>;
    auto slot = std::make_shared<std::optional<T>>();
    return submit(
        home, [slot, job = std::move(job)]() mutable { slot->emplace(job()); },
        [slot, done = std::move(done)]() mutable { done(std::move(**slot)); });
  }

  // Frees `big` on the stats thread: a scrape's answer (up to 13 MB) costs
  // its loop a millisecond of unmapping otherwise.
  void dispose(std::string big);
  // Empties an answer that has been sent: a large one (over 64 KiB) goes
  // back to the stats thread (kept as a spare, else freed there), a small
  // one keeps its memory for the next.
  void release(std::string& answer);
  // On the stats thread only (inside a job): an empty string with the
  // capacity of a released answer if one is spare, so that the next large
  // answer is written into memory already mapped (no page faults, no
  // zeroing of fresh pages: a 5 MB answer costs ~2 ms of both otherwise).
  // Spares are freed after kSpareIdle without a job.
  std::string take_spare();
  static constexpr std::size_t kMaxSpares = 2;
  static constexpr std::chrono::seconds kSpareIdle{30};

  // Bytes of a stats answer a loop sends per turn: a 13 MB dump goes out in
  // slices between the loop's other events, not in one long stretch. A
  // loopback send costs the loop the receiver's side too (~5 us per 16 KiB
  // here): a request that arrives during a slice waits that long.
  static constexpr std::size_t kSendSlice = 16 * 1024;
  // Called by a loop between two slices of a large answer. Sending one keeps
  // the loop busy for milliseconds without sleeping, and a task it wakes on
  // the same core (the origin server a request was just sent to) would then
  // wait for the end of the loop's time slice (the scheduler lets the
  // running task reach its fair share first). Yielding here lets it run now;
  // with nothing else runnable it costs one system call. Not while the stats
  // thread has work: it could take the CPU, and a yielding loop (runnable,
  // not woken) would not preempt it until the next tick.
  static void yield_between_slices();

  // Waits until no job is queued or running (cancelled ones are dropped):
  // before the runtime objects that jobs read are destroyed.
  void drain();

  // Jobs run so far (tests).
  std::uint64_t jobs_run() const;

 private:
  void run();
  void start_locked();
  // Queues `t` (starting the thread if needed) and wakes the thread.
  void enqueue(std::shared_ptr<OffloadTask> t);

  mutable std::mutex mu_;
  std::condition_variable cv_;       // new work, or stop
  std::condition_variable idle_cv_;  // queue empty and nothing running
  std::deque<std::shared_ptr<OffloadTask>> queue_;
  bool running_job_ = false;
  std::atomic<unsigned> unfinished_{0};  // jobs queued or running
  bool stop_ = false;
  std::uint64_t jobs_run_ = 0;
  std::thread thread_;
  std::vector<std::string> spares_;  // stats thread only
};

}  // namespace sluice::stats
