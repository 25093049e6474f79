// sluice: HAProxy-compatible command line, start-up order and process life.
//
// parse flags -> load configuration -> warnings/errors (-c stops here) ->
// fd limit -> loggers -> engine (binds) -> chroot, setgid/setuid -> daemonise
// -> pidfile -> start workers -> wait for signals -> stop -> exit.

#include <fcntl.h>
#include <grp.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/load.h"
#include "config/model.h"
#include "core/fd_table.h"
#include "log/logger.h"
#include "runtime/engine.h"
#include "runtime/fd_passing.h"
#include "runtime/listen_inventory.h"
#include "runtime/master.h"

namespace {

using sluice::config::Model;
using sluice::log::Level;

// ---------------------------------------------------------------- output

bool g_quiet = false;
// A master-worker worker also sends its start-up messages to the master
// (the answer to a reload), until it says READY.
int g_report_fd = -1;

void say(const char* tag, const std::string& msg) {
  std::string line = std::string("[") + tag + "] " + msg + "\n";
  ssize_t r = ::write(2, line.data(), line.size());
  if (g_report_fd >= 0) r = ::write(g_report_fd, line.data(), line.size());
  (void)r;
}
void alert(const std::string& msg) { say("ALERT", msg); }
void warning(const std::string& msg) {
  if (!g_quiet) say("WARNING", msg);
}
void notice(const std::string& msg) {
  if (!g_quiet) say("NOTICE", msg);
}

std::string errno_text(int e) {
  char buf[128];
  return strerror_r(e, buf, sizeof buf);
}

// ---------------------------------------------------------------- flags

struct Options {
  std::vector<std::string> files;
  bool check = false;
  bool foreground = false;  // -db / -d
  bool daemon = false;  // -D
  std::string pidfile;
  std::optional<unsigned> maxconn;  // -n
  std::optional<unsigned> proxy_maxconn;  // -N
  bool master_worker = false;  // -W / -Ws
  std::string master_cli;  // -S
  std::string fd_socket;   // -x: the old process's stats socket (expose-fd listeners)
  std::vector<pid_t> soft_stop_pids;  // -sf: SIGUSR1 once we accept
  std::vector<pid_t> hard_stop_pids;  // -st: SIGTERM once we accept
};

void usage(const char* argv0) {
  std::fprintf(stderr,
               "Usage : %s [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]\n"
               "        [ -p <pidfile> ] [ -c ] [ -q ] [ -W ] [ -S <path> ] [ -sf|-st <pid>* ] [ -x <socket> ]\n"
               "        -v displays version ; -vv shows known build options.\n"
               "        -f <file|dir> loads a configuration file or the *.cfg files of a "
               "directory (repeatable)\n"
               "        -c checks the configuration, then exits (0: valid, 1: invalid)\n"
               "        -D goes daemon ; -db (or -d) stays in the foreground\n"
               "        -p writes the pid of the process to <pidfile>\n"
               "        -n sets the global maxconn ; -N the default per-proxy maxconn\n"
               "        -q quiet mode: only alerts are printed\n"
               "        -W master-worker mode (reload with SIGUSR2) ; -S <path> master CLI socket\n"
               "        -sf/-st <pid>* tells those processes to stop softly/now once we accept\n"
               "        -x <socket> takes the listening sockets of the process behind that stats socket\n"
               "        -- <file>* reads the remaining arguments as configuration files\n",
               argv0);
}

void print_version() { std::printf("Sluice version %s\n", SLUICE_VERSION); }

void print_build_options() {
  print_version();
  utsname u{};
  if (uname(&u) == 0) std::printf("Running on: %s %s %s\n", u.sysname, u.release, u.machine);
  std::printf("Build options :\n");
  std::printf("  COMPILER = GCC %s\n", __VERSION__);
  std::printf("  STANDARD = C++%ld\n", (__cplusplus / 100) % 100);
  std::printf("  FLAGS    =");
#ifdef __OPTIMIZE__
  std::printf(" optimized");
#endif
#ifdef NDEBUG
  std::printf(" NDEBUG");
#else
  std::printf(" assertions");
#endif
#ifdef __SANITIZE_ADDRESS__
  std::printf(" -fsanitize=address");
#endif
  std::printf("\n");
  std::printf("\nBuilt with OpenSSL version : %s\n", OPENSSL_VERSION_TEXT);
  std::printf("Running on OpenSSL version : %s\n", OpenSSL_version(OPENSSL_VERSION));
  char pcre[64] = "";
  pcre2_config(PCRE2_CONFIG_VERSION, pcre);
  std::uint32_t jit = 0;
  pcre2_config(PCRE2_CONFIG_JIT, &jit);
  std::printf("Built with PCRE2 version : %s\n", pcre);
  std::printf("PCRE2 library supports JIT : %s\n", jit ? "yes" : "no");
#ifdef SLUICE_HAVE_SYSTEMD
  std::printf("Built with libsystemd support (sd_notify).\n");
#else
  std::printf("Built without libsystemd support.\n");
#endif
  std::printf(
      "\nKernel features used : epoll (edge-triggered, EPOLLEXCLUSIVE), accept4, SO_REUSEPORT,"
      " splice, eventfd, signalfd\n");
}

// Returns 0 to go on, or an exit code + 1 (so 1 means "exit 0").
int parse_args(int argc, char** argv, Options& o) {
  auto number = [&](int& i, const char* flag) -> std::optional<unsigned> {
    if (i + 1 >= argc) {
      alert(std::string("option '") + flag + "' expects a number");
      return std::nullopt;
    }
    char* end = nullptr;
    errno = 0;
    const unsigned long v = std::strtoul(argv[++i], &end, 10);
    if (errno || !end || *end || v == 0 || v > 100'000'000UL) {
      alert(std::string("option '") + flag + "' expects a positive number, got '" + argv[i] + "'");
      return std::nullopt;
    }
    return static_cast<unsigned>(v);
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) o.files.emplace_back(argv[i]);
      break;
    }
    if (a == "-f") {
      if (i + 1 >= argc) {
        alert("option '-f' expects a configuration file or directory");
        return 2;
      }
      o.files.emplace_back(argv[++i]);
    } else if (a.size() > 2 && a.substr(0, 2) == "-f") {
      o.files.emplace_back(a.substr(2));
    } else if (a == "-c") {
      o.check = true;
    } else if (a == "-db" || a == "-d") {
      o.foreground = true;
    } else if (a == "-D") {
      o.daemon = true;
    } else if (a == "-q") {
      g_quiet = true;
    } else if (a == "-V") {
      g_quiet = false;
    } else if (a == "-p") {
      if (i + 1 >= argc) {
        alert("option '-p' expects a pid file name");
        return 2;
      }
      o.pidfile = argv[++i];
    } else if (a == "-v") {
      print_version();
      return 1;
    } else if (a == "-vv") {
      print_build_options();
      return 1;
    } else if (a == "-n") {
      auto v = number(i, "-n");
      if (!v) return 2;
      o.maxconn = v;
    } else if (a == "-N") {
      auto v = number(i, "-N");
      if (!v) return 2;
      o.proxy_maxconn = v;
    } else if (a == "-W" || a == "-Ws") {
      o.master_worker = true;
    } else if (a == "-S") {
      if (i + 1 >= argc) {
        alert("option '-S' expects a socket path");
        return 2;
      }
      o.master_cli = argv[++i];
      if (o.master_cli.find(',') != std::string::npos) {
        alert("option '-S': socket options (" + o.master_cli.substr(o.master_cli.find(',') + 1) +
              ") are not implemented yet in Sluice; give a path");
        return 2;
      }
    } else if (a == "-sf" || a == "-st") {
      auto& pids = a == "-sf" ? o.soft_stop_pids : o.hard_stop_pids;
      while (i + 1 < argc && argv[i + 1][0] != '-') {
        char* end = nullptr;
        errno = 0;
        const long v = std::strtol(argv[++i], &end, 10);
        if (errno || !end || *end || v <= 0) {
          alert("option '" + std::string(a) + "' expects process ids, got '" + argv[i] + "'");
          return 2;
        }
        pids.push_back(static_cast<pid_t>(v));
      }
    } else if (a == "-x") {
      if (i + 1 >= argc) {
        alert("option '-x' expects the path of a stats socket");
        return 2;
      }
      o.fd_socket = argv[++i];
    } else if (a == "-L" || a == "-C") {
      alert("option '" + std::string(a) + "' is not implemented yet in Sluice");
      return 2;
    } else {
      alert("unknown option '" + std::string(a) + "'");
      usage(argv[0]);
      return 2;
    }
  }
  return 0;
}

