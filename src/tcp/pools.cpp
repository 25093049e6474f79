#include "tcp/pools.h"

#include <fcntl.h>
#include <unistd.h>

namespace sluice::tcp {

std::unique_ptr<char[]> BufferPool::get() {
  if (free_.empty()) return std::make_unique_for_overwrite<char[]>(size_);
  auto b = std::move(free_.back());
  free_.pop_back();
  return b;
}

void BufferPool::put(std::unique_ptr<char[]> b) {
  if (b) free_.push_back(std::move(b));
}

std::unique_ptr<char[]> BufferPool::get_large() {
  if (free_large_.empty()) return std::make_unique_for_overwrite<char[]>(large_);
  auto b = std::move(free_large_.back());
  free_large_.pop_back();
  return b;
}

void BufferPool::put_large(std::unique_ptr<char[]> b) {
  if (b && free_large_.size() < kMaxIdleLarge) free_large_.push_back(std::move(b));
}

void close_pipe(Pipe& p) {
  if (p.rd >= 0) ::close(p.rd);
  if (p.wr >= 0) ::close(p.wr);
  p.rd = p.wr = -1;
}

PipePool::~PipePool() {
  for (auto& p : free_) close_pipe(p);
}

Pipe PipePool::get() {
  if (!free_.empty()) {
    Pipe p = free_.back();
    free_.pop_back();
    return p;
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return {};
  Pipe p{fds[0], fds[1]};
  if (size_ > 0) {
    const int got = ::fcntl(p.wr, F_SETPIPE_SZ, static_cast<int>(size_));
    if (got > 0) p.size = static_cast<std::size_t>(got);
  }
  return p;
}

void PipePool::put(Pipe p, bool empty) {
  if (!p.valid()) return;
  if (!empty || free_.size() >= kMaxIdle) {
    close_pipe(p);
    return;
  }
  free_.push_back(p);
}

}  // namespace sluice::tcp
