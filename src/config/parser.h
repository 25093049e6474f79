#pragma once
// Parse state shared by the keyword handlers (internal to src/config/).

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/address.h"
#include "config/load.h"
#include "config/registry.h"

namespace sluice::config {

// One `errorfile`/`errorloc` (a page for `code`) or `errorfiles` (an import
// from the http-errors section `group`, all codes or `codes`), kept in file
// order until every http-errors section is known.
struct ErrorDirective {
  int code = 0;
  ErrorPage page;
  std::string group;
  std::vector<int> codes;
  SourceLoc loc;
};

// A proxy (or a defaults section) while it is being parsed.
struct ProxyDraft {
  std::vector<ErrorDirective> error_directives;
  Proxy proxy;
  ServerDef default_server;  // template for the following `server` lines
  std::optional<SourceLoc> default_backend_loc;
  bool bind_written = false;  // a bind line was seen, even one with errors
};

class Parser {
 public:
  Parser(LoadResult& out, const AddressOptions& addr_opts);

  // Parses one file's text; sections end at the end of the file.
  void parse_text(std::string_view text, const std::string& file);
  // Validation and cross references, once every file is read.
  void finish();

  // ---- for keyword handlers
  Global& global() { return out_.model.global; }
  MailersDef& mailers_section() { return out_.model.mailers.back(); }
  // The userlist being parsed (a scratch one for an ignored duplicate).
  UserlistDef& userlist_section() { return *cur_userlist_; }
  Proxy& proxy() { return cur_->proxy; }
  ProxyDraft& draft() { return *cur_; }
  unsigned section() const { return section_; }
  bool in_defaults() const { return section_ == kSecDefaults; }
  const SourceLoc& loc() const { return loc_; }
  const AddressOptions& addr_opts() const { return addr_opts_; }
  // The http-errors section being parsed.
  std::map<int, ErrorPage>& http_errors_group() { return http_errors_[errors_group_]; }
  void error(std::string_view keyword, std::string message);
  void warn(std::string_view keyword, std::string message);
  // Runs a statement as if written `words[first..]` on the current line (legacy
  // translation).
  void dispatch(const std::vector<std::string>& words, std::size_t first, bool negated, int depth);

  std::optional<unsigned> nbproc;
  std::size_t listen_addresses = 0;  // across all binds, to bound port-range expansion
  std::optional<SourceLoc> nbproc_loc;

 private:
  void handle_line(std::vector<std::string> words);
  bool start_section(const std::vector<std::string>& words);
  void end_section();
  void dispatch_option(const std::vector<std::string>& words, std::size_t at, bool negated,
                       int depth);
  void run_keyword(const SectionKeyword& kw, const std::string& written,
                   const std::vector<std::string>& words, std::size_t args_at, bool negated,
                   int depth);
  std::vector<std::string_view> candidates_for_section() const;

