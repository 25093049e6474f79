#include "proxy/server_links.h"

#include "core/loop.h"

namespace sluice::proxy {

void ServerLink::attach(ServerLinks& links, int thread) {
  ServerLinkList* l = links.list(thread);
  if (l == list_) return;
  detach();
  if (l == nullptr) return;
  list_ = l;
  prev_ = nullptr;
  next_ = l->head;
  if (next_ != nullptr) next_->prev_ = this;
  l->head = this;
  ++l->size;
}

void ServerLink::detach() {
  if (list_ == nullptr) return;
  if (prev_ != nullptr)
    prev_->next_ = next_;
  else
    list_->head = next_;
  if (next_ != nullptr) next_->prev_ = prev_;
  --list_->size;
  list_ = nullptr;
  prev_ = next_ = nullptr;
}

void ServerLinks::set_loops(const std::vector<core::Loop*>& loops) {
  n_ = static_cast<unsigned>(loops.size());
  threads_ = std::make_unique<PerThread[]>(n_);
  for (unsigned i = 0; i < n_; ++i) threads_[i].loop = loops[i];
}

void ServerLinks::shutdown_all(TermCause cause) {
  for (unsigned i = 0; i < n_; ++i) {
    ServerLinkList* l = &threads_[i].list;
    threads_[i].loop->post([l, cause] { shutdown_list(*l, cause); });
  }
}

unsigned ServerLinks::shutdown_list(ServerLinkList& l, TermCause cause) {
  unsigned n = 0;
  // Each shutdown detaches its own link; bounded by the list's size so a
  // session that re-attaches at once cannot keep us here.
  for (std::uint32_t guard = l.size; l.head != nullptr && guard > 0; --guard) {
    ServerLink* k = l.head;
    k->fn_(k->owner_, cause);
    if (l.head == k) k->detach();  // the session did not: never loop on it
    ++n;
  }
  return n;
}

}  // namespace sluice::proxy
