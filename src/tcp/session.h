#pragma once
// One client connection in TCP mode, owned by one worker thread, through
// its named phases: accept -> route -> pick server (or queue) -> connect
// (retries, redispatch) -> relay (half-close, timeouts, splice) -> log.

#include <sys/socket.h>
#include <sys/time.h>

#include <cstdint>
#include <memory>

#include "acl/sample.h"
#include "checks/outgoing.h"
#include "core/loop.h"
#include "core/send_batch.h"
#include "proxy/backend.h"
#include "proxy/balancer.h"
#include "proxy/frontend.h"
#include "proxy/queue.h"
#include "proxy/termination.h"
#include "tcp/pools.h"

namespace sluice::tcp {

class TcpSession;

// What a session needs from the thread that owns it.
class SessionHost {
 public:
  virtual ~SessionHost() = default;
  virtual core::Loop& loop() = 0;
  virtual BufferPool& buffers() = 0;
  virtual PipePool& pipes() = 0;
  virtual proxy::ThreadBalancer& balancer(proxy::Backend& be) = 0;
  // Global current connections (the %ac log field).
  virtual unsigned active_connections() const = 0;
  // The session is over (fds closed, logged): release its frontend and
  // global slots and take it back (not before the current event batch ends).
  virtual void session_done(TcpSession& s) = 0;
};

class TcpSession final : public proxy::QueueWaiter,
                         public acl::SampleSource,
                         public core::SendBatch::Waiter {
 public:
  enum class State { Idle, Queued, TurnAround, Connecting, Relay, Closed };

  explicit TcpSession(SessionHost& host);
  ~TcpSession() override;
  TcpSession(const TcpSession&) = delete;
  TcpSession& operator=(const TcpSession&) = delete;

  // Take ownership of an accepted client fd and run the session.
  void start(int fd, const sockaddr_storage& peer, socklen_t peer_len, proxy::Frontend& fe);
  // Close now without logging (hard stop).
  void kill();
  // One `show sess` line (runtime API; session_stats.cpp).
  void describe(std::string& out, std::int64_t now_ms) const;

  State state() const { return state_; }
  bool active() const { return state_ != State::Idle && state_ != State::Closed; }
  proxy::Frontend* frontend() const { return fe_; }
  const proxy::Termination& termination() const { return term_; }

  void on_slot_granted(std::uint32_t ticket) override;

  // acl::SampleSource: what use_backend conditions can ask about.
  const sockaddr_storage* source() const override;
  const sockaddr_storage* destination() const override;
  std::optional<std::int64_t> frontend_conns(const acl::ProxyRef& r) const override;
  std::optional<std::int64_t> backend_conns(const acl::ProxyRef& r) const override;
  std::optional<std::int64_t> usable_servers(const acl::ProxyRef& r) const override;
  std::optional<std::int64_t> server_conns(const acl::ServerRef& r) const override;
  std::optional<bool> server_is_up(const acl::ServerRef& r) const override;
  std::optional<std::int64_t> frontend_id() const override;
  std::optional<std::int64_t> backend_id() const override;

 private:
  struct Side final : core::IoHandler {
    TcpSession* owner = nullptr;
    int fd = -1;
    bool readable = false;  // an edge said there is something to read
    bool writable = false;
    bool rdhup = false;  // peer sent FIN (data before it may remain)
    bool eof = false;  // nothing more will be read from this side
    bool error = false;
    bool shut_wr = false;  // we sent FIN to this side
    bool out_armed = false;  // EPOLLOUT is in the epoll interest (added once a write stalls)
    checks::LazyNoDelay nagle;  // server side: TCP_NODELAY when it matters
    std::int64_t last = 0;  // last activity (ms), for inactivity timeouts
    void on_events(std::uint32_t events) override { owner->on_side_events(*this, events); }
  };
  struct Direction {
    Side* src = nullptr;
    Side* dst = nullptr;
    std::unique_ptr<char[]> buf;
    std::size_t cap = 0;  // size of buf (the pool's small or large size)
    // The last read filled a small buffer (and no write stalled since):
    // read, and so write, with a large buffer.
    bool streaming = false;
    std::size_t head = 0, tail = 0;
    Pipe pipe;
    std::size_t in_pipe = 0;
    bool splice = false;
    std::uint64_t bytes = 0;
    bool pending() const { return tail > head || in_pipe > 0; }
  };
  enum class Pump { Ok, Abort };

  void on_side_events(Side& s, std::uint32_t events);
  static void on_server_shutdown(void* self, proxy::TermCause c);
  void on_timer();

  void route();
  void assign();  // pick a server, queue or fail
  void connect();  // to srv_, slot held
  void on_connected(std::uint32_t events);
  void connect_failed(bool timeout);
  void retry_same_server();
  void relay();
  Pump pump(Direction& d, bool can_write);
  // A write to `dst` stalled: wait for its EPOLLOUT (Abort if that cannot be).
  Pump stalled(Side& dst);
  Pump pump_splice(Direction& d, bool can_write);
  void rearm_relay_timer();
  std::int64_t side_deadline(const Side& s) const;
  void abort(proxy::TermCause c, proxy::TermPhase p);
  void finish();
  void log_session();
  void release_server();
  void close_side(Side& s);
  void release_direction(Direction& d);
  void put_buffer(Direction& d);
  Direction& other(Direction& d) { return &d == &req_ ? res_ : req_; }
  // Send FIN to d.dst once d's source ended and its data is flushed; skipped
  // when the other direction already ended too, as the session closes both
  // sockets right away and close() sends the FIN.
  void shut_dst(Direction& d);
  // A write to `s` stalled: EPOLLOUT joins its interest (once; sockets start
  // without it, see start()). False if epoll refused.
  bool want_out(Side& s);
  // The first bytes to a server whose connect() may still be in progress:
  // sent (so it is connected), wait for EPOLLOUT (still connecting), failed,
  // or batched: they wait for the end of the loop turn and go with the other
  // sends (core/send_batch.h), so the server is woken once per batch, and
  // on_batch_sent() tells which of the three it was.
  enum class Early { Sent, Wait, Failed, Batched };
  Early early_send();
  Early early_result(ssize_t sent_or_errno);
  void on_batch_sent(ssize_t result) override;
  void after_early(Early e);
  bool batched_ = false;  // the early send waits in the loop's batch
  checks::LazyNoDelay nagle_before_;  // before the first send, restored if it fails
  std::uint16_t client_dest_port();

  SessionHost& host_;
  core::Loop& loop_;
  core::Timer timer_;
  State state_ = State::Idle;
  Side client_, server_;
  Direction req_, res_;  // client->server, server->client

  proxy::Frontend* fe_ = nullptr;
  proxy::Backend* be_ = nullptr;
  proxy::Server* srv_ = nullptr;  // the server we hold a slot on
  const proxy::Server* last_srv_ = nullptr;  // for the log line
  bool be_counted_ = false;
  proxy::Pending pending_;
  std::uint32_t ticket_ = 0;
  bool queued_forced_ = false;
  bool spec_try_ = false;  // the first read is tried before any edge (core/speculation.h)

  unsigned retries_ = 0;
  std::uint64_t stream_id_ = 0;  // %rt, numbered only for frontends with a log-format
  bool redispatched_ = false;
  bool timed_out_connect_ = false;
  proxy::Termination term_;
  proxy::ServerLink srv_link_{this, &TcpSession::on_server_shutdown};  // while srv_ is held

  const proxy::Backend* ref_backend(const acl::ProxyRef& r) const;
  const proxy::Server* ref_server(const acl::ServerRef& r) const;

  sockaddr_storage peer_{};
  mutable sockaddr_storage local_{};
  mutable bool local_known_ = false;
  socklen_t peer_len_ = 0;
  timeval accept_tv_{};
  std::int64_t t_accept_ = 0;
  std::int64_t t_queue_done_ = -1;  // left the queue / got a server (ms)
  std::int64_t t_connect_ = 0;  // start of the last connect attempt
  std::int64_t tc_ = -1;
  std::uint32_t srv_queue_pos_ = 0, be_queue_pos_ = 0;
};

}  // namespace sluice::tcp
