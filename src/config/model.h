#pragma once
// The typed, immutable configuration model. The parser (config/load.h) is the
// only producer; every other part of Sluice reads configuration from here and
// never from raw text. Plain structs only: this header is light on purpose.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::config {

using Millis = std::chrono::milliseconds;

// Where a piece of configuration came from, for messages an operator reads.
struct SourceLoc {
  std::string file;
  int line = 0;
};

// A resolved socket address. `text` keeps the operator's spelling for logs.
struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;

  int family() const { return storage.ss_family; }
  bool is_unix() const { return storage.ss_family == AF_UNIX; }
  std::uint16_t port() const {
    if (storage.ss_family == AF_INET)
      return ntohs(reinterpret_cast<const sockaddr_in&>(storage).sin_port);
    if (storage.ss_family == AF_INET6)
      return ntohs(reinterpret_cast<const sockaddr_in6&>(storage).sin6_port);
    return 0;
  }
};

// ---------------------------------------------------------------- logging

enum class LogFormat { Rfc3164, Rfc5424, Raw, Short, Timed, Iso };

struct LogTarget {
  enum class Kind { Udp, UnixDgram, Stdout, Stderr };
  Kind kind = Kind::Udp;
  Address addr;  // Udp / UnixDgram
  int facility = 16;  // local0
  int max_level = 7;  // debug: everything
  int min_level = 0;  // emerg
  LogFormat format = LogFormat::Rfc3164;
  std::size_t max_length = 1024;
  SourceLoc loc;
};

// ---------------------------------------------------------------- global

// `stats socket ADDR [options]` (global): the runtime API's listeners.
struct StatsSocket {
  enum class Level { User, Operator, Admin };
  Address addr;  // a UNIX path or ipv4@/ipv6@ host:port
  Level level = Level::Operator;  // HAProxy's default
  std::optional<unsigned> unix_mode;
  std::optional<unsigned> unix_uid;
  std::optional<unsigned> unix_gid;
  bool expose_fd_listeners = false;
  SourceLoc loc;
};

// `graphite ADDR:PORT [interval T] [prefix P] [metrics all|a,b,...] [buffer N]`:
// stats pushed to a carbon server in its plaintext protocol (stats/graphite.h).
struct GraphiteDef {
  Address addr;
  Millis interval{10000};
  std::string prefix = "servers.<host>.haproxy";  // <host>: hostname, dots as '_'
  std::vector<std::string> metrics;  // stat column names; empty: all numeric ones
  std::size_t buffer_lines = 10000;  // kept while carbon is away; oldest dropped
  SourceLoc loc;
};

struct Global {
  bool daemon = false;
  std::string chroot;
  std::optional<unsigned> uid;
  std::optional<unsigned> gid;
  std::optional<unsigned> ulimit_n;
  unsigned maxconn = 0;  // 0: derived from the fd limit at start-up
  std::string pidfile;
  unsigned nbthread = 0;  // 0: one per CPU
  std::vector<LogTarget> logs;
  std::string log_tag = "sluice";
  std::string log_send_hostname;  // empty: none
  std::string node;
  bool master_worker = false;  // -W / master-worker
  bool exit_on_failure = true;  // master-worker [no-exit-on-failure]
  std::size_t bufsize = 16384;  // tune.bufsize
  std::optional<Millis> hard_stop_after;
  // `close-spread-time`: the window over which a stopping worker tells its
  // keep-alive clients to close (unset: all at once); `infinite`: never
  // (they end at their timeouts).
  std::optional<Millis> close_spread_time;
  bool close_spread_infinite = false;
  unsigned spread_checks = 0;  // percent
  std::vector<StatsSocket> stats_sockets;
  Millis stats_timeout{10000};
  std::string server_state_base;  // `server-state-base DIR`
  std::string server_state_file;  // `server-state-file FILE` (as written)
  std::optional<GraphiteDef> graphite;
};

// ---------------------------------------------------------------- userlists

// `userlist NAME` with `user` and `group` lines: the users HTTP Basic
// authentication accepts (http_auth, http_auth_group). Membership written on
// either side (`group G users U` or `user U groups G`) is merged at load.
struct UserDef {
  std::string name;
  std::string password;  // a crypt(3) hash, or the clear text when `insecure`
  bool insecure = false;
  bool has_password = false;             // false: the user can never authenticate
  std::vector<std::string> group_names;  // as written after `groups`
  std::vector<std::size_t> groups;       // indexes into UserlistDef::groups, sorted
  SourceLoc loc;
};