// ---------------------------------------------------------------- start-up steps

// HAProxy's rule: the soft limit must cover two fds per connection plus
// listeners, checks and logs. `ulimit-n` wins when given.
void raise_fd_limit(const Model& m) {
  rlimit cur{};
  if (getrlimit(RLIMIT_NOFILE, &cur) != 0) return;
  rlim_t want = cur.rlim_max;  // maxconn unset: take what the hard limit allows
  if (m.global.ulimit_n) {
    want = *m.global.ulimit_n;
  } else if (m.global.maxconn) {
    std::size_t extra = 64 + m.global.logs.size();
    for (const auto& p : m.proxies) extra += p.binds.size() + p.servers.size() + p.logs.size();
    want = static_cast<rlim_t>(m.global.maxconn) * 2 + extra;
  }
  rlimit next = cur;
  next.rlim_cur = want;
  if (want > cur.rlim_max) next.rlim_max = want;  // needs root
  if (setrlimit(RLIMIT_NOFILE, &next) == 0) return;
  const int err = errno;
  if (want > cur.rlim_max) {
    next.rlim_max = cur.rlim_max;
    next.rlim_cur = cur.rlim_max;
    setrlimit(RLIMIT_NOFILE, &next);
  }
  warning("cannot raise the file descriptor limit to " + std::to_string(want) + " (" +
          errno_text(err) + "); it is " + std::to_string(next.rlim_cur) +
          ": maxconn may not be reachable");
}

