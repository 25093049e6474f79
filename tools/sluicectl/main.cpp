// sluicectl: the operator's client for Sluice's stats socket (runtime API)
// and master CLI: status, server state changes, reload, rolling restarts.
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "ctl.h"

namespace {

using namespace sluicectl;
using Clock = std::chrono::steady_clock;

struct Failure {
  std::string message;
};

double secs_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Sends one command to a runtime socket and reads the whole answer (the
// socket closes after a non-interactive command). Throws Failure.
std::string ask(const std::string& where, const std::string& command, double timeout_s = 10) {
  int fd = -1;
  std::string what = where;
  if (where.starts_with("ipv4@") || where.starts_with("ipv6@")) {
    std::string hp = where.substr(5);
    auto [host, port] = split_addr(hp);
    addrinfo hints{};
    hints.ai_family = where.starts_with("ipv4@") ? AF_INET : AF_INET6;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (port.empty() || getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 ||
        res == nullptr)
      throw Failure{"bad socket address '" + where + "' (want ipv4@HOST:PORT)"};
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
    int err = errno;
    freeaddrinfo(res);
    if (rc != 0) {
      if (fd >= 0) close(fd);
      throw Failure{"cannot connect to " + where + ": " + std::strerror(err)};
    }
  } else {
    std::string path = where.starts_with("unix@") ? where.substr(5) : where;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof(sa.sun_path)) throw Failure{"socket path too long: " + path};
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      int err = errno;
      if (fd >= 0) close(fd);
      std::string why =
          err == ENOENT   ? "no such socket (is Sluice running with a 'stats socket'/-S here?)"
          : err == EACCES ? "permission denied (check the socket's mode/user/group)"
          : err == ECONNREFUSED ? "connection refused (stale socket: Sluice not running?)"
                                : std::strerror(err);
      throw Failure{"cannot connect to " + path + ": " + why};
    }
  }
  std::string line = command + "\n";
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    int err = errno;
    close(fd);
    throw Failure{"cannot send to " + what + ": " + std::strerror(err)};
  }
  shutdown(fd, SHUT_WR);
  std::string out;
  auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
  char buf[65536];
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      close(fd);
      throw Failure{"timeout waiting for the answer to '" + command + "' on " + what};
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EOF or reset (an answer already read stays valid)
  }
  close(fd);
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  while (!s.empty() && (s.front() == '\n' || s.front() == ' ')) s.erase(0, 1);
  return s;
}

std::vector<StatRow> stats(const std::string& sock) {
  std::string ans = ask(sock, "show stat");
  auto rows = parse_stat_csv(ans);
  if (!rows) throw Failure{"unexpected answer to 'show stat': " + trim(ans)};
  return *rows;
}

// Runs a state-changing command; the runtime API answers nothing on success.
void act(const std::string& sock, const std::string& command) {
  std::string ans = trim(ask(sock, command));
  if (!ans.empty()) throw Failure{"'" + command + "': " + ans};
}

const StatRow* find_server(const std::vector<StatRow>& rows, const std::string& be,
                           const std::string& sv) {
  for (const auto& r : rows)
    if (r.is_server() && r.get("pxname") == be && r.get("svname") == sv) return &r;
  return nullptr;
}

std::pair<std::string, std::string> split_bs(const std::string& bs) {
  auto slash = bs.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == bs.size())
    throw Failure{"expected BACKEND/SERVER, got '" + bs + "'"};
  return {bs.substr(0, slash), bs.substr(slash + 1)};
}

void check_server_exists(const std::string& sock, const std::string& bs) {
  auto [be, sv] = split_bs(bs);
  auto rows = stats(sock);
  bool be_found = false;
  for (const auto& r : rows)
    if (r.get("pxname") == be && (r.is_backend() || r.is_server())) be_found = true;
  if (!be_found) throw Failure{"no such backend '" + be + "'"};
  if (!find_server(rows, be, sv))
    throw Failure{"no such server '" + sv + "' in backend '" + be + "'"};
}