struct GroupDef {
  std::string name;
  std::vector<std::string> user_names;  // as written after `users`
  SourceLoc loc;
};

struct UserlistDef {
  std::string name;
  std::vector<UserDef> users;
  std::vector<GroupDef> groups;
  SourceLoc loc;

  const UserDef* find_user(std::string_view n) const {
    for (const auto& u : users)
      if (u.name == n) return &u;
    return nullptr;
  }
  int find_group(std::string_view n) const {
    for (std::size_t i = 0; i < groups.size(); ++i)
      if (groups[i].name == n) return static_cast<int>(i);
    return -1;
  }
};

// ---------------------------------------------------------------- ACLs

// One `acl` line (or one anonymous `{ ... }` block). Several lines with the
// same name are ORed together.
struct AclDef {
  std::string name;  // empty for anonymous ACLs
  std::string fetch;  // sample fetch name, e.g. "src", "dst_port", "hdr_end"
  std::vector<std::string> fetch_args;  // the words inside fetch(...)
  std::string matcher;  // "-m" value or the one implied by the fetch ("" = default)
  bool ignore_case = false;  // -i
  bool no_dns = false;  // -n
  std::vector<std::string> pattern_files;  // -f
  std::vector<std::string> patterns;
  SourceLoc loc;
};

// A term of a condition: a named ACL (index into Proxy::acls) or an anonymous
// one (index into Proxy::anonymous_acls), possibly negated.
struct CondTerm {
  bool negate = false;
  bool anonymous = false;
  std::size_t index = 0;
  std::string name;  // as written, for messages
};

// `if`/`unless` followed by terms: AND within a group, OR between groups.
struct Condition {
  bool unless = false;
  std::vector<std::vector<CondTerm>> any_of;
  SourceLoc loc;
};

struct NamedAcl {
  std::string name;
  std::vector<AclDef> defs;  // ORed
};

// ---------------------------------------------------------------- proxies

enum class Mode { Tcp, Http };

struct Timeouts {
  std::optional<Millis> connect;
  std::optional<Millis> client;
  std::optional<Millis> server;
  std::optional<Millis> queue;
  std::optional<Millis> tunnel;
  std::optional<Millis> client_fin;
  std::optional<Millis> server_fin;
  std::optional<Millis> check;
  std::optional<Millis> http_request;
  std::optional<Millis> http_keep_alive;
  std::optional<Millis> tarpit;
};

struct Bind {
  std::vector<Address> addrs;  // port ranges and wildcard forms expanded
  std::string name;
  std::optional<unsigned> maxconn;
  std::optional<unsigned> backlog;
  std::optional<unsigned> unix_mode;  // "mode 600" for UNIX sockets (octal)
  std::optional<unsigned> unix_uid;
  std::optional<unsigned> unix_gid;
  bool v4v6 = false;
  bool v6only = false;
  bool transparent = false;
  std::string interface;
  SourceLoc loc;
};

enum class BalanceAlgo { RoundRobin, StaticRr, LeastConn, First, Source, Uri, UrlParam, Hdr, Random };
enum class HashType { MapBased, Consistent };
enum class HashFunction { Sdbm, Djb2, Wt6, Crc32, None };

struct Balance {
  BalanceAlgo algo = BalanceAlgo::RoundRobin;
  std::vector<std::string> args;  // url_param name, hdr name, random draws
  HashType hash_type = HashType::MapBased;
  HashFunction hash_function = HashFunction::Sdbm;
  bool avalanche = false;
  bool explicit_set = false;  // `balance` written in this section or defaults
  // Key extraction: `uri [len N] [depth N] [whole] [path-only]`,
  // `url_param NAME [check_post]`, `hdr(NAME) [use_domain_only]`.
  std::string key_name;  // url_param / hdr
  unsigned uri_len = 0;  // 0: no limit
  unsigned uri_depth = 0;  // 0: no limit
  bool uri_whole = false;
  bool uri_path_only = false;
  bool check_post = false;
  bool use_domain_only = false;
  unsigned hash_balance_factor = 0;  // bounded loads (consistent hashing); 0: off
};

// One `tcp-check` / `http-check` rule, kept as written; checks/ compiles
// rules into connect / send / expect steps.
struct CheckRule {
  enum class Kind { Connect, Send, SendBinary, Expect, Comment };
  Kind kind = Kind::Expect;
  bool negate = false;  // expect !
  std::string match;  // expect: string, rstring, binary, rbinary, status, rstatus
  std::string pattern;  // expect pattern / send data (escapes resolved)
  std::vector<std::string> args;  // connect / send options, as written
  SourceLoc loc;
};

