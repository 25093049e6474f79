#include "runtime/master.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef SLUICE_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/listen_inventory.h"
#include "runtime/server_state.h"
#include "runtime/state_save.h"

namespace sluice::runtime {

namespace {

using Clock = std::chrono::steady_clock;
using log::Level;

// How long a new worker may take to build its engine and start accepting.
constexpr auto kWorkerStartLimit = std::chrono::seconds(30);

std::string errno_text(int e) {
  char buf[128];
  return strerror_r(e, buf, sizeof buf);
}

// systemd's notification protocol; a no-op without NOTIFY_SOCKET.
void notify(const std::string& state) {
#ifdef SLUICE_HAVE_SYSTEMD
  sd_notify(0, state.c_str());
#else
  (void)state;
#endif
}

std::string monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::to_string(static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000);
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) {
    const int code = WEXITSTATUS(status);
    return "exited with code " + std::to_string(code) + (code == 0 ? " (Exit)" : " (Error)");
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = strsignal(sig);
    return "exited with code " + std::to_string(128 + sig) + " (" + (name ? name : "signal") + ")";
  }
  return "exited";
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string uptime_text(Clock::time_point since) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - since).count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lldd%02lldh%02lldm%02llds", static_cast<long long>(s / 86400),
                static_cast<long long>(s / 3600 % 24), static_cast<long long>(s / 60 % 60),
                static_cast<long long>(s % 60));
  return buf;
}

std::string pad(std::string s, std::size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s + " ";
}

class Master {
 public:
  Master(const config::Model& model, MasterSetup setup) : model_(model), setup_(std::move(setup)) {}
  int run();

 private:
  struct Proc {
    pid_t pid = -1;
    unsigned reloads = 0;  // reloads this worker has lived through
    Clock::time_point started;
    bool current = false;
  };
  struct Spawned {
    pid_t pid = -1;
    bool ok = false;
  };

  void log(Level l, const std::string& m) const { setup_.log(l, m); }
  Spawned spawn(config::Model& model, std::string& report);
  bool reload(std::string& report);
  void save_state(const config::Model& next);
  void reap();
  void signal_all(int sig);
  bool open_cli(std::string& err);
  void serve_cli_client(int fd);
  std::string cli_command(std::string_view cmd);
  std::string show_proc() const;

  config::Model model_;
  MasterSetup setup_;
  ListenInventory listeners_;
  std::vector<Proc> procs_;
  Clock::time_point started_ = Clock::now();
  unsigned reloads_ = 0;
  unsigned failed_reloads_ = 0;
  int sig_fd_ = -1;
  int cli_fd_ = -1;
  int cli_client_fd_ = -1;  // the master CLI connection being served
  // The receiving end of the current worker's hand-over channel, kept for
  // the worker that will replace it (runtime/handoff.h).
  int successor_in_ = -1;
  bool stopping_ = false;
  int status_ = 0;
};

