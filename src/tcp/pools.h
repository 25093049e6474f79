#pragma once
// Per-thread pools of relay buffers and splice pipes: a session borrows a
// buffer only while it holds data, so idle connections cost no buffer and
// the steady state allocates nothing.

#include <cstddef>
#include <memory>
#include <vector>

namespace sluice::tcp {

// Two sizes: the configured one (tune.bufsize) for every direction, and a
// large one that a direction switches to while it streams (its reads keep
// filling the small buffer), so bulk transfers take fewer, larger reads and
// writes. Both go back to the pool when the direction is idle.
class BufferPool {
 public:
  static constexpr std::size_t kDefaultLarge = 256 * 1024;
  explicit BufferPool(std::size_t size, std::size_t large = kDefaultLarge)
      : size_(size), large_(large > size ? large : size) {}
  std::size_t buffer_size() const { return size_; }
  std::size_t large_size() const { return large_; }
  std::unique_ptr<char[]> get();
  void put(std::unique_ptr<char[]> b);
  // A buffer of large_size().
  std::unique_ptr<char[]> get_large();
  void put_large(std::unique_ptr<char[]> b);
  std::size_t idle() const { return free_.size(); }
  std::size_t idle_large() const { return free_large_.size(); }

  // Idle large buffers kept; more are freed (a burst of streams must not
  // pin memory for ever).
  static constexpr std::size_t kMaxIdleLarge = 16;

 private:
  std::size_t size_;
  std::size_t large_;
  std::vector<std::unique_ptr<char[]>> free_;
  std::vector<std::unique_ptr<char[]>> free_large_;
};

struct Pipe {
  int rd = -1;
  int wr = -1;
  std::size_t size = 64 * 1024;  // capacity: the most one splice into it moves
  bool valid() const { return rd >= 0; }
};

class PipePool {
 public:
  // Pipes are grown to `size` bytes (F_SETPIPE_SZ) when created, so one
  // splice moves up to that much; the kernel default is 64 KiB. 0 keeps the
  // default. When the kernel refuses (pipe-max-size, per-user limits) the
  // pipe keeps its default size.
  static constexpr std::size_t kDefaultPipeSize = 256 * 1024;
  explicit PipePool(std::size_t size = kDefaultPipeSize) : size_(size) {}
  ~PipePool();
  PipePool(const PipePool&) = delete;
  PipePool& operator=(const PipePool&) = delete;
  // An empty pipe, or an invalid one when pipes cannot be created.
  Pipe get();
  // Return a pipe; `empty` false means data is left in it: close it instead.
  void put(Pipe p, bool empty);
  std::size_t idle() const { return free_.size(); }

 private:
  static constexpr std::size_t kMaxIdle = 64;
  std::size_t size_;
  std::vector<Pipe> free_;
};

void close_pipe(Pipe& p);

}  // namespace sluice::tcp