// The backend's health-check protocol (`option httpchk`, `option
// mysql-check`...): which one and its arguments as written.
struct HealthCheckDef {
  enum class Type { Tcp, HttpChk, Mysql, Pgsql, Redis, Smtp, SslHello, Ldap, TcpCheck };
  Type type = Type::Tcp;
  std::vector<std::string> args;  // the option's arguments
  std::vector<CheckRule> tcp_rules;
  std::vector<CheckRule> http_rules;
  bool disable_on_404 = false;
  bool send_state = false;
  SourceLoc loc;
};

struct ServerDef {
  std::string name;
  int id = 0;  // puid: 1-based, unique in the backend
  Address addr;  // port 0 when not given (use the client's destination port)
  bool port_from_client = false;  // address given without a port
  int port_offset = 0;  // "+N" / "-N" port maps
  bool port_offset_set = false;
  unsigned weight = 1;  // 0..256
  bool backup = false;
  bool disabled = false;  // starts in maintenance
  unsigned maxconn = 0;  // 0: unlimited
  unsigned minconn = 0;
  std::optional<unsigned> maxqueue;  // unset: unlimited
  std::optional<Address> source;
  bool tcpka = false;
  // health check (plain TCP connect in the core; protocols come later)
  bool check = false;
  Millis inter{2000};
  std::optional<Millis> fastinter;
  std::optional<Millis> downinter;
  unsigned rise = 2;
  unsigned fall = 3;
  std::optional<std::uint16_t> check_port;
  std::optional<Address> check_addr;
  // agent check (`agent-check`, `agent-port`, ...)
  bool agent_check = false;
  std::optional<std::uint16_t> agent_port;
  std::optional<Address> agent_addr;
  std::optional<Millis> agent_inter;
  std::string agent_send;
  // weight ramp after coming back UP (`slowstart`); 0: none
  Millis slowstart{0};
  // passive health from real traffic (`observe`, `error-limit`, `on-error`)
  enum class Observe : std::uint8_t { None, Layer4, Layer7 };
  enum class OnError : std::uint8_t { FastInter, FailCheck, SuddenDeath, MarkDown };
  Observe observe = Observe::None;
  unsigned error_limit = 10;
  OnError on_error = OnError::FailCheck;
  bool shutdown_on_down = false;  // on-marked-down shutdown-sessions
  bool shutdown_backups_on_up = false;  // on-marked-up shutdown-backup-sessions
  std::string cookie;  // persistence value (HTTP issue)
  int pool_max_conn = -1;  // idle HTTP connections kept per thread; -1: no limit, 0: no reuse
  unsigned pool_low_conn = 0;     // `pool-low-conn`: see httpmode/conn_pool.h
  Millis pool_purge_delay{5000};  // an idle HTTP connection is closed after this
  SourceLoc loc;
};

// `cookie NAME insert|rewrite|prefix [indirect] [nocache] ...` (HTTP persistence).
struct CookieDef {
  enum class Method { Rewrite, Insert, Prefix };
  std::string name;  // empty: no cookie persistence
  Method method = Method::Rewrite;
  bool indirect = false;
  bool nocache = false;
  bool postonly = false;
  bool preserve = false;
  bool httponly = false;
  bool secure = false;
  std::vector<std::string> domains;
  std::vector<std::string> attrs;  // `attr "VALUE"`: appended to Set-Cookie, in order
  bool dynamic = false;            // servers without `cookie` get a value from dynamic-cookie-key
  std::optional<Millis> maxidle;
  std::optional<Millis> maxlife;
  SourceLoc loc;
};

// `option forwardfor [except NET] [header NAME] [if-none]`.
struct ForwardFor {
  bool enabled = false;
  std::string header = "X-Forwarded-For";
  bool if_none = false;
  bool has_except = false;
  int except_family = 0;  // AF_INET / AF_INET6
  std::uint8_t except_addr[16] = {};
  unsigned except_prefix = 0;
};

// A response served instead of one of Sluice's own errors (`errorfile`,
// `errorloc`, `errorfiles`), prepared at load: header names lowercased and
// Connection fields dropped, as HAProxy serves it.
struct ErrorPage {
  std::string head;  // status line and fields, each ending CRLF; no blank line
  std::string body;
  bool http11 = true;  // a 1.1 page gets "connection: close" when the connection closes
  bool empty = false;  // an empty file (/dev/null): close without answering
};

