#include "core/send_batch.h"

#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sluice::core {

namespace {

constexpr unsigned kRingEntries = 256;

// SLUICE_IO_URING=0 turns batching off (for A/B measurements, and for a
// kernel where io_uring misbehaves); anything else leaves it on.
bool allowed_by_env() {
  const char* v = std::getenv("SLUICE_IO_URING");
  return v == nullptr || std::strcmp(v, "0") != 0;
}

ssize_t send_now(int fd, const iovec* iov, int count) {
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = static_cast<std::size_t>(count);
  for (;;) {
    const ssize_t n = ::sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

void say_once(const char* what, int err) {
  static std::atomic<bool> said{false};
  if (!said.exchange(true))
    std::fprintf(stderr, "[WARNING] io_uring %s (%s): sends are not batched\n", what,
                 std::strerror(err));
}

}  // namespace

struct SendBatch::Ring {
  io_uring ring{};
  msghdr msgs[kRingEntries]{};
  std::size_t chunk[kRingEntries]{};  // the entry of each SQE of one enter
  bool can_close = false;
};

SendBatch::SendBatch() = default;

SendBatch::~SendBatch() {
  for (const Entry& e : queued_)
    if (e.count == 0) ::close(e.fd);
  if (ring_) io_uring_queue_exit(&ring_->ring);
}

bool SendBatch::available() {
  if (tried_) return ring_ != nullptr;
  tried_ = true;
  if (!allowed_by_env()) return false;
  auto r = std::make_unique<Ring>();
  // Only this loop's thread submits; completions are posted inside the
  // submitting call, so no task-work interrupts are needed; a send that
  // fails at submission does not stop the others.
  unsigned flags = 0;
#ifdef IORING_SETUP_SUBMIT_ALL
  flags |= IORING_SETUP_SUBMIT_ALL;
#endif
#ifdef IORING_SETUP_COOP_TASKRUN
  flags |= IORING_SETUP_COOP_TASKRUN;
#endif
#ifdef IORING_SETUP_SINGLE_ISSUER
  flags |= IORING_SETUP_SINGLE_ISSUER;
#endif
  int rc = io_uring_queue_init(kRingEntries, &r->ring, flags);
  if (rc < 0) {
    say_once("unavailable", -rc);
    return false;
  }
  // Closes ride along only where the kernel has IORING_OP_CLOSE (5.6).
  if (io_uring_probe* probe = io_uring_get_probe_ring(&r->ring)) {
    r->can_close = io_uring_opcode_supported(probe, IORING_OP_CLOSE) != 0;
    io_uring_free_probe(probe);
  }
  ring_ = std::move(r);
  return true;
}

void SendBatch::give_up_ring() {
  // Tearing the ring down drops whatever it still holds unsent.
  io_uring_queue_exit(&ring_->ring);
  ring_.reset();
}

void SendBatch::queue(int fd, const iovec* iov, int count, Waiter* waiter) {
  Entry e{fd, count, {}, waiter, 0};
  for (int i = 0; i < count && i < 2; ++i) e.iov[i] = iov[i];
  queued_.push_back(e);
  ++live_;
}

void SendBatch::queue_close(int fd) {
  if (!available() || !ring_->can_close) {
    ::close(fd);
    return;
  }
  queued_.push_back(Entry{fd, 0, {}, nullptr, 0});
  ++live_;
}

void SendBatch::cancel(Waiter* waiter) {
  for (Entry& e : queued_) {
    if (e.waiter == waiter) {
      e.waiter = nullptr;
      --live_;
    }
  }
  // Sent by the submit() running now: its result is no longer delivered.
  for (Entry& e : running_)
    if (e.waiter == waiter) e.waiter = nullptr;
}

void SendBatch::submit() {
  if (queued_.empty()) return;
  running_.clear();
  running_.swap(queued_);
  live_ = 0;
  ++gen_;
  std::size_t next = 0;
  while (next < running_.size()) {
    unsigned n = 0;
    if (ring_) {
      while (next < running_.size() && n < kRingEntries) {
        Entry& e = running_[next];
        if (e.waiter != nullptr || e.count == 0) {
          io_uring_sqe* sqe = io_uring_get_sqe(&ring_->ring);
          if (sqe == nullptr) break;
          if (e.count == 0) {
            io_uring_prep_close(sqe, e.fd);
          } else {
            msghdr& m = ring_->msgs[n];
            m = msghdr{};
            m.msg_iov = e.iov;
            m.msg_iovlen = static_cast<std::size_t>(e.count);
            io_uring_prep_sendmsg(sqe, e.fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
          }
          io_uring_sqe_set_data64(sqe, (static_cast<std::uint64_t>(gen_) << 32) | next);
          e.result = -EIO;  // until its completion says otherwise
          ring_->chunk[n] = next;
          ++n;
        }
        ++next;
      }
    }
    if (n == 0) {
      // No ring (given up): the rest go one by one.
      for (; next < running_.size(); ++next) {
        Entry& e = running_[next];
        if (e.waiter != nullptr) {
          e.result = send_now(e.fd, e.iov, e.count);
        } else if (e.count == 0) {
          ::close(e.fd);
          ++closes_;
        }
      }
      break;
    }
    // Wait for all n: with MSG_DONTWAIT they complete inside the call, and
    // waiting makes sure no send outlives submit() (the callers' bytes move
    // afterwards).
    unsigned done = 0;
    unsigned submitted = 0;
    int failures = 0;
    while (done < n && failures < 3) {
      io_uring_cqe* cqe = nullptr;
      int rc;
      if (submitted < n) {
        rc = io_uring_submit_and_wait(&ring_->ring, n - done);
        ++enters_;
        if (rc > 0) submitted += static_cast<unsigned>(rc);
        if (rc == 0) rc = -EAGAIN;  // took none of them: counts as a failure
      } else {
        rc = io_uring_wait_cqe(&ring_->ring, &cqe);
      }
      if (rc < 0 && rc != -EINTR) ++failures;
      while (io_uring_peek_cqe(&ring_->ring, &cqe) == 0 && cqe != nullptr) {
        const std::uint64_t tag = io_uring_cqe_get_data64(cqe);
        const std::size_t idx = static_cast<std::uint32_t>(tag);
        if ((tag >> 32) == gen_ && idx < running_.size()) {
          running_[idx].result = cqe->res;
          ++(running_[idx].count == 0 ? closes_ : sends_);
          ++done;
        }
        io_uring_cqe_seen(&ring_->ring, cqe);
      }
    }
    if (done < n) {
      // The ring keeps failing: the sends it did not complete count as
      // failed (their connections close), and batching stops here. A close
      // the kernel never took is made here; one it took is not repeated (the
      // number may already name another file).
      for (unsigned i = submitted; i < n; ++i) {
        const Entry& e = running_[ring_->chunk[i]];
        if (e.count == 0) {
          ::close(e.fd);
          ++closes_;
        }
      }
      say_once("failed", EIO);
      give_up_ring();
    }
  }
  // Results after every send went: a waiter's callback may close another
  // waiter (cancel() then drops its result) or queue the next send.
  for (std::size_t i = 0; i < running_.size(); ++i) {
    Waiter* w = running_[i].waiter;
    if (w == nullptr) continue;
    running_[i].waiter = nullptr;
    ssize_t r = running_[i].result;
    if (r == -EINTR) r = send_now(running_[i].fd, running_[i].iov, running_[i].count);
    w->on_batch_sent(r);
  }
  running_.clear();
}

}  // namespace sluice::core