bool drop_privileges(const Model& m) {
  const auto& g = m.global;
  if (!g.chroot.empty()) {
    if (::chroot(g.chroot.c_str()) != 0 || ::chdir("/") != 0) {
      alert("cannot chroot to '" + g.chroot + "': " + errno_text(errno) +
            (geteuid() != 0 ? " (chroot needs root)" : ""));
      return false;
    }
  }
  if (g.gid && static_cast<gid_t>(*g.gid) != getegid()) {
    const gid_t gid = static_cast<gid_t>(*g.gid);
    if ((geteuid() == 0 && setgroups(1, &gid) != 0) || setgid(gid) != 0) {
      alert("cannot switch to gid " + std::to_string(gid) + ": " + errno_text(errno) +
            (geteuid() != 0 ? " (not running as root)" : ""));
      return false;
    }
  } else if (g.uid && geteuid() == 0 && static_cast<uid_t>(*g.uid) != 0) {
    // Leaving root without a group change: drop root's supplementary groups.
    setgroups(0, nullptr);
  }
  if (g.uid && static_cast<uid_t>(*g.uid) != geteuid()) {
    if (setuid(static_cast<uid_t>(*g.uid)) != 0) {
      alert("cannot switch to uid " + std::to_string(*g.uid) + ": " + errno_text(errno) +
            (geteuid() != 0 ? " (not running as root)" : ""));
      return false;
    }
  }
  return true;
}

