#include "runtime/cli_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/listener.h"
#include "runtime/fd_passing.h"
#include "stats/offload.h"

namespace sluice::runtime {

struct CliServer::Socket {
  int fd = -1;
  CliLevel level = CliLevel::Operator;
  bool expose_fd = false;
  std::unique_ptr<core::Listener> listener;
};

struct CliServer::Conn final : core::IoHandler {
  CliServer& server;
  core::Loop& loop;
  int fd;
  CliState st;
  std::string in, out;
  std::size_t sent = 0;  // bytes of `out` already written: a large answer is not moved per send
  core::Timer timer;
  bool waiting = false;  // an asynchronous command is running
  bool closing = false;  // close once `out` is written
  bool eof = false;
  bool writable = true;
  bool dead = false;
  bool discard = false;  // refused line: read and drop until the client closes
  bool shut = false;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  stats::OffloadTicket job;  // an answer being built on the stats thread

  Conn(CliServer& s, core::Loop& l, int f, CliLevel level, std::int64_t timeout_ms)
      : server(s), loop(l), fd(f) {
    st.level = level;
    st.timeout_ms = timeout_ms;
    timer.set_callback([this] { close(); });
  }
  ~Conn() override {
    *alive = false;
    loop.cancel(timer);
    if (fd >= 0) loop.close_fd(fd);
    if (passed_fd >= 0) ::close(passed_fd);
  }

  void touch() { loop.arm(timer, core::Millis(st.timeout_ms)); }

  void on_events(std::uint32_t ev) override {
    if (dead) return;
    if (ev & 0x004) writable = true;                         // EPOLLOUT
    if (ev & (0x001 | 0x2000 | 0x010 | 0x008)) read_some();  // IN, RDHUP, HUP, ERR
    if (dead) return;
    process();
    flush();
  }

  int passed_fd = -1;  // a descriptor that came with the input (`_handoff`)

  // recv, keeping a descriptor passed along (only `_handoff` takes one; any
  // other is closed when the connection ends or the next one comes).
  ssize_t receive(char* buf, std::size_t len) {
    return recv_with_fds(fd, buf, len, 0, [this](int f) {
      if (passed_fd >= 0) ::close(passed_fd);
      passed_fd = f;
    });
  }

  void read_some() {
    char buf[4096];
    for (;;) {
      ssize_t n = receive(buf, sizeof buf);
      if (n > 0 && discard) continue;
      if (n > 0) {
        in.append(buf, static_cast<std::size_t>(n));
        touch();
        // An unterminated line past the limit: refuse it and hang up.
        if (in.size() > kMaxLine && in.find('\n') == std::string::npos) {
          in.clear();
          out += "Command line too long.\n\n";
          closing = true;
          discard = true;  // closing with unread input would reset the answer away
          continue;
        }
        continue;
      }
      if (n == 0) {
        eof = true;
        return;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        eof = true;
        closing = true;
      }
      return;
    }
  }

  void process() {
    while (!waiting && !closing) {
      auto nl = in.find('\n');
      std::string line;
      if (nl == std::string::npos) {
        if (!eof || in.empty()) break;
        line.swap(in);  // the last line, without its newline
      } else {
        line = in.substr(0, nl);
        in.erase(0, nl + 1);
      }
      if (line.size() > kMaxLine) {
        out += "Command line too long.\n\n";
        closing = true;
        break;
      }
      pending = split_commands(line);
      next = 0;
      run_pending();
    }
    if (eof && !waiting && in.empty()) closing = true;
  }

  std::vector<std::vector<std::string>> pending;
  std::size_t next = 0;

  // Run the commands of the current line; an asynchronous one suspends.
  void run_pending() {
    const bool single_empty = pending.size() == 1 && pending[0].empty();
    while (next < pending.size()) {
      const auto& words = pending[next++];
      if (words.empty() && !single_empty) continue;
      if (words.empty() && st.prompt) continue;  // an empty line only prompts again
      if (!words.empty() && words[0] == "_getsocks") {
        get_socks();
        return;
      }
      if (!words.empty() && words[0] == "_handoff") {
        take_handoff();
        return;
      }
      CliReply r = run_command(*server.env_, st, words);
      if (out.empty())
        out = std::move(r.text);
      else
        out += r.text;
      if (st.quit) {
        closing = true;
        return;
      }
      if (r.off_loop) {
        // Built on the stats thread; `job` dies with this connection, so the
        // answer never reaches a closed one.
        waiting = true;
        job = stats::Offload::shared().submit_for(
            loop, std::move(r.off_loop), [this](std::string text) { built(std::move(text)); });
        return;
      }
      if (r.async) {
        waiting = true;
        std::weak_ptr<bool> guard = alive;
        r.async([this, guard](std::string text) {
          if (guard.expired()) return;
          out += text;
          out += '\n';
          waiting = false;
          resume();
        });
        return;
      }
    }
    end_of_line();
  }

  // An answer built on the stats thread (CliReply::off_loop).
  void built(std::string text) {
    job = {};
    if (out.empty()) {
      out = std::move(text);
    } else {
      out += text;
      stats::Offload::shared().dispose(std::move(text));
    }
    waiting = false;
    resume();
  }

  // An asynchronous answer came: the rest of the line, then the next lines.
  void resume() {
    run_pending();
    if (!waiting && !dead) {
      process();
      flush();
    }
  }

