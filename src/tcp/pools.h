#pragma once
// Per-thread pools of relay buffers and splice pipes: a session borrows a
// buffer only while it holds data, so idle connections cost no buffer and
// the steady state allocates nothing.

#include <cstddef>
#include <memory>
#include <vector>

namespace sluice::tcp {

class BufferPool {
 public:
  explicit BufferPool(std::size_t size) : size_(size) {}
  std::size_t buffer_size() const { return size_; }
  std::unique_ptr<char[]> get();
  void put(std::unique_ptr<char[]> b);
  std::size_t idle() const { return free_.size(); }

 private:
  std::size_t size_;
  std::vector<std::unique_ptr<char[]>> free_;
};

struct Pipe {
  int rd = -1;
  int wr = -1;
  bool valid() const { return rd >= 0; }
};

class PipePool {
 public:
  PipePool() = default;
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
  std::vector<Pipe> free_;
};

void close_pipe(Pipe& p);

}  // namespace sluice::tcp