// fork; the parent waits until the child says it started, then exits.
// Returns the fd the child writes to when ready (or -1 on failure).
int daemonise() {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) {
    alert("cannot create a pipe to daemonise: " + errno_text(errno));
    return -1;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    alert("cannot fork to daemonise: " + errno_text(errno));
    return -1;
  }
  if (pid > 0) {
    ::close(ready[1]);
    char c = 0;
    ssize_t n;
    do n = ::read(ready[0], &c, 1);
    while (n < 0 && errno == EINTR);
    // Nothing read: the child died before starting (it printed why to the logs).
    _exit(n == 1 && c == 'R' ? 0 : 1);
  }
  ::close(ready[0]);
  setsid();
  if (::chdir("/") != 0) {
    // already checked by chroot; not fatal
  }
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) ::close(null);
  }
  return ready[1];
}

const char* proxy_kind(const sluice::config::Proxy& p) {
  switch (p.cap) {
    case sluice::config::ProxyCap::Frontend:
      return "frontend";
    case sluice::config::ProxyCap::Backend:
      return "backend";
    default:
      return "proxy";
  }
}

// ---------------------------------------------------------------- process life

class Life {
 public:
  Life(sluice::log::Logger& logger, bool foreground) : logger_(logger), foreground_(foreground) {}

  // To the global log targets, and to stderr in the foreground.
  void log(Level level, const std::string& msg) const {
    logger_.send(level, msg);
    if (!foreground_) return;
    if (level <= Level::Err)
      alert(msg);
    else if (level == Level::Warning)
      warning(msg);
    else if (level == Level::Notice)
      notice(msg);
  }

 private:
  sluice::log::Logger& logger_;
  bool foreground_;
};

// Loads the configuration files and applies the command-line overrides.
// Warnings and errors go to `messages` (one line each) when given, else to
// stderr.
std::optional<Model> load_model(const Options& opt, std::string* messages) {
  auto loaded = sluice::config::load_files(opt.files);
  for (const auto& w : loaded.warnings) {
    if (messages)
      *messages += "[WARNING] " + sluice::config::format_diagnostic(w) + "\n";
    else
      warning(sluice::config::format_diagnostic(w));
  }
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) {
      if (messages)
        *messages += "[ALERT] " + sluice::config::format_diagnostic(e) + "\n";
      else
        alert(sluice::config::format_diagnostic(e));
    }
    if (messages)
      *messages += "[ALERT] Fatal errors found in configuration.\n";
    else
      alert("Fatal errors found in configuration.");
    return std::nullopt;
  }
  Model model = std::move(loaded.model);
  if (opt.maxconn) model.global.maxconn = *opt.maxconn;
  if (opt.proxy_maxconn) {
    for (auto& p : model.proxies)
      if (p.maxconn == 0) p.maxconn = *opt.proxy_maxconn;
  }
  return model;
}

// Remove the pid file at exit unless a newer process (-sf/-st reload) has
// written its own pid there since. May fail after chroot/setuid: harmless.
void remove_pidfile_if_ours(const std::string& path) {
  char buf[32] = {};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0 || std::atol(buf) != static_cast<long>(::getpid())) return;
  ::unlink(path.c_str());
}

// How serve() runs: alone (daemon, pidfile, its own sockets) or as a worker
// forked by the master (which did those and holds the sockets).
struct ServeEnv {
  bool worker = false;
  sluice::runtime::ListenerSource source;  // the master's sockets
  int report_fd = -1;  // to the master: messages, then READY
  sluice::runtime::WorkerHandoff handoff;  // reload hand-over channels (master-worker)
};