  // `_getsocks` (runtime/fd_passing.h): the listening sockets, then close.
  void get_socks() {
    closing = true;
    if (st.level != CliLevel::Admin || !st.expose_fd) {
      out += "Permission denied: needs a stats socket with level admin and expose-fd listeners\n";
      return;
    }
    KeyedFds fds = server.env_->listening_fds ? server.env_->listening_fds() : KeyedFds{};
    out.clear();  // the answer is the sockets alone
    sent = 0;
    if (fd >= 0 && !dead) (void)send_listening_fds(fd, fds);
  }

  // `_handoff` (runtime/fd_passing.h): keep the channel the new process
  // passed; our idle connections go there at the soft stop.
  void take_handoff() {
    closing = true;
    if (st.level != CliLevel::Admin || !st.expose_fd) {
      out += "Permission denied: needs a stats socket with level admin and expose-fd listeners\n";
      return;
    }
    if (passed_fd < 0) {
      out += "No channel passed with _handoff\n";
      return;
    }
    if (!server.env_->take_handoff_channel || !server.env_->take_handoff_channel(passed_fd)) {
      out += "Hand-over channel refused: the soft stop has begun\n";
      return;
    }
    passed_fd = -1;  // the engine's now
    out += "OK\n";
  }

  void end_of_line() {
    if (st.prompt)
      out += "> ";
    else
      closing = true;  // non-interactive: one line, then close
  }

  void flush() {
    std::size_t budget = stats::Offload::kSendSlice;
    while (!out.empty() && writable) {
      if (budget == 0) {
        loop.requeue(fd, 0x004);  // EPOLLOUT: the rest after the other events
        stats::Offload::yield_between_slices();
        return;
      }
      ssize_t n =
          ::send(fd, out.data() + sent, std::min(out.size() - sent, budget), MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        budget -= static_cast<std::size_t>(n);
        if (sent == out.size()) {
          stats::Offload::shared().release(out);
          sent = 0;
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        writable = false;
        return;
      }
      out.clear();
      sent = 0;
      closing = true;
      break;
    }
    if (out.empty() && closing && !waiting) {
      if (discard && !eof) {
        if (!shut) ::shutdown(fd, SHUT_WR);
        shut = true;
        return;  // the client's close (or the timeout) ends it
      }
      close();
    }
  }

  void close() {
    if (dead) return;
    dead = true;
    job.cancel();
    loop.cancel(timer);
    if (fd >= 0) {
      ::shutdown(fd, SHUT_WR);
      loop.remove(fd);
      ::close(fd);
      fd = -1;
    }
    server.forget(this);
  }
};

Result<std::unique_ptr<CliServer>> CliServer::open(const config::Global& g) {
  std::unique_ptr<CliServer> srv(new CliServer());
  srv->timeout_ms_ = g.stats_timeout.count();
  for (const auto& s : g.stats_sockets) {
    core::ListenOptions o;
    o.reuseport = false;
    o.backlog = 64;
    o.unix_mode = s.unix_mode;
    o.unix_uid = s.unix_uid;
    o.unix_gid = s.unix_gid;
    Result<int> fd = core::open_listener(s.addr, o);
    if (!fd)
      return make_error(s.loc.file + ":" + std::to_string(s.loc.line) +
                        ": [stats socket] cannot open the stats socket: " + fd.error());
    auto sock = std::make_unique<Socket>();
    sock->fd = *fd;
    sock->level = s.level == config::StatsSocket::Level::Admin      ? CliLevel::Admin
                  : s.level == config::StatsSocket::Level::Operator ? CliLevel::Operator
                                                                    : CliLevel::User;
    sock->expose_fd = s.expose_fd_listeners;
    srv->sockets_.push_back(std::move(sock));
  }
  return srv;
}

CliServer::~CliServer() {
  conns_.clear();
  for (auto& s : sockets_) {
    s->listener.reset();
    if (s->fd >= 0) ::close(s->fd);
  }
}

void CliServer::start(core::Loop& loop, CliEnv& env) {
  loop_ = &loop;
  env_ = &env;
  for (auto& s : sockets_) {
    CliLevel level = s->level;
    bool expose = s->expose_fd;
    int fd = s->fd;
    s->fd = -1;  // the Listener's now
    s->listener = std::make_unique<core::Listener>(
        loop, fd, [this, level, expose](int cfd, const sockaddr_storage&, socklen_t) {
          accept(cfd, level, expose);
        });
  }
}

void CliServer::stop() {
  for (auto& s : sockets_) s->listener.reset();
  for (auto& c : conns_) {
    c->dead = true;
    c->loop.cancel(c->timer);
    if (c->fd >= 0) {
      c->loop.remove(c->fd);
      ::close(c->fd);
      c->fd = -1;
    }
  }
  conns_.clear();
}

void CliServer::accept(int fd, CliLevel level, bool expose_fd) {
  auto c = std::make_unique<Conn>(*this, *loop_, fd, level, timeout_ms_);
  c->st.expose_fd = expose_fd;
  Conn* raw = c.get();
  conns_.push_back(std::move(c));
  if (!loop_->add(fd, raw)) {
    raw->fd = -1;
    ::close(fd);
    forget(raw);
    return;
  }
  raw->touch();
}

void CliServer::forget(Conn* c) {
  // Destroyed after the current batch: an event of this batch may name it.
  loop_->defer([this, c] {
    auto it =
        std::find_if(conns_.begin(), conns_.end(), [c](const auto& p) { return p.get() == c; });
    if (it != conns_.end()) conns_.erase(it);
  });
}

}  // namespace sluice::runtime