Master::Spawned Master::spawn(config::Model& model, std::string& report) {
  Spawned out;
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    report += "cannot create a pipe for a new worker: " + errno_text(errno) + "\n";
    return out;
  }
  // The new worker's hand-over channel to its own successor: it keeps the
  // sending end, we keep the receiving end for the next worker. Without
  // one (socketpair failed) its keep-alive clients close at a reload.
  int chan[2] = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) != 0)
    log(Level::Warning,
        "cannot create a hand-over channel for the new worker: " + errno_text(errno));
  const pid_t master = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    report += "cannot fork a new worker: " + errno_text(errno) + "\n";
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    if (chan[0] >= 0) ::close(chan[0]);
    if (chan[1] >= 0) ::close(chan[1]);
    return out;
  }
  if (pid == 0) {
    // The worker: none of the master's own descriptors, and it ends with
    // the master (the signal is taken by its signalfd as a hard stop).
    ::close(pipefd[0]);
    if (sig_fd_ >= 0) ::close(sig_fd_);
    if (cli_fd_ >= 0) ::close(cli_fd_);
    if (cli_client_fd_ >= 0) ::close(cli_client_fd_);  // or its client never sees the end
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != master) _exit(1);
    listeners_.close_unused_in_child();
    const ListenInventory& inv = listeners_;
    ListenerSource source = [&inv](const config::Address& a, const core::ListenOptions& o,
                                   unsigned n) { return inv.take(a, o, n); };
    if (chan[1] >= 0) ::close(chan[1]);  // our successor's end, not ours
    WorkerHandoff h{successor_in_, chan[0]};
    _exit(setup_.worker(model, std::move(source), pipefd[1], h));
  }
  ::close(pipefd[1]);
  if (chan[0] >= 0) ::close(chan[0]);
  out.pid = pid;
  log(Level::Notice, "New worker (" + std::to_string(pid) + ") forked");

  // Wait for READY (the worker accepts), the worker's end, or the limit.
  std::string text;
  const auto deadline = Clock::now() + kWorkerStartLimit;
  bool ready = false;
  bool eof = false;
  while (!ready && !eof) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{pipefd[0], POLLIN, 0};
    const int n = poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    char buf[4096];
    const ssize_t r = ::read(pipefd[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      eof = true;
      break;
    }
    text.append(buf, static_cast<std::size_t>(r));
    const std::string marker = std::string(kWorkerReady) + "\n";
    const auto at = text.find(marker);
    if (at != std::string::npos && (at == 0 || text[at - 1] == '\n')) {
      text.erase(at, marker.size());
      ready = true;
    }
  }
  ::close(pipefd[0]);
  report += text;
  if (ready) {
    // The new worker has the channel from the one it replaces; its own
    // successor will get the one just made.
    if (successor_in_ >= 0) ::close(successor_in_);
    successor_in_ = chan[1];
    out.ok = true;
    return out;
  }
  if (chan[1] >= 0) ::close(chan[1]);
  if (!eof) {
    report += "the new worker did not become ready within " +
              std::to_string(kWorkerStartLimit.count()) + " s; killed\n";
    ::kill(pid, SIGKILL);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (eof) report += "the new worker " + exit_text(st) + " before it was ready\n";
  return out;
}

// With a `server-state-file`, the running worker's server states are saved
// to it just before the new worker starts (and loads it).
void Master::save_state(const config::Model& next) {
  const std::string path = global_server_state_path(next.global);
  if (path.empty()) return;
  Result<std::string> text = fetch_server_state(model_.global, 5000);
  if (!text) {
    log(Level::Warning, "Server states not saved to '" + path + "': " + text.error());
    return;
  }
  if (Result<void> w = write_state_file(path, *text); !w)
    log(Level::Warning, "Server states not saved: " + w.error());
}

bool Master::reload(std::string& report) {
  notify("RELOADING=1\nMONOTONIC_USEC=" + monotonic_usec());
  log(Level::Notice, "Reloading: checking the new configuration");
  auto fail = [&](const std::string& why) {
    ++failed_reloads_;
    log(Level::Alert, "Reload failed (" + why + "); the current worker keeps serving.");
    for (std::size_t b = 0, e; b < report.size(); b = e + 1) {
      e = report.find('\n', b);
      if (e == std::string::npos) e = report.size();
      std::string line = report.substr(b, e - b);
      if (line.rfind("[", 0) == 0 && line.find("] ") != std::string::npos)
        line.erase(0, line.find("] ") + 2);  // the line's own tag: logged as an alert
      if (!line.empty()) log(Level::Alert, "  " + line);
    }
    notify("READY=1\nSTATUS=reload failed: " + why);
    return false;
  };
  Result<config::Model> loaded = setup_.load(report);
  if (!loaded) return fail("the configuration has errors");
  for (std::size_t b = 0, e; b < report.size(); b = e + 1) {  // its warnings
    e = report.find('\n', b);
    if (e == std::string::npos) e = report.size();
    std::string line = report.substr(b, e - b);
    if (line.rfind("[WARNING] ", 0) == 0) log(Level::Warning, line.substr(10));
  }
  config::Model& next = *loaded;
  save_state(next);
  if (Result<void> r = listeners_.prepare(Engine::listen_plan(next)); !r) {
    report += r.error() + "\n";
    return fail("cannot open the new listeners");
  }
  Spawned s = spawn(next, report);
  if (!s.ok) {
    listeners_.rollback();
    return fail("the new worker did not start");
  }
  listeners_.commit();
  // The new worker accepts: the old ones stop accepting, finish their
  // sessions and leave (bounded by their hard-stop-after).
  for (auto& p : procs_) {
    ++p.reloads;
    if (!p.current) continue;
    p.current = false;
    ::kill(p.pid, SIGUSR1);
    log(Level::Notice, "Former worker (" + std::to_string(p.pid) + ") told to stop softly");
  }
  procs_.push_back(Proc{s.pid, 0, Clock::now(), true});
  model_ = std::move(next);
  ++reloads_;
  log(Level::Notice, "Loading success.");
  notify("READY=1\nSTATUS=ready");
  return true;
}

