// HttpSession's side of the services Sluice answers itself (use-service,
// the stats page): wait for a small request body if there is one, build
// the response in one string, send it as a local reply.

#include <sys/socket.h>

#include <cstring>

#include "httpmode/rules.h"
#include "httpmode/services.h"
#include "httpmode/session.h"

namespace sluice::httpmode {

using proxy::TermCause;
using proxy::TermPhase;

void HttpSession::start_service(config::HttpRule::Service which, const config::Proxy* page,
                                const ProxyHttp* rules) {
  svc_which_ = which;
  svc_page_ = page;
  svc_admin_ = false;
  if (page != nullptr && rules != nullptr)
    for (const auto& c : rules->stats_admin)
      if (c->evaluate(*this)) {
        svc_admin_ = true;
        break;
      }
  const http::Head& h = req_parser_.head();
  if (h.framing == http::Framing::Chunked ||
      (h.framing == http::Framing::ContentLength &&
       h.length + h.content_length > host_.bufsize())) {
    close_client_ = true;
    local_error_page(h.framing == http::Framing::Chunked ? 400 : 413, TermCause::Local,
                     TermPhase::Request);
    return;
  }
  phase_ = Phase::ServiceBody;
}

bool HttpSession::step_service_body() {
  const http::Head& h = req_parser_.head();
  const std::size_t want =
      h.length + (h.framing == http::Framing::ContentLength ? h.content_length : 0);
  bool moved = false;
  while (req_.len < want) {
    if (client_.error || client_.eof) {
      term_.set(TermCause::ClientAbort, TermPhase::Request);
      close_all(true);
      return false;
    }
    const std::size_t before = req_.len;
    if (recv_into(client_.fd, req_, client_.readable, client_.eof) == Io::Failed) {
      close_all(false);
      return false;
    }
    if (req_.len == before && !client_.eof) return moved;
    moved = true;
  }
  run_service();
  return true;
}

void HttpSession::run_service() {
  const http::Head& h = req_parser_.head();
  const std::size_t body_len = h.framing == http::Framing::ContentLength ? h.content_length : 0;
  http::MessageView v = req_parser_.view(std::string_view(req_.buf, req_.len));
  ServiceRequest rq;
  rq.method = h.method;
  rq.target = v.target();
  rq.head = &v;
  rq.body = std::string_view(req_.buf + h.length, body_len);
  rq.directory = fe_->directory();
  rq.keep_alive = !close_client_;
  svc_out_.clear();
  ServiceWork work = svc_page_ != nullptr ? prepare_stats_page(*svc_page_, svc_admin_, rq, svc_out_)
                                          : prepare_service(svc_which_, rq, svc_out_);
  const bool head_only = h.method == http::Method::Head;
  // The request is answered: what follows it in the buffer is the next one.
  const std::size_t used = std::min<std::size_t>(h.length + body_len, req_.len);
  std::memmove(req_.buf, req_.buf + used, req_.len - used);
  req_.len -= used;
  req_.fwd = req_.sent = req_.head_len = req_.head_sent = 0;
  req_.head_done = req_.body_done = true;
  if (!work.job) {
    service_answered(std::move(svc_out_), work.served.start, work.served.status, head_only);
    return;
  }
  // A stats output: built on the stats thread, so that this loop's other
  // connections do not wait for it. The ticket drops the answer if this
  // session closes first (close_all), so `this` is never used after that.
  struct Answer {
    std::string out;
    Served served;
  };
  phase_ = Phase::ServiceWait;
  svc_wait_since_ = loop_.now_ms();
  svc_job_ = stats::Offload::shared().submit_for(
      loop_,
      [job = std::move(work.job)] {
        Answer a;
        a.out = stats::Offload::shared().take_spare();
        a.served = job(a.out);
        return a;
      },
      [this, head_only](Answer a) {
        svc_job_ = {};
        if (phase_ != Phase::ServiceWait) return;
        service_answered(std::move(a.out), a.served.start, a.served.status, head_only);
        progress();
      });
  rearm_timer();
}

// Waiting for the stats thread: only a client error ends the wait (a
// client that half-closed after its request still gets the answer).
bool HttpSession::step_service_wait() {
  if (client_.error) {
    term_.set(TermCause::ClientAbort, TermPhase::Request);
    close_all(true);
  }
  return false;
}

void HttpSession::service_answered(std::string out, std::size_t start, int status, bool head_only) {
  svc_out_ = std::move(out);
  svc_sent_ = start;
  if (head_only) {
    const auto end = svc_out_.find("\r\n\r\n", start);
    if (end != std::string::npos) svc_out_.resize(end + 4);
  }
  term_.set(TermCause::Local, TermPhase::Request);
  status_ = status;
  res_.head_len = res_.head_sent = 0;
  res_.fwd = res_.sent = res_.len = 0;
  res_.head_done = res_.body_done = true;
  phase_ = Phase::LocalReply;
}

}  // namespace sluice::httpmode