// Starts the engine and runs until it stops; returns the exit status.
int serve(Model& model, const Options& opt, ServeEnv env) {
  const bool background = (model.global.daemon || opt.daemon) && !opt.foreground;
  const bool daemon = !env.worker && background;
  const std::string pidfile =
      env.worker ? std::string() : (!opt.pidfile.empty() ? opt.pidfile : model.global.pidfile);

  // ---- resources, logs, listeners (as the user who started us)
  if (!env.worker) raise_fd_limit(model);
  // The descriptor table sized now, while this process has one thread
  // (core/fd_table.h): up to the descriptor limit, at most 65,536 (512 KiB
  // of kernel memory; past that, each doubling still waits once).
  sluice::core::reserve_fd_table(65536);
  sluice::log::Logger logger(model.global.logs, model.global.log_tag,
                             model.global.log_send_hostname);
  Life life(logger, !background);

  // -x: the old process's sockets (as haproxy: failing to get them is only
  // a warning, and we bind anew).
  std::shared_ptr<sluice::runtime::KeyedFds> inherited;
  if (!env.worker && !opt.fd_socket.empty()) {
    auto got = sluice::runtime::fetch_listening_fds(opt.fd_socket, 5000);
    if (!got) {
      warning("-x: " + got.error() + "; binding the listening sockets anew");
    } else {
      inherited = std::make_shared<sluice::runtime::KeyedFds>(std::move(*got));
      env.source = [inherited](const sluice::config::Address& a,
                               const sluice::core::ListenOptions& o,
                               unsigned count) -> sluice::Result<std::vector<int>> {
        const std::string key = sluice::runtime::ListenInventory::key(a, o);
        std::vector<int> fds;
        for (auto& [k, fd] : *inherited)
          if (fd >= 0 && k == key) {
            fds.push_back(fd);
            fd = -1;
          }
        while (fds.size() < count) {
          sluice::Result<int> fd = sluice::core::open_listener(a, o);
          if (!fd) {
            for (int f : fds) ::close(f);
            return sluice::make_error(fd.error());
          }
          fds.push_back(*fd);
        }
        return fds;
      };
    }
  }
  // -x with -sf: the old process gets a hand-over channel to us now, while
  // the socket at that path is still its own (ours replaces it below); its
  // idle keep-alive connections come over when -sf stops it.
  if (!env.worker && !opt.fd_socket.empty() && !opt.soft_stop_pids.empty() && env.handoff.in < 0) {
    int chan[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) == 0) {
      auto offered = sluice::runtime::offer_handoff_channel(opt.fd_socket, chan[0], 2000);
      ::close(chan[0]);  // the old process has its own copy now (or none)
      if (offered) {
        env.handoff.in = chan[1];
        notice("-x: " + opt.fd_socket + " will hand its idle connections over to us");
      } else {
        ::close(chan[1]);
        warning("-x: no hand-over of idle connections: " + offered.error());
      }
    }
  }
  auto created = sluice::runtime::Engine::create(model, logger, std::move(env.source));
  if (inherited) {
    std::size_t used = 0;
    for (auto& [k, fd] : *inherited) {
      if (fd < 0) {
        ++used;
        continue;
      }
      ::close(fd);  // an address the new configuration no longer has
      fd = -1;
    }
    if (created) notice("-x: " + std::to_string(used) + " of " + std::to_string(inherited->size()) +
                        " listening sockets taken from " + opt.fd_socket);
  }
  if (!created) {
    logger.send(Level::Alert, created.error());
    alert(created.error());  // still attached to the terminal here
    return 1;
  }
  std::unique_ptr<sluice::runtime::Engine> engine = std::move(created.value());
  engine->set_handoff(env.handoff.in, env.handoff.out);
  for (const auto& w : engine->take_warnings()) warning(w);

  // Opened before chroot and setuid, written once we know our final pid.
  int pid_fd = -1;
  if (!pidfile.empty()) {
    pid_fd = ::open(pidfile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (pid_fd < 0) {
      alert("cannot create pid file '" + pidfile + "': " + errno_text(errno));
      return 1;
    }
  }

  if (!drop_privileges(model)) return 1;

  int ready_fd = -1;
  if (daemon) {
    ready_fd = daemonise();
    if (ready_fd < 0) return 1;
  }
  if (pid_fd >= 0) {
    const std::string text = std::to_string(getpid()) + "\n";
    if (::write(pid_fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      life.log(Level::Warning, "cannot write pid file '" + pidfile + "': " + errno_text(errno));
    ::close(pid_fd);
  }

  // Every thread inherits this mask: signals are only taken by signalfd below.
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGTERM, SIGINT, SIGUSR1, SIGHUP}) sigaddset(&mask, s);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  const int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
  const int done_fd = eventfd(0, EFD_CLOEXEC);

  engine->start();  // returns once every thread accepts
  for (const auto& p : model.proxies) life.log(Level::Notice, "Proxy " + p.name + " started.");
  if (ready_fd >= 0) {
    const char r = 'R';
    ssize_t n = ::write(ready_fd, &r, 1);
    (void)n;
    ::close(ready_fd);
  }
  if (env.report_fd >= 0) {
    const std::string line = std::string(sluice::runtime::kWorkerReady) + "\n";
    g_report_fd = -1;
    ssize_t n = ::write(env.report_fd, line.data(), line.size());
    (void)n;
    ::close(env.report_fd);
  }
  // -sf / -st: we accept now, so the old processes may go.
  for (pid_t pid : opt.soft_stop_pids)
    if (::kill(pid, SIGUSR1) != 0)
      life.log(Level::Warning, "-sf: cannot signal process " + std::to_string(pid) + ": " +
                                   errno_text(errno));
  for (pid_t pid : opt.hard_stop_pids)
    if (::kill(pid, SIGTERM) != 0)
      life.log(Level::Warning, "-st: cannot signal process " + std::to_string(pid) + ": " +
                                   errno_text(errno));
  // engine->wait() blocks; it runs beside the signal loop so that a SIGTERM
  // still works while a soft stop drains.
  std::thread waiter([&] {
    engine->wait();
    const std::uint64_t one = 1;
    ssize_t n = ::write(done_fd, &one, sizeof one);
    (void)n;
  });

  using Clock = std::chrono::steady_clock;
  bool hard_deadline_set = false;  // (std::optional here trips GCC 12's maybe-uninitialized)
  Clock::time_point hard_deadline{};
  bool soft_stopping = false;
  bool hard_stopping = false;
  for (;;) {
    pollfd fds[2] = {{sig_fd, POLLIN, 0}, {done_fd, POLLIN, 0}};
    int timeout = -1;
    if (hard_deadline_set) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(hard_deadline - Clock::now());
      timeout = left.count() < 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
    }
    const int n = poll(fds, 2, timeout);
    if (n < 0 && errno != EINTR) break;
    if (fds[1].revents & POLLIN) break;  // every worker has ended
    if (hard_deadline_set && Clock::now() >= hard_deadline && !hard_stopping) {
      life.log(Level::Warning, "hard-stop-after reached: closing the remaining connections.");
      hard_stopping = true;
      hard_deadline_set = false;
      engine->hard_stop();
    }
    if (!(fds[0].revents & POLLIN)) continue;
    signalfd_siginfo si{};
    if (::read(sig_fd, &si, sizeof si) != static_cast<ssize_t>(sizeof si)) continue;
    switch (si.ssi_signo) {
      case SIGTERM:
      case SIGINT:
        if (!hard_stopping) {
          for (const auto& p : model.proxies)
            life.log(Level::Warning, std::string("Stopping ") + proxy_kind(p) + " " + p.name +
                                         " immediately.");
        }
        hard_stopping = true;
        engine->hard_stop();
        break;
      case SIGUSR1:
        if (!soft_stopping && !hard_stopping) {
          for (const auto& p : model.proxies)
            life.log(Level::Warning,
                     std::string("Stopping ") + proxy_kind(p) + " " + p.name + " in 0 ms.");
          soft_stopping = true;
          if (model.global.hard_stop_after) {
            hard_deadline_set = true;
            hard_deadline = Clock::now() + *model.global.hard_stop_after;
          }
          engine->soft_stop();
        }
        break;
      case SIGHUP:
        life.log(Level::Notice, "SIGHUP received: nothing to dump yet; ignored (SIGUSR1 stops"
                                " softly, SIGTERM stops now).");
        break;
      default:
        break;
    }
  }
  waiter.join();
  for (const auto& p : model.proxies) life.log(Level::Warning, "Proxy " + p.name + " stopped.");
  engine.reset();
  if (!pidfile.empty()) remove_pidfile_if_ours(pidfile);
  return 0;
}


