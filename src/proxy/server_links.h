#pragma once
// The sessions attached to a server, one intrusive list per worker thread,
// so that "close every session of this server" (on-marked-down
// shutdown-sessions, on-marked-up shutdown-backup-sessions, the stats
// socket's `shutdown sessions server`) reaches them on their own threads.
// A list is touched only by its own thread; linking and unlinking are a few
// pointer writes, no lock, no allocation.

#include <cstdint>
#include <memory>
#include <vector>

#include "proxy/termination.h"

namespace sluice::core {
class Loop;
}

namespace sluice::proxy {

class ServerLinks;
struct ServerLinkList;

// Embedded in a session. `fn(owner, cause)` closes the session; it runs on
// the session's own thread and must end with the session detached.
class ServerLink {
 public:
  using ShutdownFn = void (*)(void* owner, TermCause cause);

  ServerLink(void* owner, ShutdownFn fn) : owner_(owner), fn_(fn) {}
  ~ServerLink() { detach(); }
  ServerLink(const ServerLink&) = delete;
  ServerLink& operator=(const ServerLink&) = delete;

  // Join `links`' list of thread `thread` (the caller's loop index); leaves
  // any list it was on first. Does nothing when `links` has no loops.
  void attach(ServerLinks& links, int thread);
  void detach();
  bool attached() const { return list_ != nullptr; }

 private:
  friend class ServerLinks;
  void* owner_;
  ShutdownFn fn_;
  ServerLinkList* list_ = nullptr;
  ServerLink* prev_ = nullptr;
  ServerLink* next_ = nullptr;
};

struct ServerLinkList {
  ServerLink* head = nullptr;
  std::uint32_t size = 0;
};

class ServerLinks {
 public:
  // The worker loops, indexed by thread; set once before they run.
  void set_loops(const std::vector<core::Loop*>& loops);
  ServerLinkList* list(int thread) {
    return thread >= 0 && static_cast<unsigned>(thread) < n_ ? &threads_[thread].list : nullptr;
  }
  // From any thread: every thread closes the sessions attached there, with
  // `cause` as their termination code ('D' down, 'U' up, 'K' killed).
  void shutdown_all(TermCause cause);
  // On the list's own thread: close every session on it. Returns how many.
  static unsigned shutdown_list(ServerLinkList& l, TermCause cause);

 private:
  struct PerThread {
    core::Loop* loop = nullptr;
    ServerLinkList list;
  };
  std::unique_ptr<PerThread[]> threads_;
  unsigned n_ = 0;
};

}  // namespace sluice::proxy
