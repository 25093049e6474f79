// Graphite push: formatting, the bounded line buffer and the carbon
// connection on a worker loop.

#include "stats/graphite.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "checks/outgoing.h"

namespace sluice::stats {

namespace {
std::atomic<std::uint64_t> g_dropped_total{0};
std::atomic<bool> g_configured{false};

bool sane(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}
}  // namespace

std::uint64_t graphite_dropped_total() {
  return g_dropped_total.load(std::memory_order_relaxed);
}
bool graphite_configured() {
  return g_configured.load(std::memory_order_relaxed);
}

std::string graphite_sanitize(std::string_view s) {
  std::string o(s);
  for (char& c : o)
    if (!sane(c)) c = '_';
  return o;
}

std::string graphite_prefix(std::string_view prefix, std::string_view hostname) {
  std::string host(hostname);
  for (char& c : host)
    if (c == '.') c = '_';
  host = graphite_sanitize(host);
  std::string o;
  constexpr std::string_view kHost = "<host>";
  std::size_t from = 0;
  for (;;) {
    std::size_t at = prefix.find(kHost, from);
    if (at == std::string_view::npos) break;
    o.append(prefix.substr(from, at - from));
    o += host;
    from = at + kHost.size();
  }
  o.append(prefix.substr(from));
  while (!o.empty() && o.back() == '.') o.pop_back();
  return o;
}

std::vector<std::size_t> graphite_columns(const std::vector<std::string>& names,
                                          std::vector<std::string>& unknown) {
  std::vector<std::size_t> cols;
  auto table = columns();
  if (names.empty()) {
    for (std::size_t i = 0; i < table.size(); ++i)
      if (table[i].type != ValueType::Str || i == Status) cols.push_back(i);
    return cols;
  }
  for (const auto& n : names) {
    bool found = false;
    for (std::size_t i = 0; i < table.size(); ++i) {
      if (table[i].name != n) continue;
      if (table[i].type == ValueType::Str && i != Status) break;  // text: not a number
      cols.push_back(i);
      found = true;
      break;
    }
    if (!found) unknown.push_back(n);
  }
  return cols;
}

int graphite_status_value(std::string_view st) {
  return st == "UP" || st.starts_with("UP ") || st == "OPEN" || st == "no check" ? 1 : 0;
}

void graphite_lines(const std::vector<Row>& rows, std::string_view prefix,
                    const std::vector<std::size_t>& cols, std::int64_t unix_time,
                    std::vector<std::string>& out) {
  const std::string ts = std::to_string(unix_time);
  for (const Row& r : rows) {
    std::string base(prefix);
    if (!base.empty()) base += '.';
    base += graphite_sanitize(r.v[Pxname].str);
    base += '.';
    base += graphite_sanitize(r.v[Svname].str);
    base += '.';
    auto table = columns();
    for (std::size_t c : cols) {
      const Value& v = r.v[c];
      std::int64_t num = 0;
      if (c == Status) {
        if (v.is != Value::Is::Str || v.str.empty()) continue;
        num = graphite_status_value(v.str);
      } else if (v.is == Value::Is::Num) {
        num = v.num;
      } else {
        continue;
      }
      std::string line = base;
      line += table[c].name;
      line += ' ';
      line += std::to_string(num);
      line += ' ';
      line += ts;
      line += '\n';
      out.push_back(std::move(line));
    }
  }
}

// ---------------------------------------------------------------- LineBuffer

void LineBuffer::push(std::string line) {
  lines_.push_back(std::move(line));
  while (lines_.size() > max_) {
    // A line carbon has part of must be finished: drop the one after it.
    if (sent_ > 0 && lines_.size() > 1)
      lines_.erase(lines_.begin() + 1);
    else {
      lines_.pop_front();
      sent_ = 0;
    }
    ++dropped_;
    g_dropped_total.fetch_add(1, std::memory_order_relaxed);
  }
}

void LineBuffer::peek(std::string& out, std::size_t max_bytes) const {
  for (std::size_t i = 0; i < lines_.size() && out.size() < max_bytes; ++i)
    out.append(lines_[i], i == 0 ? sent_ : 0, std::string::npos);
}

void LineBuffer::consume(std::size_t n) {
  while (n > 0 && !lines_.empty()) {
    std::size_t left = lines_.front().size() - sent_;
    if (n >= left) {
      n -= left;
      lines_.pop_front();
      sent_ = 0;
    } else {
      sent_ += n;
      n = 0;
    }
  }
}

// ---------------------------------------------------------------- pusher

GraphitePusher::GraphitePusher(const config::GraphiteDef& def, std::function<Sources()> sources,
                               const log::Logger& logger)
    : def_(def), sources_(std::move(sources)), logger_(logger), buf_(def.buffer_lines) {
  g_configured.store(true, std::memory_order_relaxed);
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  prefix_ = graphite_prefix(def_.prefix, host);
  std::vector<std::string> unknown;
  cols_ = graphite_columns(def_.metrics, unknown);
  for (const auto& u : unknown)
    log(log::Level::Warning, "graphite: unknown or non-numeric metric '" + u + "' ignored");
}

GraphitePusher::~GraphitePusher() {
  if (fd_ >= 0) {
    if (loop_) loop_->remove(fd_);
    ::close(fd_);
  }
}

void GraphitePusher::log(log::Level level, const std::string& msg) const {
  if (logger_.wants(level)) logger_.send(level, msg);
}

void GraphitePusher::start(core::Loop& loop) {
  loop_ = &loop;
  interval_timer_.set_callback([this] { tick(); });
  retry_timer_.set_callback([this] { connect(); });
  loop.arm(interval_timer_, def_.interval);
  connect();
}

void GraphitePusher::stop() {
  if (!loop_) return;
  loop_->cancel(interval_timer_);
  loop_->cancel(retry_timer_);
  if (fd_ >= 0) {
    loop_->remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  connected_ = false;
}

void GraphitePusher::collect(std::int64_t unix_time) {
  Filter f;
  std::vector<Row> rows = snapshot(sources_(), f);
  scratch_.clear();
  graphite_lines(rows, prefix_, cols_, unix_time, scratch_);
  for (auto& l : scratch_) buf_.push(std::move(l));
}

void GraphitePusher::tick() {
  loop_->arm(interval_timer_, def_.interval);
  collect(static_cast<std::int64_t>(std::time(nullptr)));
  if (connected_) flush();
  // Not connected: the retry timer (or a connect in progress) will flush.
}

void GraphitePusher::connect() {
  if (fd_ >= 0) return;
  int err = 0;
  checks::OutgoingOptions opts;
  opts.nodelay = true;
  fd_ = checks::open_outgoing(def_.addr, opts, err);
  if (fd_ < 0) {
    lost("connect failed", err);
    return;
  }
  if (!loop_->add(fd_, this)) {
    ::close(fd_);
    fd_ = -1;
    lost("cannot watch the socket", errno);
  }
  // The edge with EPOLLOUT tells whether the connect succeeded.
}

void GraphitePusher::on_events(std::uint32_t events) {
  if (fd_ < 0) return;
  if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    lost(connected_ ? "connection closed" : "connect failed", err);
    return;
  }
  if (events & EPOLLIN) {
    char sink[512];
    for (;;) {
      ssize_t n = ::recv(fd_, sink, sizeof sink, 0);
      if (n > 0) continue;
      if (n == 0) {
        lost("connection closed", 0);
        return;
      }
      break;
    }
  }
  if ((events & EPOLLOUT) && !connected_) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      lost("connect failed", err);
      return;
    }
    connected_ = true;
    backoff_.reset();
    std::string msg = "graphite: connected to carbon " + def_.addr.text;
    if (was_down_logged_) {
      msg += ", " + std::to_string(buf_.dropped() - dropped_at_loss_) +
             " lines dropped while it was away (" + std::to_string(buf_.dropped()) + " in all)";
      was_down_logged_ = false;
    }
    log(log::Level::Notice, msg);
  }
  if (connected_ && (events & EPOLLOUT)) flush();
}

void GraphitePusher::flush() {
  while (!buf_.empty()) {
    // Gather a batch of lines into one send.
    std::string batch;
    buf_.peek(batch, 64 * 1024);
    ssize_t n = ::send(fd_, batch.data(), batch.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // wait for the EPOLLOUT edge
      if (errno == EINTR) continue;
      lost("send failed", errno);
      return;
    }
    buf_.consume(static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) < batch.size()) return;
  }
}

void GraphitePusher::lost(const char* why, int err) {
  if (fd_ >= 0) {
    loop_->remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  // A line carbon got part of is resent whole: carbon discards the broken one.
  buf_.rewind();
  if (!was_down_logged_) {
    std::string msg = std::string("graphite: carbon ") + def_.addr.text + " unreachable (" + why;
    if (err) msg += std::string(": ") + std::strerror(err);
    msg += "), buffering up to " + std::to_string(def_.buffer_lines) + " lines";
    log(log::Level::Warning, msg);
    was_down_logged_ = true;
    dropped_at_loss_ = buf_.dropped();
  }
  connected_ = false;
  loop_->arm(retry_timer_, core::Millis(backoff_.next()));
}

}  // namespace sluice::stats
