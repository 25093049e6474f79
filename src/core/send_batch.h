#pragma once
// Sends of one loop turn, given to the kernel together: one io_uring_enter
// for all of them instead of one send() each.
//
// Why: on one core shared with the origin, every send() that wakes the
// origin lets it preempt the proxy on the way back to user space, so each
// request costs two context switches and the origin handles one request per
// wake-up. Sends made inside one system call wake it once; it then answers
// the whole batch in one turn of its own loop.
//
// Each send carries MSG_DONTWAIT: it completes (or fails with EAGAIN) inside
// submit(), never later, so the data only has to stay in place until
// submit() returns, and no send is ever in flight while the loop sleeps.
// Without io_uring (kernel too old, disabled by sysctl or seccomp) the batch
// is unavailable and callers send at once as before.

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace sluice::core {

class SendBatch {
 public:
  // Told the result of its send: bytes sent (possibly short) or -errno
  // (-EAGAIN: the socket buffer was full, nothing was sent).
  class Waiter {
   public:
    virtual void on_batch_sent(ssize_t result) = 0;

   protected:
    virtual ~Waiter() = default;
  };

  SendBatch();
  ~SendBatch();
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;

  // Whether sends can be batched here. The ring is made on the first call;
  // a failure disables batching for good (logged once per process).
  bool available();
  // Queue a send of iov[0..count) (count 1 or 2) on `fd`; the bytes must stay
  // in place, and `fd` open, until submit() or cancel(waiter). One send per
  // waiter at a time.
  void queue(int fd, const iovec* iov, int count, Waiter* waiter);
  // Forget `waiter`'s queued send (its connection is closing): not sent.
  void cancel(Waiter* waiter);
  bool empty() const { return live_ == 0; }
  // Send everything queued and tell each waiter its result. A waiter may
  // queue again from on_batch_sent(): that send waits for the next submit().
  void submit();
  // Sends made by submit() so far, and io_uring_enter calls (for tests).
  std::uint64_t sends() const { return sends_; }
  std::uint64_t enters() const { return enters_; }

 private:
  struct Entry {
    int fd;
    int count;
    iovec iov[2];
    Waiter* waiter;  // null: cancelled
    ssize_t result;
  };
  void give_up_ring();
  struct Ring;
  std::unique_ptr<Ring> ring_;
  bool tried_ = false;
  std::vector<Entry> queued_;
  std::vector<Entry> running_;
  std::size_t live_ = 0;
  std::uint32_t gen_ = 0;  // submit() number: a stray completion of an earlier one is ignored
  std::uint64_t sends_ = 0;
  std::uint64_t enters_ = 0;
};

}  // namespace sluice::core