void Master::signal_all(int sig) {
  for (const auto& p : procs_) ::kill(p.pid, sig);
}

void Master::reap() {
  for (;;) {
    int st = 0;
    const pid_t pid = waitpid(-1, &st, WNOHANG);
    if (pid <= 0) return;
    bool current = false;
    bool known = false;
    for (auto it = procs_.begin(); it != procs_.end(); ++it) {
      if (it->pid != pid) continue;
      current = it->current;
      known = true;
      procs_.erase(it);
      break;
    }
    if (!known) continue;
    const std::string who = std::string(current ? "Current" : "Former") + " worker (" +
                            std::to_string(pid) + ") " + exit_text(st);
    if (!current || stopping_) {
      log(Level::Warning, who);
      continue;
    }
    log(Level::Alert, who);
    if (setup_.exit_on_failure) {
      log(Level::Alert, "exit-on-failure: killing every process with SIGTERM");
      stopping_ = true;
      status_ = exit_code(st) != 0 ? exit_code(st) : 1;
      notify("STOPPING=1");
      signal_all(SIGTERM);
    }
  }
}

std::string Master::show_proc() const {
  std::string out = "#" + pad("<PID>", 14) + pad("<type>", 15) + pad("<reloads>", 15) +
                    pad("<uptime>", 15) + "<version>\n";
  out += pad(std::to_string(getpid()), 15) + pad("master", 15) +
         pad(std::to_string(reloads_) + " [failed: " + std::to_string(failed_reloads_) + "]", 15) +
         pad(uptime_text(started_), 15) + SLUICE_VERSION + "\n";
  out += "# workers\n";
  for (const auto& p : procs_)
    if (p.current)
      out += pad(std::to_string(p.pid), 15) + pad("worker", 15) +
             pad(std::to_string(p.reloads), 15) + pad(uptime_text(p.started), 15) + SLUICE_VERSION +
             "\n";
  out += "# old workers\n";
  for (const auto& p : procs_)
    if (!p.current)
      out += pad(std::to_string(p.pid), 15) + pad("worker", 15) +
             pad(std::to_string(p.reloads), 15) + pad(uptime_text(p.started), 15) + SLUICE_VERSION +
             "\n";
  out += "# programs\n";
  return out;
}

std::string Master::cli_command(std::string_view cmd) {
  while (!cmd.empty() && (cmd.front() == ' ' || cmd.front() == '\t')) cmd.remove_prefix(1);
  while (!cmd.empty() && (cmd.back() == ' ' || cmd.back() == '\t' || cmd.back() == '\r'))
    cmd.remove_suffix(1);
  if (cmd.empty()) return {};
  if (cmd == "show proc") return show_proc();
  if (cmd == "reload") {
    std::string report;
    const bool ok = !stopping_ && reload(report);
    if (stopping_) report += "the master is stopping\n";
    return std::string("Success=") + (ok ? "1" : "0") + "\n--\n" + report;
  }
  const std::string help =
      "The following commands are valid at this level:\n"
      "  help           : list the commands\n"
      "  reload         : check the configuration and start new workers on it\n"
      "  show proc      : show the master and worker processes\n";
  if (cmd == "help") return help;
  return "Unknown command: '" + std::string(cmd) + "'\n" + help;
}