// Connection handling of HTTP transactions: the last of `option
// http-keep-alive|http-server-close|httpclose` written wins.
enum class HttpConnMode { KeepAlive, ServerClose, Close };
enum class HttpReuse { Never, Safe, Aggressive, Always };

struct UseBackend {
  std::string backend;
  std::optional<Condition> cond;
  SourceLoc loc;
};

// `retry-on` conditions, as bits of Proxy::retry_on.
namespace retry_on {
constexpr unsigned kConnFailure = 1U << 0;
constexpr unsigned kEmptyResponse = 1U << 1;
constexpr unsigned kJunkResponse = 1U << 2;
constexpr unsigned kResponseTimeout = 1U << 3;
constexpr unsigned k0rttRejected = 1U << 4;  // no-op without TLS early data
// Status codes: 401 403 404 408 425 500 501 502 503 504, one bit each from bit 8.
constexpr int kStatuses[] = {401, 403, 404, 408, 425, 500, 501, 502, 503, 504};
constexpr unsigned status_bit(int status) {
  for (unsigned i = 0; i < sizeof kStatuses / sizeof kStatuses[0]; ++i)
    if (kStatuses[i] == status) return 1U << (8 + i);
  return 0;
}
// What needs the request kept for a replay (anything beyond conn-failure).
constexpr unsigned kNeedsReplay = ~kConnFailure;
}  // namespace retry_on

// One `http-request` / `http-response` rule, validated at load time; values
// marked log-format are compiled by the runtime (httpmode/rules.h).
struct HttpRule {
  enum class Action {
    Allow, Deny, Tarpit, Redirect, Return, SetHeader, AddHeader, DelHeader, ReplaceHeader,
    ReplaceValue, SetPath, SetQuery, SetUri, SetMethod,
    UseService,  // `use-service NAME`: answered by Sluice itself (httpmode/services.h)
    Auth,  // `auth [realm R]`: 401 with a Basic challenge (httpmode/auth_reply.cpp)
  };
  enum class Service { None, Prometheus, Expvar };
  Service service = Service::None;
  enum class Redirect { Location, Prefix, Scheme };
  enum class Body { None, String, LfString, File, ErrorFile };
  Action action = Action::Allow;
  int status = 0;  // deny_status / return status / redirect code; 0: the default
  std::string name;  // header name
  std::string value;  // log-format: header value, new path/query/uri/method, redirect target
  std::string regex;  // replace-header / replace-value
  std::string match = "str";  // del-header -m str|beg|end|sub|reg
  Redirect redirect = Redirect::Location;
  bool drop_query = false;
  bool append_slash = false;
  std::string realm;  // auth: empty means the proxy's name
  std::string set_cookie;  // NAME[=VALUE]
  std::string clear_cookie;  // NAME
  std::string content_type;
  Body body_kind = Body::None;
  std::string body;  // String / File: the bytes; LfString: log-format text
  std::vector<std::pair<std::string, std::string>> headers;  // return hdr NAME VALUE (log-format)
  std::optional<Condition> cond;
  std::string keyword;  // "http-request deny", for messages
  SourceLoc loc;
};

// The stats page of a proxy (`stats enable`, `stats uri`, ...).
struct StatsPage {
  bool enabled = false;
  std::string uri = "/haproxy?stats";
  unsigned refresh_s = 0;  // 0: no refresh
  std::vector<std::string> auth;  // "user:pass" (Basic); empty: open
  std::string realm = "HAProxy Statistics";
  std::vector<Condition> admin;  // `stats admin if|unless COND`
  bool hide_version = false;
  bool show_legends = false;
  std::vector<std::string> scope;  // proxy names shown ("." is this proxy); empty: all
};

// `capture request|response header NAME len N`.
struct HeaderCapture {
  std::string name;
  unsigned len = 0;
};

enum class ProxyCap : unsigned { Frontend = 1, Backend = 2, Listen = 3 };

// `mailers NAME` with `mailer NAME ADDR:PORT` lines and `timeout mail`.
struct MailersDef {
  std::string name;
  struct Mailer {
    std::string name;
    Address addr;
  };
  std::vector<Mailer> mailers;
  Millis timeout{10000};
  SourceLoc loc;
};

// `email-alert ...` of a proxy (inherited from defaults).
struct EmailAlert {
  std::string mailers, from, to, myhostname;
  int level = 1;  // syslog level: HAProxy's default "alert"
  SourceLoc loc;
};

