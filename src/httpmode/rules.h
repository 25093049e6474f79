#pragma once
// http-request / http-response rules at run time: each proxy's validated
// rules (config::HttpRule) compiled once into conditions, log-format values
// and regexes, its log-format and captures; evaluated per transaction over
// the session's message buffer. A proxy without rules costs nothing: the
// session only calls in when the lists are non-empty.
//
// Header edits rewrite the head in place (through a scratch buffer) and
// re-parse it, so later rules and fetches see earlier edits, as in HAProxy.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "acl/condition.h"
#include "acl/sample.h"
#include "config/model.h"
#include "http/parser.h"
#include "log/logformat.h"
#include "proxy/backend.h"
#include "proxy/frontend.h"
#include "util/result.h"

namespace sluice::httpmode {

struct CompiledRule {
  const config::HttpRule* def = nullptr;
  std::unique_ptr<acl::CompiledCondition> cond;  // null: unconditional
  log::LogFormat value;
  std::vector<std::pair<std::string, log::LogFormat>> headers;  // return hdr
  void* regex = nullptr;  // pcre2_code*: replace-header/-value, del-header -m reg
  std::string_view realm;  // auth: the rule's realm, else its proxy's name
  CompiledRule() = default;
  CompiledRule(CompiledRule&& o) noexcept;
  CompiledRule& operator=(CompiledRule&&) = delete;
  ~CompiledRule();
};

// What a proxy adds to HTTP transactions beyond routing.
struct ProxyHttp {
  std::vector<CompiledRule> request;
  std::vector<CompiledRule> response;
  std::unique_ptr<log::LogFormat> log_format;  // null: httplog / tcplog
  // `stats admin if|unless COND`: any one true allows the stats page's admin form.
  std::vector<std::unique_ptr<acl::CompiledCondition>> stats_admin;
  bool empty() const { return request.empty() && response.empty() && !log_format; }
};

Result<std::unique_ptr<ProxyHttp>> compile_proxy_http(const config::Proxy& p,
                                                      const config::Model& model);

// A message head being edited: its bytes start at buf[0] (the head, then
// any body bytes already received), parsed by `parser`.
struct EditableMessage {
  char* buf = nullptr;
  std::size_t* len = nullptr;
  std::size_t cap = 0;
  http::HeadParser* parser = nullptr;
  char* scratch = nullptr;  // at least `cap` bytes
  http::Method request_method = http::Method::Get;  // response side: for re-parsing
};

struct Verdict {
  enum class Kind { Continue, Allow, Deny, Tarpit, Reply, RewriteFailed, Service, Auth };
  Kind kind = Kind::Continue;
  config::HttpRule::Service service = config::HttpRule::Service::None;  // Kind::Service
  int status = 0;  // Deny / Tarpit: the status to send; Reply: the status sent
  std::string_view realm;  // Auth: answer with write_auth_reply (httpmode/auth_reply.h)
  std::size_t reply_len = 0;  // Reply: bytes written to the reply buffer
};

// Runs rules in order until one stops evaluation. Reply (redirect, return)
// writes a complete response into reply[0..reply_cap).
Verdict run_rules(const std::vector<CompiledRule>& rules, bool response, EditableMessage& msg,
                  const acl::SampleSource& src, const log::LogContext& ctx, char* reply,
                  std::size_t reply_cap);

// Compiles the rules of every proxy that has some and hands them to its
// frontend and backend objects; `store` owns them.
Result<void> attach_proxy_http(const config::Model& model,
                               std::vector<std::unique_ptr<proxy::Frontend>>& frontends,
                               std::vector<std::unique_ptr<proxy::Backend>>& backends,
                               std::vector<std::unique_ptr<ProxyHttp>>& store);

// "{v1|v2}" for the captured values (each cut to its len), into out.
// `values[i]` empty with present[i] false prints nothing for that slot.
std::size_t format_captures(const std::vector<config::HeaderCapture>& caps,
                            const http::MessageView& v, char* out, std::size_t cap);

}  // namespace sluice::httpmode
