#pragma once
// Sends of one loop turn, given to the kernel together: one io_uring_enter
// for all of them instead of one send() each; closes of finished connections
// ride along.
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
// A queued close is made inside submit() too (a socket has no flush method,
// so io_uring closes it inline rather than on a worker thread): the closes
// of a turn cost no system call of their own.
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
  // Close `fd` in the next submit(), after the sends queued before it (one
  // io_uring_enter for a turn's sends and closes). Without a ring, at once.
  // Until then the fd stays open and in the epoll set: only for a connection
  // socket that nothing will use again (not before a fork).
  void queue_close(int fd);
  bool empty() const { return live_ == 0; }
  // Send everything queued and tell each waiter its result. A waiter may
  // queue again from on_batch_sent(): that send waits for the next submit().
  void submit();
  // Sends and closes made by submit() so far, and io_uring_enter calls (for
  // tests).
  std::uint64_t sends() const { return sends_; }
  std::uint64_t closes() const { return closes_; }
  std::uint64_t enters() const { return enters_; }

 private:
  struct Entry {
    int fd;
    int count;  // 0: a close
    iovec iov[2];
    Waiter* waiter;  // null: cancelled (or a close)
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
  std::uint64_t closes_ = 0;
  std::uint64_t enters_ = 0;
};

}  // namespace sluice::core