// `alert NAME if METRIC OP VALUE [over WINDOW] exec CMD|post URL` (Sluice):
// METRIC is a stat column of the backend, rate(COLUMN) (per second over the
// window) or median(check_duration) (its servers' durations over the window).
struct AlertDef {
  std::string name;
  std::string metric;  // as written
  std::string column;  // the stat column inside it
  enum class Fn { Value, Rate, Median } fn = Fn::Value;
  std::string op;  // > >= < <= == !=
  double threshold = 0;
  Millis window{10000};
  enum class Action { Exec, Post } action = Action::Exec;
  std::string target;  // the command, or the URL
  SourceLoc loc;
};

struct Proxy {
  std::vector<AlertDef> alerts;
  EmailAlert email_alert;
  std::string name;
  int id = 0;  // 1-based, unique across proxies (HAProxy's iid)
  ProxyCap cap = ProxyCap::Listen;
  SourceLoc loc;
  Mode mode = Mode::Tcp;
  bool disabled = false;
  std::string description;  // `description` text, for stats pages

  // frontend side
  std::vector<Bind> binds;
  unsigned maxconn = 0;  // 0: inherit (global maxconn / defaults)
  std::optional<unsigned> backlog;
  std::string default_backend;
  std::vector<UseBackend> use_backends;
  bool tcplog = false;
  bool dontlognull = false;
  bool clitcpka = false;

  // ACLs usable by conditions in this proxy
  std::vector<NamedAcl> acls;
  std::vector<AclDef> anonymous_acls;

  // backend side
  // `load-server-state-from-file` / `server-state-file-name` (state at start-up).
  enum class LoadState : std::uint8_t { None, Global, Local };
  LoadState load_server_state = LoadState::None;
  std::string server_state_file_name;  // empty: the backend's name
  Balance balance;
  std::vector<ServerDef> servers;
  unsigned retries = 3;
  unsigned retry_on = retry_on::kConnFailure;  // `retry-on` bits
  bool redispatch = false;
  int redispatch_interval = 1;  // retry number that redispatches (-1: last)
  bool allbackups = false;
  unsigned fullconn = 0;
  std::optional<Address> source;
  bool srvtcpka = false;
  bool splice_request = false;
  bool splice_response = false;
  bool splice_auto = false;

  HealthCheckDef health_check;
  // `option check-duration-alert MEDIAN_MS [window N]` (Sluice's own): warn
  // when a server's median check duration over N checks passes the limit.
  struct CheckDurationAlert {
    Millis threshold{0};
    unsigned window = 10;
  };
  std::optional<CheckDurationAlert> check_duration_alert;

  // HTTP mode
  bool httplog = false;
  HttpConnMode http_conn_mode = HttpConnMode::KeepAlive;
  HttpReuse http_reuse = HttpReuse::Safe;
  ForwardFor forwardfor;
  ForwardFor originalto;  // `option originalto` (header X-Original-To; if-none unused)
  CookieDef cookie;
  std::string dynamic_cookie_key;        // `dynamic-cookie-key`: the secret of `cookie ... dynamic`
  std::map<int, ErrorPage> error_pages;  // by status; resolved in file order
  StatsPage stats_page;
  std::vector<HttpRule> http_request_rules;
  std::vector<HttpRule> http_response_rules;
  std::vector<HeaderCapture> request_captures;
  std::vector<HeaderCapture> response_captures;
  std::string log_format;  // `log-format`; empty: the built-in formats
  SourceLoc log_format_loc;
  bool log_separate_errors = false;

  Timeouts timeouts;
  std::vector<LogTarget> logs;  // resolved: `log global` copies global's
  bool has_frontend() const { return static_cast<unsigned>(cap) & 1U; }
  bool has_backend() const { return static_cast<unsigned>(cap) & 2U; }
};

// A non-fatal message from loading (legacy keyword, ignored setting).
struct Diagnostic {
  SourceLoc loc;
  std::string keyword;
  std::string message;
};

struct Model {
  std::vector<MailersDef> mailers;
  std::vector<UserlistDef> userlists;
  Global global;
  std::vector<Proxy> proxies;  // in file order; ids assigned
  std::vector<Diagnostic> warnings;

  const Proxy* find_proxy(const std::string& name) const {
    for (const auto& p : proxies)
      if (p.name == name) return &p;
    return nullptr;
  }
  const UserlistDef* find_userlist(std::string_view name) const {
    for (const auto& u : userlists)
      if (u.name == name) return &u;
    return nullptr;
  }
};

}  // namespace sluice::config