void Master::serve_cli_client(int fd) {
  // One short exchange: read the commands (up to a newline or the end, for
  // at most 2 s), answer, close. Commands are separated by ';' or newlines.
  std::string in;
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  while (in.find('\n') == std::string::npos && in.size() < 65536) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[1024];
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    in.append(buf, static_cast<std::size_t>(r));
  }
  std::string out;
  std::string_view rest = in;
  while (!rest.empty()) {
    const auto cut = rest.find_first_of(";\n");
    out += cli_command(rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
  std::size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t w = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    sent += static_cast<std::size_t>(w);
  }
  ::close(fd);
}

bool Master::open_cli(std::string& err) {
  std::string path = setup_.cli_path;
  if (path.rfind("unix@", 0) == 0) path = path.substr(5);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof sun.sun_path) {
    err = "invalid master CLI socket path '" + setup_.cli_path + "'";
    return false;
  }
  std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
  cli_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (cli_fd_ < 0) {
    err = "cannot create the master CLI socket: " + errno_text(errno);
    return false;
  }
  ::unlink(path.c_str());
  if (::bind(cli_fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0 ||
      ::listen(cli_fd_, 16) != 0) {
    err = "cannot bind the master CLI socket '" + path + "': " + errno_text(errno);
    ::close(cli_fd_);
    cli_fd_ = -1;
    return false;
  }
  setup_.cli_path = path;
  return true;
}

int Master::run() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP, SIGCHLD}) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  sig_fd_ = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sig_fd_ < 0) {
    log(Level::Alert, "cannot create a signalfd: " + errno_text(errno));
    return 1;
  }
  if (!setup_.cli_path.empty()) {
    std::string err;
    if (!open_cli(err)) {
      log(Level::Alert, err);
      return 1;
    }
  }
  std::string report;
  if (Result<void> r = listeners_.prepare(Engine::listen_plan(model_)); !r) {
    log(Level::Alert, r.error());
    return 1;
  }
  listeners_.commit();
  Spawned first = spawn(model_, report);
  if (!first.ok) {
    // The worker printed its errors itself (same stderr and log targets).
    log(Level::Alert, "the first worker did not start; exiting");
    return 1;
  }
  procs_.push_back(Proc{first.pid, 0, Clock::now(), true});
  if (setup_.on_ready) setup_.on_ready();
  notify("READY=1\nSTATUS=ready\nMAINPID=" + std::to_string(getpid()));

  while (!(stopping_ && procs_.empty())) {
    pollfd fds[2] = {{sig_fd_, POLLIN, 0}, {cli_fd_, POLLIN, 0}};
    const int n = poll(fds, cli_fd_ >= 0 ? 2 : 1, -1);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (cli_fd_ >= 0 && (fds[1].revents & POLLIN)) {
      const int c = ::accept4(cli_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        cli_client_fd_ = c;
        serve_cli_client(c);
        cli_client_fd_ = -1;
      }
    }
    if (!(fds[0].revents & POLLIN)) continue;
    signalfd_siginfo si{};
    if (::read(sig_fd_, &si, sizeof si) != static_cast<ssize_t>(sizeof si)) continue;
    switch (si.ssi_signo) {
      case SIGCHLD:
        reap();
        break;
      case SIGUSR2:
      case SIGHUP:
        if (!stopping_) {
          std::string r;
          reload(r);
        }
        break;
      case SIGTERM:
      case SIGINT:
        log(Level::Warning, "Stopping: sending SIGTERM to the workers");
        stopping_ = true;
        notify("STOPPING=1");
        signal_all(SIGTERM);
        break;
      case SIGUSR1:
        log(Level::Warning, "Stopping softly: sending SIGUSR1 to the workers");
        stopping_ = true;
        notify("STOPPING=1");
        signal_all(SIGUSR1);
        break;
      default:
        break;
    }
  }
  if (cli_fd_ >= 0) {
    ::close(cli_fd_);
    ::unlink(setup_.cli_path.c_str());
  }
  if (successor_in_ >= 0) ::close(successor_in_);
  ::close(sig_fd_);
  log(Level::Warning, "Master exits with status " + std::to_string(status_));
  return status_;
}

}  // namespace

int run_master(const config::Model& model, MasterSetup setup) {
  Master m(model, std::move(setup));
  return m.run();
}

}  // namespace sluice::runtime
