#include "proxy/queue.h"

namespace sluice::proxy {

void PendingQueue::push_back_locked(Pending& p) {
  p.prev = tail_;
  p.next = nullptr;
  if (tail_ != nullptr)
    tail_->next = &p;
  else
    head_ = &p;
  tail_ = &p;
  p.queue = this;
  const std::uint32_t now = size_.fetch_add(1, std::memory_order_seq_cst) + 1;
  std::uint32_t m = max_.load(std::memory_order_relaxed);
  while (now > m && !max_.compare_exchange_weak(m, now, std::memory_order_relaxed)) {
  }
}

Pending* PendingQueue::pop_front_locked() {
  Pending* p = head_;
  if (p != nullptr) unlink_locked(*p);
  return p;
}

void PendingQueue::unlink_locked(Pending& p) {
  if (p.prev != nullptr)
    p.prev->next = p.next;
  else
    head_ = p.next;
  if (p.next != nullptr)
    p.next->prev = p.prev;
  else
    tail_ = p.prev;
  p.prev = p.next = nullptr;
  p.queue = nullptr;
  size_.fetch_sub(1, std::memory_order_seq_cst);
}

}  // namespace sluice::proxy
