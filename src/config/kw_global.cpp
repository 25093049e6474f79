// Handlers of the `global` section keywords.

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <vector>

#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config::kw {

Result<void> daemon(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 0, 0, "no argument"); !r) return r;
  p.global().daemon = true;
  return {};
}

Result<void> master_worker(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 0, 1, "no argument or 'no-exit-on-failure'"); !r) return r;
  if (!st.args.empty() && st.args[0] != "no-exit-on-failure")
    return Error{"expects no argument or 'no-exit-on-failure', got '" + st.args[0] + "'"};
  p.global().master_worker = true;
  p.global().exit_on_failure = st.args.empty();
  return {};
}

Result<void> chroot(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a directory"); !r) return r;
  p.global().chroot = st.args[0];
  return {};
}

Result<void> uid(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a numeric user id"); !r) return r;
  auto v = parse_uint(st.args[0]);
  if (!v) return Error{v.error()};
  p.global().uid = *v;
  return {};
}

Result<void> gid(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a numeric group id"); !r) return r;
  auto v = parse_uint(st.args[0]);
  if (!v) return Error{v.error()};
  p.global().gid = *v;
  return {};
}

Result<unsigned> lookup_user(const std::string& name) {
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found)
    return make_error("unknown user " + quote(name));
  return static_cast<unsigned>(found->pw_uid);
}

Result<unsigned> lookup_group(const std::string& name) {
  long size = sysconf(_SC_GETGR_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
  struct group gr{};
  struct group* found = nullptr;
  if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found)
    return make_error("unknown group " + quote(name));
  return static_cast<unsigned>(found->gr_gid);
}

Result<void> user(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a user name"); !r) return r;
  auto v = lookup_user(st.args[0]);
  if (!v) return Error{v.error()};
  p.global().uid = *v;
  return {};
}

Result<void> group(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a group name"); !r) return r;
  auto v = lookup_group(st.args[0]);
  if (!v) return Error{v.error()};
  p.global().gid = *v;
  return {};
}

Result<void> ulimit_n(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a number"); !r) return r;
  auto v = parse_uint(st.args[0]);
  if (!v) return Error{v.error()};
  p.global().ulimit_n = *v;
  return {};
}

Result<void> global_maxconn(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a number"); !r) return r;
  auto v = parse_uint(st.args[0]);
  if (!v) return Error{v.error()};
  p.global().maxconn = *v;
  return {};
}

Result<void> pidfile(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a file name"); !r) return r;
  p.global().pidfile = st.args[0];
  return {};
}

Result<void> nbthread(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a number of threads"); !r) return r;
  auto v = parse_uint(st.args[0], 1, 4096);
  if (!v) return Error{v.error()};
  p.global().nbthread = *v;
  return {};
}

Result<void> nbproc(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a number"); !r) return r;
  auto v = parse_uint(st.args[0], 1, 4096);
  if (!v) return Error{v.error()};
  p.nbproc = *v;
  p.nbproc_loc = p.loc();
  p.warn("nbproc", "nbproc is gone; Sluice runs " + st.args[0] +
                       " threads in one process instead (use 'nbthread " + st.args[0] + "')");
  return {};
}

Result<void> log_tag(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a tag"); !r) return r;
  p.global().log_tag = st.args[0];
  return {};
}

Result<void> log_send_hostname(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 0, 1, "an optional host name"); !r) return r;
  if (st.args.size() == 1) {
    p.global().log_send_hostname = st.args[0];
    return {};
  }
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return make_error("cannot read the host name");
  p.global().log_send_hostname = host;
  return {};
}

Result<void> node(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a node name"); !r) return r;
  p.global().node = st.args[0];
  return {};
}

Result<void> tune_bufsize(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a size like 16k"); !r) return r;
  auto v = parse_size(st.args[0]);
  if (!v) return Error{v.error()};
  if (*v < 1024 || *v > (1U << 30))
    return make_error("buffer size " + st.args[0] + " is out of range 1k..1g");
  p.global().bufsize = static_cast<std::size_t>(*v);
  return {};
}

Result<void> hard_stop_after(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a time like 30s"); !r) return r;
  auto v = parse_time(st.args[0]);
  if (!v) return Error{v.error()};
  p.global().hard_stop_after = *v;
  return {};
}

Result<void> close_spread_time(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a time like 1s, or infinite"); !r) return r;
  if (st.args[0] == "infinite") {
    p.global().close_spread_infinite = true;
    p.global().close_spread_time.reset();
    return {};
  }
  auto v = parse_time(st.args[0]);
  if (!v) return Error{v.error()};
  p.global().close_spread_infinite = false;
  p.global().close_spread_time = *v;
  return {};
}

Result<void> spread_checks(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a percentage 0..50"); !r) return r;
  auto v = parse_uint(st.args[0], 0, 50);
  if (!v) return Error{v.error()};
  p.global().spread_checks = *v;
  return {};
}

}  // namespace sluice::config::kw
