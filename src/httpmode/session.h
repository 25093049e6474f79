#pragma once
// One client connection in HTTP mode, owned by one worker thread. Each
// transaction goes through named phases: request head -> route -> pick
// server (cookie persistence, balancer, queue) -> connect (or reuse an idle
// server connection) -> forward request head and body -> response head ->
// response body -> log; then the next request on the same connection
// (keep-alive), or close. Upgrades switch to a tunnel.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acl/sample.h"
#include "core/loop.h"
#include "core/send_batch.h"
#include "http/body.h"
#include "http/parser.h"
#include "httpmode/conn_pool.h"
#include "proxy/backend.h"
#include "proxy/balancer.h"
#include "proxy/frontend.h"
#include "proxy/queue.h"
#include "proxy/termination.h"
#include "stats/offload.h"

namespace sluice::log {
struct HttpLogFields;
}

namespace sluice::httpmode {

class HttpSession;

// An address as text ("unix" for others) and its port.
void peer_text(const sockaddr* sa, char* out, std::size_t n, std::uint16_t& port);
// One line of `show sess`.
void describe_session_line(std::string& out, const void* id, const sockaddr* peer,
                           const proxy::Frontend* fe, const proxy::Backend* be,
                           const proxy::Server* srv, std::int64_t age_ms);
struct CompiledRule;  // httpmode/rules.h
struct ProxyHttp;

// A keep-alive client connection between requests, parked without a
// session: an idle connection costs this record (about 200 bytes), not a
// session with its parsers and buffers. Any event on the fd takes a session
// from the pool and resumes; `timeout http-keep-alive` closes it.
struct IdleConn final : core::IoHandler {
  class HttpHost* host = nullptr;
  int fd = -1;
  proxy::Frontend* fe = nullptr;
  std::uint32_t req_index = 0;
  socklen_t peer_len = 0;
  union {
    sockaddr sa;
    sockaddr_in in;
    sockaddr_in6 in6;
  } peer{};
  std::int64_t idle_since = 0;
  bool out_armed = false;  // EPOLLOUT is in the fd's epoll set (HttpSession::want_out)
  core::Timer timer;
  IdleConn* prev = nullptr;  // the host's list of parked connections
  IdleConn* next = nullptr;
  void on_events(std::uint32_t ev) override;
};

// What a session needs from the thread that owns it.
class HttpHost {
 public:
  virtual ~HttpHost() = default;
  virtual core::Loop& loop() = 0;
  virtual std::size_t bufsize() const = 0;
  // Buffers of bufsize() bytes, lent to a session while it has bytes to
  // hold: an idle keep-alive connection holds none.
  virtual char* take_buffer() = 0;
  virtual void give_buffer(char* b) = 0;
  virtual ServerConnPool& server_conns() = 0;
  virtual proxy::ThreadBalancer& balancer(proxy::Backend& be) = 0;
  virtual unsigned active_connections() const = 0;
  // Soft stop in progress and this connection's turn to close has come:
  // answer the current request with Connection: close (`close-spread-time`
  // spreads the turns of a worker's connections; `key` places this one in
  // the window). Never for a connection a reload's successor will take
  // over (its frontend `fe` is one the successor has).
  virtual bool close_on_stop(std::uint32_t key, const proxy::Frontend& fe) const = 0;
  virtual void http_session_done(HttpSession& s) = 0;
  // Keep-alive between requests: `s` is free again once `c` is filled in;
  // the host keeps the connection (and its frontend slot) as an IdleConn.
  virtual IdleConn& park(HttpSession& s) = 0;
  // An event on a parked connection.
  virtual void resume(IdleConn& c, std::uint32_t events) = 0;
};

class HttpSession final : public proxy::QueueWaiter,
                          public acl::SampleSource,
                          public core::SendBatch::Waiter {
 public:
  explicit HttpSession(HttpHost& host);
  ~HttpSession() override;
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // `adopted`: a keep-alive connection handed over by the worker this one
  // replaces at a reload (no speculative first read: it is idle).
  void start(int fd, const sockaddr_storage& peer, socklen_t peer_len, proxy::Frontend& fe,
             bool adopted = false);
  // Take over a parked keep-alive connection that has an event.
  void resume(const IdleConn& c, std::uint32_t events);
  void kill();  // close now, no log
  // One `show sess` line (runtime API; session_stats.cpp).
  void describe(std::string& out, std::int64_t now_ms) const;
  // Soft stop: close now if idle between requests and nothing was promised.
  void on_stopping();

  bool active() const { return phase_ != Phase::Idle && phase_ != Phase::Closed; }
  proxy::Frontend* frontend() const { return fe_; }

  void on_slot_granted(std::uint32_t ticket) override;
  void on_server_events(std::uint32_t events);
  // A request head queued on the loop's send batch went (or not).
  void on_batch_sent(ssize_t result) override;

  // acl::SampleSource
  const sockaddr_storage* source() const override;
  const sockaddr_storage* destination() const override;
  std::optional<std::int64_t> frontend_conns(const acl::ProxyRef& r) const override;
  std::optional<std::int64_t> backend_conns(const acl::ProxyRef& r) const override;
  std::optional<std::int64_t> usable_servers(const acl::ProxyRef& r) const override;
  std::optional<std::int64_t> frontend_id() const override;
  std::optional<std::int64_t> backend_id() const override;
  std::optional<std::string_view> http_method() const override;
  std::optional<std::string_view> http_target() const override;
  bool http_req_field(std::string_view name, std::size_t i, std::string_view& out) const override;
  std::optional<std::int64_t> http_status() const override;
  bool http_res_field(std::string_view name, std::size_t i, std::string_view& out) const override;

 private:
  enum class Phase {
    Idle,
    ReqHead,     // reading a request head (or waiting for the next one)
    Queued,      // waiting for a server slot
    TurnAround,  // pause before retrying a refused connect
    Connecting,
    Exchange,    // request body up, response head and body down
    Tunnel,      // after an upgrade: bytes both ways
    SendError,   // writing a response of our own, then close
    Tarpit,      // http-request tarpit: holding the request before answering
    LocalReply,  // writing a response of our own (rules), then the next request
    ServiceBody,  // reading a request body for a service of our own (stats admin POST)
    ServiceWait,  // a service's answer is being built on the stats thread
    Closed,
  };
  struct Client final : core::IoHandler {
    HttpSession* owner = nullptr;
    int fd = -1;
    bool readable = false, writable = true, eof = false, error = false, shut_wr = false;
    bool in_loop = false;    // registered (watch_client)
    bool out_armed = false;  // EPOLLOUT is in the epoll set (want_out)
    void on_events(std::uint32_t ev) override { owner->on_client_events(ev); }
  };
  // Bytes that flow one way: a receive buffer, how much of it is framed for
  // forwarding and how much of that is sent; a rewritten head goes first.
  struct Flow {
    char* buf = nullptr;  // lent by the host; see need() / shed_buffers()
    std::size_t len = 0, fwd = 0, sent = 0;
    char* head = nullptr;
    std::size_t head_len = 0, head_sent = 0;
    http::BodyDecoder dec;
    bool body_done = false;
    bool head_done = false;
    bool keep = false;  // request kept whole until its response head, for a replay
    std::uint64_t bytes_out = 0;
    std::uint64_t bytes_in = 0;  // received (stats: bin of the request flow)
    void reset_msg() {
      fwd = sent = head_len = head_sent = 0;
      body_done = head_done = false;
    }
  };
  enum class Io { Ok, Blocked, Failed };
  enum class Decoded { None, Progress, Error };
  Decoded decode_body(Flow& f);

  void on_client_events(std::uint32_t ev);
  void on_timer();
  void progress();
  bool step_req_head();
  bool step_exchange();
  bool step_tunnel();
  bool step_send_error();

  void on_request_head();
  void route();
  void assign();
  void got_server(proxy::Server* s);
  void connect();
  void on_connected(std::uint32_t events);
  void connected();
  void connect_failed(bool timeout);
  void retry_same_server();
  bool retry_after(unsigned why);
  std::size_t error_page_into_head(int status);  // errors.h: the site's page or ours  // retry.cpp's rules; true when the request is replayed
  void release_server();
  void build_request_head();
  bool on_response_head();
  void end_transaction();
  void park();
  void fail(std::uint16_t status, proxy::TermCause c, proxy::TermPhase p);
  void close_all(bool log);
  void drop_server_conn(bool reusable);
  void log_transaction();
  void set_client_addr() const;
  const char* client_addr() const;
  std::uint16_t client_port() const;
  void fill_log_fields(log::HttpLogFields& f) const;
  // Rules (httpmode/rules.h): false when they answered or failed the request.
  bool apply_request_rules(const std::vector<CompiledRule>& rules);
  bool apply_response_rules();
  void local_reply(std::size_t len, int status, proxy::TermCause c, proxy::TermPhase p);
  void local_error_page(int status, proxy::TermCause c, proxy::TermPhase p);
  void start_local_reply(std::size_t len);
  bool step_local_reply();
  // Services answered by Sluice itself (httpmode/services.h): use-service,
  // the stats page (`page` non-null).
  void start_service(config::HttpRule::Service which, const config::Proxy* page,
                     const httpmode::ProxyHttp* rules);
  bool step_service_body();
  void run_service();
  bool step_service_wait();
  void service_answered(std::string out, std::size_t start, int status, bool head_only);
  void count_transaction();  // stats counters (session_stats.cpp)
  void rearm_timer();

  char* need(char*& b) {
    if (b == nullptr) b = host_.take_buffer();
    return b;
  }
  void drop(char*& b) {
    if (b != nullptr) host_.give_buffer(b);
    b = nullptr;
  }
  // Give back every buffer that holds nothing (all of them when closing).
  void shed_buffers(bool all);
  Io recv_into(int fd, Flow& f, bool& readable, bool& eof);
  // `nagle`: the server connection's lazy TCP_NODELAY (nullptr toward the client).
  Io flush(int fd, Flow& f, bool& writable, checks::LazyNoDelay* nagle = nullptr);
  // A send to `fd` fell short: EPOLLOUT joins its epoll set (once).
  void want_out(int fd);
  // A send queued on the loop's batch (flush) is forgotten: the server
  // connection is going away.
  void cancel_batched_send();
  static void count_sent(Flow& f, std::size_t done);
  // The client socket joins the loop when the session first waits for it.
  bool waits_for_client() const;
  bool watch_client();
  bool skip_buffered_body(const http::Head& h, std::uint32_t& hl);
  static void compact(Flow& f);

  HttpHost& host_;
  core::Loop& loop_;
  core::Timer timer_;
  Phase phase_ = Phase::Idle;
  Client client_;
  ServerConn* sconn_ = nullptr;
  bool s_readable_ = false, s_writable_ = false, s_eof_ = false, s_error_ = false;
  bool s_batched_ = false;  // a send to the server waits in the loop's batch
  bool s_shut_wr_ = false;
  Flow req_, res_;
  http::HeadParser req_parser_;
  http::HeadParser res_parser_;
  std::string_view error_;  // SendError: canned response still to send
  std::size_t error_sent_ = 0;

  proxy::Frontend* fe_ = nullptr;
  proxy::Backend* be_ = nullptr;
  proxy::Server* srv_ = nullptr;
  const proxy::Server* last_srv_ = nullptr;
  bool be_counted_ = false;
  proxy::Pending pending_;
  std::uint32_t ticket_ = 0;
  unsigned retries_ = 0;
  bool redispatched_ = false;
  bool replayable_ = false;  // the request may be sent again (retry-on beyond conn-failure)
  const proxy::Server* avoid_ = nullptr;
  std::string lb_key_;  // the request's hashing key (balance_key.h); capacity reused
  bool has_lb_key_ = false;  // a redispatch prefers another server than this
  proxy::Termination term_;
  proxy::ServerLink srv_link_{this, &HttpSession::on_server_shutdown};  // while srv_ is held
  static void on_server_shutdown(void* self, proxy::TermCause c);
  void observe(proxy::Observed o) {
    if (srv_ != nullptr) srv_->observe(o);
  }
  char ck_client_ = '-', ck_server_ = '-';
  const proxy::Server* cookie_srv_ = nullptr;  // the server the request's cookie names
  bool cookie_seen_ = false;
  std::optional<std::uint32_t> ck_first_;  // first date of the request's cookie (maxlife)
  bool ck_refresh_ = false;  // its dates must be sent again (maxidle/maxlife)
  bool close_client_ = false;  // after this response
  bool close_server_ = false;
  bool first_request_ = true;
  bool spec_try_ = false;  // the first read is tried before any edge (core/speculation.h)
  bool tunnel_ = false;
  bool interim_ = false;  // 1xx being forwarded
  std::uint32_t req_index_ = 0;
  std::uint64_t stream_id_ = 0;  // %rt: process-wide, numbered only for frontends with a log-format

  sockaddr_storage peer_{};
  socklen_t peer_len_ = 0;
  mutable sockaddr_storage local_{};
  mutable bool local_known_ = false;
  mutable char client_addr_[48] = {};
  mutable std::uint16_t client_port_ = 0;
  mutable bool addr_known_ = false;
  char reqline_[1024];
  std::size_t reqline_len_ = 0;
  timeval req_tv_{};
  std::int64_t t_idle_start_ = 0;  // waiting for the first byte since
  std::int64_t t_req_start_ = -1;  // first byte of the request
  std::int64_t t_head_ = -1;       // head complete
  std::int64_t t_queue_done_ = -1;
  std::int64_t t_connect_ = 0;
  std::int64_t tc_ = -1;
  std::int64_t t_res_ = -1;
  std::int64_t last_client_ = 0, last_server_ = 0;
  int status_ = -1;
  // Captured header blocks ("{a|b}") for %hr / %hs; length 0: none declared.
  char req_cap_[512];
  std::size_t req_cap_len_ = 0;
  char res_cap_[512];
  std::size_t res_cap_len_ = 0;
  bool tarpit_ = false;
  int tarpit_status_ = 500;
  // A service's whole response, sent before res_ in LocalReply.
  std::string svc_out_;
  std::size_t svc_sent_ = 0;
  config::HttpRule::Service svc_which_ = config::HttpRule::Service::None;
  const config::Proxy* svc_page_ = nullptr;
  bool svc_admin_ = false;
  stats::OffloadTicket svc_job_;  // ServiceWait: cancelled when the session closes
  std::int64_t svc_wait_since_ = 0;
};

}  // namespace sluice::httpmode
