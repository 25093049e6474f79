// Reload hand-over of idle keep-alive connections (runtime/handoff.h): the
// sending side for a soft-stopping engine, the receiving side on worker 0's
// loop for its successor.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "runtime/engine_impl.h"
#include "runtime/handoff.h"

namespace sluice::runtime {

namespace {

// Whether an adopted server connection still leads where the server now
// points (a reload may have changed its address).
bool leads_to(int fd, const config::Address& a) {
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return false;
  if (peer.ss_family != a.storage.ss_family) return false;
  if (peer.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(peer);
    const auto& y = reinterpret_cast<const sockaddr_in&>(a.storage);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (peer.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(peer);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(a.storage);
    return x.sin6_port == y.sin6_port &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  if (peer.ss_family == AF_UNIX) {
    const auto& x = reinterpret_cast<const sockaddr_un&>(peer);
    const auto& y = reinterpret_cast<const sockaddr_un&>(a.storage);
    return std::strncmp(x.sun_path, y.sun_path, sizeof x.sun_path) == 0;
  }
  return false;
}

class HandoffReader final : public core::IoHandler {
 public:
  explicit HandoffReader(EngineImpl& e) : e_(e) {}
  void on_events(std::uint32_t /*events*/) override { e_.receive_handoffs(); }

 private:
  EngineImpl& e_;
};

}  // namespace

void EngineImpl::set_handoff(int in, int out) {
  if (handoff_in_ >= 0) ::close(handoff_in_);
  if (handoff_out_ >= 0) ::close(handoff_out_);
  handoff_in_ = in;
  handoff_out_.store(out, std::memory_order_release);
}

void EngineImpl::read_successor_frontends() {
  const int out = handoff_out_.load(std::memory_order_acquire);
  if (out < 0) return;
  // The last list is our successor's: an earlier one came from a worker
  // that started on the same channel and died before it was ready.
  std::vector<std::string> names, next;
  bool got = false;
  while (handoff_read_frontends(out, next)) {
    names.swap(next);
    got = true;
  }
  if (!got) return;
  for (const auto& f : frontends_)
    if (f->def().mode == config::Mode::Http &&
        std::find(names.begin(), names.end(), f->name()) != names.end())
      handoff_frontends_.push_back(f.get());
}

bool EngineImpl::hands_over(const proxy::Frontend& fe) const {
  return std::find(handoff_frontends_.begin(), handoff_frontends_.end(), &fe) !=
         handoff_frontends_.end();
}

httpmode::HandOff EngineImpl::hand_off(const httpmode::IdleConn& c) {
  if (!handing_off() || c.fe == nullptr) return httpmode::HandOff::Never;
  if (!hands_over(*c.fe)) return httpmode::HandOff::Skip;
  HandoffMeta m;
  m.kind = HandoffKind::Client;
  m.proxy = c.fe->name();
  m.peer_len = std::min<socklen_t>(c.peer_len, sizeof c.peer);
  std::memcpy(&m.peer, &c.peer, m.peer_len);
  m.requests = c.req_index;
  return send_handoff(c.fd, m);
}

httpmode::HandOff EngineImpl::hand_off_server(const httpmode::ServerConn& c) {
  if (!handing_off() || c.server == nullptr) return httpmode::HandOff::Never;
  HandoffMeta m;
  m.kind = HandoffKind::Server;
  m.proxy = c.server->backend().name();
  m.server = c.server->name();
  return send_handoff(c.fd, m);
}

httpmode::HandOff EngineImpl::send_handoff(int fd, const HandoffMeta& m) {
  switch (handoff_send(handoff_out_.load(std::memory_order_acquire), fd, m)) {
    case HandoffSend::Sent:
      return httpmode::HandOff::Sent;
    case HandoffSend::Full:
      return httpmode::HandOff::Later;
    case HandoffSend::Broken:
      break;
  }
  if (!handoff_broken_.exchange(true, std::memory_order_acq_rel))
    logger_.send(log::Level::Warning,
                 "Reload hand-over: the new worker no longer takes connections; the remaining "
                 "keep-alive connections close after their next response.");
  return httpmode::HandOff::Never;
}

void EngineImpl::start_handoff_in(Worker& w) {
  if (handoff_in_ < 0) return;
  handoff_loop_ = &w.loop();
  // First the names of our HTTP frontends, for the old worker to choose
  // which connections to give us (runtime/handoff.h).
  std::vector<std::string> names;
  for (const auto& f : frontends_)
    if (f->def().mode == config::Mode::Http) names.push_back(f->name());
  handoff_send_frontends(handoff_in_, names);
  handoff_reader_ = std::make_unique<HandoffReader>(*this);
  if (!handoff_loop_->add(handoff_in_, handoff_reader_.get(), core::Loop::kReadEvents)) {
    ::close(handoff_in_);
    handoff_in_ = -1;
    return;
  }
  receive_handoffs();  // anything sent before we listened
}

void EngineImpl::receive_handoffs() {
  // Bounded per turn so that a flood of hand-overs cannot starve the loop;
  // the rest comes on the next turn.
  for (int budget = 256; handoff_in_ >= 0; --budget) {
    if (budget == 0) {
      handoff_loop_->requeue(handoff_in_, 0x001 /* EPOLLIN */);
      return;
    }
    int fd = -1;
    HandoffMeta m;
    const HandoffRecv r = handoff_receive(handoff_in_, fd, m);
    if (r == HandoffRecv::Empty) return;
    if (r == HandoffRecv::Invalid) continue;
    if (r == HandoffRecv::Closed) {
      // The old worker has left (or closed its end): nothing more will come.
      handoff_loop_->remove(handoff_in_);
      ::close(handoff_in_);
      handoff_in_ = -1;
      return;
    }
    if (workers_.empty()) {
      ::close(fd);
      continue;
    }
    const bool to_pool = m.kind == HandoffKind::Server;
    Worker* w =
        workers_[(to_pool ? handoff_next_server_++ : handoff_next_client_++) % workers_.size()]
            .get();
    if (to_pool) {
      // Into a thread's pool if the backend and server still exist, in HTTP
      // mode, at the same address; otherwise closed (the server sees an
      // idle connection end).
      proxy::Server* srv = nullptr;
      for (auto& be : backends_)
        if (be->name() == m.proxy && be->def().mode == config::Mode::Http)
          srv = be->find_server(m.server);
      if (srv == nullptr || !leads_to(fd, srv->addr())) {
        ::close(fd);
        continue;
      }
      if (&w->loop() == handoff_loop_) {
        w->adopt_server(fd, *srv);
      } else {
        w->loop().post([w, fd, srv] { w->adopt_server(fd, *srv); });
      }
      continue;
    }
    proxy::Frontend* fe = nullptr;
    for (auto& f : frontends_)
      if (f->name() == m.proxy && f->def().mode == config::Mode::Http) fe = f.get();
    if (fe == nullptr) {
      // Not one of the frontends we told the old worker we have (it keeps
      // those connections): a peer that did not follow the protocol. The
      // client sees its idle connection end, as after a keep-alive timeout.
      ::close(fd);
      continue;
    }
    const sockaddr_storage peer = m.peer;
    const socklen_t len = m.peer_len;
    if (&w->loop() == handoff_loop_) {
      w->adopt(fd, peer, len, *fe);
    } else {
      w->loop().post([w, fd, peer, len, fe] { w->adopt(fd, peer, len, *fe); });
    }
  }
}

}  // namespace sluice::runtime