std::string fmt_duration(long s) {
  if (s < 0 || s == 0) return s == 0 ? "0s" : "-";
  char b[32];
  if (s < 60)
    std::snprintf(b, sizeof b, "%lds", s);
  else if (s < 3600)
    std::snprintf(b, sizeof b, "%ldm%02lds", s / 60, s % 60);
  else if (s < 86400)
    std::snprintf(b, sizeof b, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else
    std::snprintf(b, sizeof b, "%ldd%02ldh", s / 86400, (s / 3600) % 24);
  return b;
}

int cmd_status(const std::string& sock, const std::string& backend, bool json) {
  auto rows = stats(sock);
  // `show stat` lists a proxy's servers before its BACKEND line: show each
  // backend first, then its servers, backends in their order.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const StatRow*>> servers_of;
  std::map<std::string, const StatRow*> backend_of;
  for (const auto& r : rows) {
    if (!r.is_backend() && !r.is_server()) continue;
    const std::string& px = r.get("pxname");
    if (!backend.empty() && px != backend) continue;
    if (!backend_of.count(px) && !servers_of.count(px)) order.push_back(px);
    if (r.is_backend())
      backend_of[px] = &r;
    else
      servers_of[px].push_back(&r);
  }
  if (!backend.empty() && order.empty()) throw Failure{"no such backend '" + backend + "'"};
  std::vector<const StatRow*> shown;
  for (const auto& px : order) {
    if (backend_of.count(px)) shown.push_back(backend_of[px]);
    for (const StatRow* r : servers_of[px]) shown.push_back(r);
  }
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    nlohmann::json* cur = nullptr;
    auto as_num = [](const StatRow& r, const char* k) -> nlohmann::json {
      if (r.get(k).empty()) return nullptr;
      return r.num(k);
    };
    for (const StatRow* r : shown) {
      if (r->is_backend()) {
        out.push_back({{"backend", r->get("pxname")},
                       {"status", r->get("status")},
                       {"weight", as_num(*r, "weight")},
                       {"sessions",
                        {{"cur", as_num(*r, "scur")},
                         {"max", as_num(*r, "smax")},
                         {"total", as_num(*r, "stot")}}},
                       {"last_change_s", as_num(*r, "lastchg")},
                       {"servers", nlohmann::json::array()}});
        cur = &out.back();
        continue;
      }
      nlohmann::json s = {
          {"name", r->get("svname")},
          {"addr", r->get("addr")},
          {"status", r->get("status")},
          {"weight", as_num(*r, "weight")},
          {"uweight", as_num(*r, "uweight")},
          {"sessions",
           {{"cur", as_num(*r, "scur")},
            {"max", as_num(*r, "smax")},
            {"total", as_num(*r, "stot")}}},
          {"check",
           {{"status", r->get("check_status")}, {"duration_ms", as_num(*r, "check_duration")}}},
          {"agent",
           {{"status", r->get("agent_status")}, {"duration_ms", as_num(*r, "agent_duration")}}},
          {"last_change_s", as_num(*r, "lastchg")}};
      if (cur == nullptr || (*cur)["backend"] != r->get("pxname")) {
        out.push_back({{"backend", r->get("pxname")}, {"servers", nlohmann::json::array()}});
        cur = &out.back();
      }
      (*cur)["servers"].push_back(std::move(s));
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("%-28s %-14s %7s %17s %-10s %8s %-8s %9s\n", "BACKEND/SERVER", "STATE", "WEIGHT",
              "SESS CUR/MAX/TOT", "CHECK", "CHK_MS", "AGENT", "LASTCHG");
  for (const StatRow* r : shown) {
    std::string name =
        r->is_backend() ? r->get("pxname") : "  " + r->get("pxname") + "/" + r->get("svname");
    std::string weight = r->get("weight");
    if (r->is_server() && !r->get("uweight").empty() && r->get("uweight") != weight)
      weight += "/" + r->get("uweight");
    std::string sess = r->get("scur") + "/" + r->get("smax") + "/" + r->get("stot");
    std::string chk = r->get("check_status");
    std::string dur = r->get("check_duration");
    std::string agent = r->get("agent_status");
    std::string last = r->get("lastchg").empty() ? "-" : fmt_duration(r->num("lastchg"));
    std::printf("%-28s %-14s %7s %17s %-10s %8s %-8s %9s\n", name.c_str(), r->get("status").c_str(),
                weight.c_str(), sess.c_str(), chk.empty() ? "-" : chk.c_str(),
                dur.empty() ? "-" : dur.c_str(), agent.empty() ? "-" : agent.c_str(), last.c_str());
  }
  return 0;
}

int cmd_reload(const std::string& master) {
  if (master.empty())
    throw Failure{"reload needs the master CLI socket: --master PATH (sluice -W -S PATH)"};
  std::string ans = ask(master, "reload", 60);
  std::string first = ans.substr(0, ans.find('\n'));
  std::string rest = ans.find('\n') == std::string::npos ? "" : ans.substr(ans.find('\n') + 1);
  if (rest.starts_with("--\n")) rest = rest.substr(3);
  rest = trim(rest);
  if (first == "Success=1") {
    std::cout << "reload succeeded\n";
    if (!rest.empty()) std::cout << rest << "\n";
    return 0;
  }
  if (first == "Success=0") {
    std::cerr << "sluicectl: reload failed; the running workers keep serving\n";
    if (!rest.empty()) std::cerr << rest << "\n";
    return 1;
  }
  throw Failure{"unexpected answer to 'reload': " + trim(ans)};
}

// ---- roll ---------------------------------------------------------------

struct RollOptions {
  std::string backend, exec;
  std::vector<std::string> servers;
  int batch = 1, min_up = 1;
  double drain_timeout = 60, ready_timeout = 60, poll = 0.2, settle = 0;
  bool dry_run = false;
};

class Progress {
 public:
  explicit Progress(bool tty) : tty_(tty), start_(Clock::now()) {}
  void begin_batch(const std::vector<PlanServer>& b) {
    lines_.clear();
    for (const auto& s : b) lines_.push_back({s.name, "", "", Clock::now()});
    drawn_ = 0;
  }
  // Sets a server's phase (printed as a plain line when it changes) and detail.
  void set(const std::string& server, const std::string& phase, const std::string& detail) {
    for (auto& l : lines_) {
      if (l.server != server) continue;
      bool changed = l.phase != phase;
      if (changed) l.since = Clock::now();
      l.phase = phase;
      l.detail = detail;
      if (!tty_ && changed) {
        std::printf("[%6.1fs] %s/%s %s: %s\n", secs_since(start_), backend.c_str(), server.c_str(),
                    phase.c_str(), detail.c_str());
        std::fflush(stdout);
      }
    }
    if (tty_) redraw();
  }
  void redraw() {
    if (!tty_) return;
    if (drawn_ > 0) std::printf("\033[%dA", drawn_);
    for (const auto& l : lines_)
      std::printf("\r\033[K  %s/%-20s %-6s %6.1fs  %s\n", backend.c_str(), l.server.c_str(),
                  l.phase.c_str(), secs_since(l.since), l.detail.c_str());
    drawn_ = static_cast<int>(lines_.size());
    std::fflush(stdout);
  }
  std::string backend;

 private:
  struct Line {
    std::string server, phase, detail;
    Clock::time_point since;
  };
  bool tty_;
  Clock::time_point start_;
  std::vector<Line> lines_;
  int drawn_ = 0;
};

int run_shell(const std::string& cmd, std::string& why) {
  pid_t pid = fork();
  if (pid < 0) {
    why = std::string("fork: ") + std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st)) {
    if (WEXITSTATUS(st) != 0) why = "command exited with status " + std::to_string(WEXITSTATUS(st));
    return WEXITSTATUS(st);
  }
  if (WIFSIGNALED(st)) why = std::string("command killed by signal ") + strsignal(WTERMSIG(st));
  return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int cmd_roll(const std::string& sock, const RollOptions& o) {
  auto rows = stats(sock);
  Plan plan = build_plan(rows, o.backend, o.servers, o.batch, o.min_up);
  if (!plan.error.empty()) throw Failure{plan.error};
  if (o.dry_run) {
    std::cout << "dry run, nothing changed\n" << describe_plan(plan, o.exec);
    return 0;
  }
  bool tty = isatty(STDOUT_FILENO) != 0;
  Progress prog(tty);
  prog.backend = o.backend;
  auto start = Clock::now();
  std::printf("rolling %s: %zu batch(es) of up to %d\n", o.backend.c_str(), plan.batches.size(),
              o.batch);
  std::fflush(stdout);
  auto poll_sleep = [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(o.poll * 1000)));
  };
  auto fail = [&](const std::string& server, const std::string& why) -> int {
    prog.set(server, "FAILED", why);
    std::fprintf(
        stderr, "sluicectl: roll stopped at %s/%s: %s; the server is left in maintenance (MAINT)\n",
        o.backend.c_str(), server.c_str(), why.c_str());
    return 2;
  };
  for (const auto& batch : plan.batches) {
    prog.begin_batch(batch);
    // Before taking a batch out, the backend must still have enough servers UP.
    {
      auto now = stats(sock);
      int up = 0;
      std::set<std::string> names;
      for (const auto& s : batch) names.insert(s.name);
      for (const auto& r : now)
        if (r.is_server() && r.get("pxname") == o.backend && server_up(r) &&
            !names.count(r.get("svname")))
          ++up;
      if (up < o.min_up) {
        std::fprintf(
            stderr,
            "sluicectl: roll stopped before %s/%s: only %d other server(s) UP, --min-up is %d\n",
            o.backend.c_str(), batch.front().name.c_str(), up, o.min_up);
        return 2;
      }
    }
    // drain
    for (const auto& s : batch) {
      act(sock, "set server " + o.backend + "/" + s.name + " state drain");
      prog.set(s.name, "drain", "waiting for sessions to end");
    }
    std::set<std::string> pending;
    for (const auto& s : batch) pending.insert(s.name);
    auto t0 = Clock::now();
    while (!pending.empty()) {
      auto now = stats(sock);
      for (auto it = pending.begin(); it != pending.end();) {
        const StatRow* r = find_server(now, o.backend, *it);
        if (r == nullptr) {
          act(sock, "set server " + o.backend + "/" + *it + " state maint");
          return fail(*it, "server disappeared from 'show stat'");
        }
        long scur = r->num("scur");
        if (scur == 0) {
          act(sock, "set server " + o.backend + "/" + *it + " state maint");
          prog.set(*it, "maint", "drained, in maintenance");
          it = pending.erase(it);
          continue;
        }
        prog.set(*it, "drain", std::to_string(scur) + " session(s) left");
        ++it;
      }
      if (pending.empty()) break;
      if (secs_since(t0) > o.drain_timeout) {
        for (const auto& n : pending)
          act(sock, "set server " + o.backend + "/" + n + " state maint");
        return fail(*pending.begin(), "sessions did not reach 0 within --drain-timeout " +
                                          std::to_string(static_cast<long>(o.drain_timeout)) + "s");
      }
      poll_sleep();
    }
    // In maintenance, the sessions dispatched just before the drain took
    // effect must be over too before the server is restarted: a request
    // whose server was picked just before the drain is counted only once it
    // holds its slot, so look again after a poll interval.
    poll_sleep();
    for (const auto& s : batch) {
      for (;;) {
        const StatRow* r = nullptr;
        auto now = stats(sock);
        r = find_server(now, o.backend, s.name);
        if (r != nullptr && !r->get("status").starts_with("MAINT")) {
          // An agent answering "ready" cancels a maintenance set here (as in
          // HAProxy): restarting now would cut live traffic.
          act(sock, "set server " + o.backend + "/" + s.name + " state maint");
          return fail(s.name, "left maintenance by itself (status " + r->get("status") +
                                  "; an agent answering 'ready' cancels maint: answer 'up')");
        }
        if (r == nullptr || r->num("scur") == 0) break;
        if (secs_since(t0) > o.drain_timeout)
          return fail(s.name, std::to_string(r->num("scur")) +
                                  " session(s) still open after --drain-timeout " +
                                  std::to_string(static_cast<long>(o.drain_timeout)) + "s");
        prog.set(s.name, "maint", std::to_string(r->num("scur")) + " session(s) left");
        poll_sleep();
      }
    }
    // exec, one server after the other within the batch
    for (const auto& s : batch) {
      std::string cmd = substitute(o.exec, o.backend, s.name, s.addr, s.port);
      prog.set(s.name, "exec", cmd);
      std::string why;
      int rc = run_shell(cmd, why);
      if (rc != 0) return fail(s.name, "--exec failed: " + why);
    }
    // Checks marked failed while still in maintenance, then ready: only
    // fresh successful checks (and the agent's "up") report the restarted
    // server UP, never a status from before the restart.
    {
      auto now = stats(sock);
      for (const auto& s : batch)
        if (const StatRow* r = find_server(now, o.backend, s.name))
          for (const auto& cmd : mark_unchecked_commands(*r, o.backend, s.name)) act(sock, cmd);
    }
    for (const auto& s : batch) {
      act(sock, "set server " + o.backend + "/" + s.name + " state ready");
      prog.set(s.name, "ready", "waiting for the checks to report UP");
    }
    for (const auto& s : batch) pending.insert(s.name);
    t0 = Clock::now();
    std::map<std::string, Clock::time_point> up_since;
    while (!pending.empty()) {
      auto now = stats(sock);
      for (auto it = pending.begin(); it != pending.end();) {
        const StatRow* r = find_server(now, o.backend, *it);
        if (r != nullptr && server_ready(*r)) {
          // Optionally UP on every poll for --settle more seconds.
          auto since = up_since.try_emplace(*it, Clock::now()).first->second;
          if (secs_since(since) >= o.settle) {
            char took[32];
            std::snprintf(took, sizeof took, "%.1fs", secs_since(t0));
            prog.set(*it, "up", "UP, weight " + r->get("weight") + " (ready after " + took + ")");
            it = pending.erase(it);
            continue;
          }
        } else {
          up_since.erase(*it);
        }
        if (r != nullptr) {
          std::string d = "status " + r->get("status") + ", weight " + r->get("weight") + "/" +
                          r->get("uweight");
          if (!r->get("check_status").empty()) d += ", check " + r->get("check_status");
          if (!r->get("agent_status").empty()) d += ", agent " + r->get("agent_status");
          prog.set(*it, "ready", d);
        }
        ++it;
      }
      if (pending.empty()) break;
      if (secs_since(t0) > o.ready_timeout) {
        std::string name = *pending.begin();
        const StatRow* r = find_server(stats(sock), o.backend, name);
        for (const auto& n : pending)
          act(sock, "set server " + o.backend + "/" + n + " state maint");
        return fail(name, "not UP within --ready-timeout " +
                              std::to_string(static_cast<long>(o.ready_timeout)) + "s (status " +
                              (r ? r->get("status") : std::string("?")) + ")");
      }
      poll_sleep();
    }
  }
  std::printf("roll of %s done in %.1fs\n", o.backend.c_str(), secs_since(start));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sluicectl: status, server state, reload and rolling restarts for Sluice"};
  app.require_subcommand(1);
  std::string sock = "/run/sluice/admin.sock", master;
  app.add_option("-s,--socket", sock, "stats socket: a path, unix@PATH or ipv4@HOST:PORT")
      ->capture_default_str();
  app.add_option("--master", master, "master CLI socket (sluice -W -S PATH), for reload");

  std::string backend;
  bool json = false;
  auto* st = app.add_subcommand("status", "backends and servers: state, weight, sessions, checks");
  st->add_option("backend", backend, "only this backend");
  st->add_flag("--json", json, "JSON output");

  std::string bs;
  int weight = 0;
  struct Simple {
    const char* name;
    const char* help;
    const char* fmt;  // command prefix; " B/S" appended, state after
    const char* suffix;
  };
  static const Simple simple[] = {
      {"enable", "take a server out of maintenance (enable server)", "enable server ", ""},
      {"disable", "put a server in maintenance (disable server)", "disable server ", ""},
      {"drain", "drain a server: no new sessions except persistent ones", "set server ",
       " state drain"},
      {"ready", "put a server back in service (ends drain and maintenance)", "set server ",
       " state ready"},
      {"maint", "put a server in maintenance", "set server ", " state maint"},
  };
  std::vector<CLI::App*> simple_cmds;
  for (const auto& s : simple) {
    auto* c = app.add_subcommand(s.name, s.help);
    c->add_option("server", bs, "BACKEND/SERVER")->required();
    simple_cmds.push_back(c);
  }
  auto* wc = app.add_subcommand("weight", "set a server's weight (set weight)");
  wc->add_option("server", bs, "BACKEND/SERVER")->required();
  wc->add_option("weight", weight, "new weight (0-256)")->required()->check(CLI::Range(0, 256));
  auto* rl = app.add_subcommand(
      "reload", "reload through the master CLI (--master); non-zero exit on failure");

  RollOptions ro;
  std::string servers;
  auto* roll = app.add_subcommand(
      "roll", "restart a backend's servers one batch at a time without losing a request");
  roll->add_option("backend", ro.backend, "backend to roll")->required();
  roll->add_option(
          "--exec", ro.exec,
          "shell command restarting one server; {backend} {server} {addr} {port} are substituted")
      ->required();
  roll->add_option("--servers", servers, "only these servers, in this order (a,b,c)");
  roll->add_option("--batch", ro.batch, "servers restarted at a time")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  roll->add_option("--drain-timeout", ro.drain_timeout,
                   "seconds to wait for a server's sessions to end")
      ->capture_default_str();
  roll->add_option("--ready-timeout", ro.ready_timeout,
                   "seconds to wait for a server to be UP again")
      ->capture_default_str();
  roll->add_option("--min-up", ro.min_up, "refuse to take out a batch leaving fewer servers UP")
      ->capture_default_str();
  roll->add_option("--settle", ro.settle,
                   "seconds a server must stay UP (after its fresh checks) before the next")
      ->capture_default_str();
  roll->add_option("--poll", ro.poll, "seconds between polls of 'show stat'")
      ->capture_default_str();
  roll->add_flag("--dry-run", ro.dry_run, "print the plan, change nothing");

  CLI11_PARSE(app, argc, argv);
  try {
    if (st->parsed()) return cmd_status(sock, backend, json);
    for (std::size_t i = 0; i < simple_cmds.size(); ++i) {
      if (!simple_cmds[i]->parsed()) continue;
      check_server_exists(sock, bs);
      act(sock, std::string(simple[i].fmt) + bs + simple[i].suffix);
      return 0;
    }
    if (wc->parsed()) {
      check_server_exists(sock, bs);
      act(sock, "set weight " + bs + " " + std::to_string(weight));
      return 0;
    }
    if (rl->parsed()) return cmd_reload(master);
    if (roll->parsed()) {
      ro.servers = split_list(servers, ',');
      return cmd_roll(sock, ro);
    }
  } catch (const Failure& f) {
    std::fprintf(stderr, "sluicectl: %s\n", f.message.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluicectl: %s\n", e.what());
    return 1;
  }
  return 1;
}