// -W / master-worker: this process becomes the master (daemon, pidfile,
// sockets, reloads); the proxy runs in the workers it forks.
int run_master_process(Model& model, const Options& opt) {
  const bool daemon = (model.global.daemon || opt.daemon) && !opt.foreground;
  const std::string pidfile = !opt.pidfile.empty() ? opt.pidfile : model.global.pidfile;
  raise_fd_limit(model);
  sluice::log::Logger logger(model.global.logs, model.global.log_tag,
                             model.global.log_send_hostname);
  Life life(logger, !daemon);

  int pid_fd = -1;
  if (!pidfile.empty()) {
    pid_fd = ::open(pidfile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (pid_fd < 0) {
      alert("cannot create pid file '" + pidfile + "': " + errno_text(errno));
      return 1;
    }
  }
  int ready_fd = -1;
  if (daemon) {
    ready_fd = daemonise();
    if (ready_fd < 0) return 1;
  }
  if (pid_fd >= 0) {  // the master's pid: the one to signal for reloads
    const std::string text = std::to_string(getpid()) + "\n";
    if (::write(pid_fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      life.log(Level::Warning, "cannot write pid file '" + pidfile + "': " + errno_text(errno));
    ::close(pid_fd);
  }

  sluice::runtime::MasterSetup ms;
  ms.cli_path = opt.master_cli;
  ms.exit_on_failure = model.global.exit_on_failure;
  ms.load = [&opt](std::string& messages) -> sluice::Result<Model> {
    std::optional<Model> m = load_model(opt, &messages);
    if (!m) return sluice::make_error("the configuration has errors");
    return std::move(*m);
  };
  // -sf/-st concern the processes before the master: only its first worker
  // signals them, never the workers of later reloads.
  Options worker_opt = opt;
  ms.worker = [&worker_opt, &ready_fd](Model& m, sluice::runtime::ListenerSource source,
                                       int report_fd, sluice::runtime::WorkerHandoff handoff) {
    if (ready_fd >= 0) ::close(ready_fd);  // the daemon parent's pipe is the master's
    g_report_fd = report_fd;
    ServeEnv env;
    env.worker = true;
    env.source = std::move(source);
    env.report_fd = report_fd;
    env.handoff = handoff;
    return serve(m, worker_opt, std::move(env));
  };
  ms.log = [&life](Level level, const std::string& msg) { life.log(level, msg); };
  ms.on_ready = [&ready_fd, &worker_opt] {
    worker_opt.soft_stop_pids.clear();
    worker_opt.hard_stop_pids.clear();
    if (ready_fd < 0) return;
    const char r = 'R';
    ssize_t n = ::write(ready_fd, &r, 1);
    (void)n;
    ::close(ready_fd);
    ready_fd = -1;
  };
  const int status = sluice::runtime::run_master(model, std::move(ms));
  if (!pidfile.empty()) remove_pidfile_if_ours(pidfile);
  return status;
}
}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);

  Options opt;
  if (const int r = parse_args(argc, argv, opt)) return r - 1;
  if (opt.files.empty()) {
    alert("no configuration file given (use -f <file|dir>)");
    usage(argv[0]);
    return 1;
  }
  for (const auto& f : opt.files) {
    const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      alert("cannot open configuration file '" + f + "': " + errno_text(errno));
      return 1;
    }
    ::close(fd);
  }

  std::optional<Model> loaded = load_model(opt, nullptr);
  if (!loaded) return 1;
  if (opt.check) {
    if (!g_quiet) std::printf("Configuration file is valid\n");
    return 0;
  }
  Model& model = *loaded;
  if (!opt.master_worker && !model.global.master_worker) return serve(model, opt, ServeEnv{});
  // The master keeps the listening sockets across reloads itself.
  if (!opt.fd_socket.empty()) warning("-x is ignored in master-worker mode; binding anew");
  return run_master_process(model, opt);
}