  LoadResult& out_;
  AddressOptions addr_opts_;
  std::vector<std::string> files_;  // in the order read, for sorting messages
  SourceLoc loc_;
  unsigned section_ = 0;  // SectionBits of the current section; 0 before any
  bool skipping_ = false;  // inside a section kind that is not implemented yet
  std::string section_label_;  // for ${.SECTION}
  ProxyDraft* cur_ = nullptr;
  std::vector<std::unique_ptr<ProxyDraft>> proxies_;
  std::shared_ptr<ProxyDraft> defaults_;  // the defaults in effect
  std::map<std::string, std::shared_ptr<ProxyDraft>> named_defaults_;
  std::shared_ptr<ProxyDraft> open_defaults_;  // a defaults section being parsed
  std::map<std::string, std::map<int, ErrorPage>> http_errors_;  // http-errors sections
  std::string errors_group_;
  UserlistDef* cur_userlist_ = nullptr;
  UserlistDef ignored_userlist_;  // a duplicate `userlist` section, parsed then dropped
};

// Applies a proxy's error directives in order (kw_errors.cpp).
void resolve_error_pages(const std::vector<ErrorDirective>& directives,
                         const std::map<std::string, std::map<int, ErrorPage>>& groups,
                         std::map<int, ErrorPage>& out, std::vector<Diagnostic>& errors);

// Handlers of section keywords, one group per file.
namespace kw {
// global (kw_global.cpp)
Result<void> daemon(Parser&, const Stmt&);
Result<void> master_worker(Parser&, const Stmt&);
Result<void> chroot(Parser&, const Stmt&);
Result<void> uid(Parser&, const Stmt&);
Result<void> gid(Parser&, const Stmt&);
Result<void> user(Parser&, const Stmt&);
Result<void> group(Parser&, const Stmt&);
Result<void> ulimit_n(Parser&, const Stmt&);
Result<void> global_maxconn(Parser&, const Stmt&);
Result<void> pidfile(Parser&, const Stmt&);
Result<void> nbthread(Parser&, const Stmt&);
Result<void> nbproc(Parser&, const Stmt&);
Result<void> log_tag(Parser&, const Stmt&);
Result<void> log_send_hostname(Parser&, const Stmt&);
Result<void> node(Parser&, const Stmt&);
Result<void> tune_bufsize(Parser&, const Stmt&);
Result<void> hard_stop_after(Parser&, const Stmt&);
Result<void> close_spread_time(Parser&, const Stmt&);
Result<void> spread_checks(Parser&, const Stmt&);
Result<void> stats_socket(Parser&, const Stmt&);  // kw_stats.cpp
Result<void> stats_timeout(Parser&, const Stmt&);
Result<void> server_state_base(Parser&, const Stmt&);  // kw_server_state.cpp
Result<void> server_state_file(Parser&, const Stmt&);
Result<void> load_server_state_from_file(Parser&, const Stmt&);
Result<void> server_state_file_name(Parser&, const Stmt&);
Result<void> graphite(Parser&, const Stmt&);  // kw_graphite.cpp
Result<void> alert(Parser&, const Stmt&);  // kw_alert.cpp
Result<void> mailer(Parser&, const Stmt&);  // kw_mailers.cpp
Result<void> timeout_mail(Parser&, const Stmt&);
Result<void> email_alert(Parser&, const Stmt&);
Result<void> stats_page(Parser&, const Stmt&);  // kw_stats_page.cpp
Result<void> userlist_user(Parser&, const Stmt&);  // kw_userlist.cpp
Result<void> userlist_group(Parser&, const Stmt&);
Result<unsigned> lookup_user(const std::string& name);  // getpwnam: uid
Result<unsigned> lookup_group(const std::string& name);  // getgrnam: gid
// log (kw_log.cpp), global and proxies
Result<void> log(Parser&, const Stmt&);
// proxies (kw_proxy.cpp)
Result<void> mode(Parser&, const Stmt&);
Result<void> default_backend(Parser&, const Stmt&);
Result<void> timeout(Parser&, const Stmt&);
Result<void> balance(Parser&, const Stmt&);
Result<void> hash_type(Parser&, const Stmt&);
Result<void> hash_balance_factor(Parser&, const Stmt&);
Result<void> retries(Parser&, const Stmt&);
Result<void> retry_on_kw(Parser&, const Stmt&);  // kw_retry.cpp
Result<void> source(Parser&, const Stmt&);
Result<void> proxy_maxconn(Parser&, const Stmt&);
Result<void> fullconn(Parser&, const Stmt&);
Result<void> backlog(Parser&, const Stmt&);
Result<void> disabled(Parser&, const Stmt&);
Result<void> enabled(Parser&, const Stmt&);
Result<void> id(Parser&, const Stmt&);
Result<void> description(Parser&, const Stmt&);
// options (kw_proxy.cpp)
Result<void> opt_redispatch(Parser&, const Stmt&);
Result<void> opt_flag(Parser&, const Stmt&);
// HTTP-mode keywords (kw_http.cpp).
Result<void> opt_http_conn_mode(Parser&, const Stmt&);
Result<void> opt_forwardfor(Parser&, const Stmt&);
Result<void> opt_originalto(Parser&, const Stmt&);
Result<void> cookie(Parser&, const Stmt&);
Result<void> dynamic_cookie_key(Parser&, const Stmt&);
Result<void> http_reuse(Parser&, const Stmt&);
// custom error pages (kw_errors.cpp)
Result<void> errorfile(Parser&, const Stmt&);
Result<void> errorfiles(Parser&, const Stmt&);
Result<void> errorloc(Parser&, const Stmt&);
// servers (kw_server.cpp)
Result<void> server(Parser&, const Stmt&);
Result<void> default_server(Parser&, const Stmt&);
// binds (kw_bind.cpp)
Result<void> bind(Parser&, const Stmt&);
// ACLs and rules (kw_acl.cpp)
Result<void> acl(Parser&, const Stmt&);
Result<void> use_backend(Parser&, const Stmt&);
// HTTP rules, log-format and captures (kw_rules.cpp)
Result<void> http_request(Parser&, const Stmt&);
Result<void> http_response(Parser&, const Stmt&);
Result<void> legacy_add(Parser&, const Stmt&);
Result<void> legacy_del(Parser&, const Stmt&);
Result<void> log_format(Parser&, const Stmt&);
Result<void> capture(Parser&, const Stmt&);
}  // namespace kw

// Once a proxy's mode is final (kw_rules.cpp): HTTP rules in a TCP proxy are
// ignored with a warning, as HAProxy does; a log-format there must not use
// HTTP-only variables.
void check_http_rules_mode(Proxy& p, std::vector<Diagnostic>& errors,
                           std::vector<Diagnostic>& warnings);

// `cookie ... dynamic` (dynamic_cookie.cpp): the value of a server without
// its own cookie, from the key and its address ("" unless IPv4/IPv6); and
// the assignment to every such server of a proxy once its servers are known.
std::string dynamic_cookie_value(std::string_view key, const Address& addr);
void assign_dynamic_cookies(Proxy& p, std::vector<Diagnostic>& warnings);

// Userlists once every file is read (kw_userlist.cpp): group and user
// cross references, merged membership; then every http_auth /
// http_auth_group ACL of a proxy must name a userlist (and its groups).
void resolve_userlists(Model& m, std::vector<Diagnostic>& errors);
void check_auth_acls(const Proxy& p, const Model& m, std::vector<Diagnostic>& errors);

// Parses `if|unless TERMS...` (args[0] is the if/unless word).
Result<Condition> parse_condition(Parser& p, Args args);

}  // namespace sluice::config
