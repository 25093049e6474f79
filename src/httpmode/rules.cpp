#include "httpmode/rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstring>

#include "acl/fetch.h"
#include "http/status.h"

namespace sluice::httpmode {

using config::HttpRule;
using A = HttpRule::Action;

CompiledRule::CompiledRule(CompiledRule&& o) noexcept
    : def(o.def), cond(std::move(o.cond)), value(std::move(o.value)),
      headers(std::move(o.headers)), regex(o.regex), realm(o.realm) {
  o.regex = nullptr;
}

CompiledRule::~CompiledRule() {
  if (regex != nullptr) pcre2_code_free(static_cast<pcre2_code*>(regex));
}

namespace {

// %[fetch] in rule values and log-format, over acl's fetch table.
class AclFetchCall final : public log::FetchCall {
 public:
  AclFetchCall(const acl::FetchDef* def, acl::FetchArgs args) : def_(def), args_(std::move(args)) {}
  bool fetch(const acl::SampleSource& src, acl::Sample& out) const override {
    return def_->fetch != nullptr && def_->fetch(src, args_, out);
  }

 private:
  const acl::FetchDef* def_;
  acl::FetchArgs args_;
};

class AclBinder final : public log::FetchBinder {
 public:
  explicit AclBinder(const config::Model* model) : model_(model) {}
  Result<std::shared_ptr<const log::FetchCall>> bind(
      std::string_view name, const std::vector<std::string>& args) override {
    const acl::FetchDef* def = acl::find_fetch(name);
    if (def == nullptr || def->fetch == nullptr)
      return make_error("sample fetch '" + std::string(name) + "' is not available");
    auto a = acl::parse_fetch_args(*def, args);
    if (!a) return Error{a.error()};
    acl::CompileOptions co;
    co.model = model_;
    if (def->args == acl::ArgShape::Userlist)
      if (auto r = acl::resolve_fetch_args(*def, *a, co); !r) return Error{r.error()};
    return std::shared_ptr<const log::FetchCall>(std::make_shared<AclFetchCall>(def, *a));
  }

 private:
  const config::Model* model_;
};

Result<void*> compile_regex(const std::string& re, bool caseless) {
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re.data()), re.size(),
                                   caseless ? PCRE2_CASELESS : 0, &err, &off, nullptr);
  if (code == nullptr) return make_error("invalid regex '" + re + "'");
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  return static_cast<void*>(code);
}

std::string where(const config::Proxy& p, const HttpRule& r) {
  return r.loc.file + ":" + std::to_string(r.loc.line) + ": proxy '" + p.name + "': " +
         r.keyword + ": ";
}

}  // namespace

Result<void> attach_proxy_http(const config::Model& model,
                               std::vector<std::unique_ptr<proxy::Frontend>>& frontends,
                               std::vector<std::unique_ptr<proxy::Backend>>& backends,
                               std::vector<std::unique_ptr<ProxyHttp>>& store) {
  for (const config::Proxy& p : model.proxies) {
    if (p.http_request_rules.empty() && p.http_response_rules.empty() && p.log_format.empty() &&
        p.stats_page.admin.empty())
      continue;
    // A TCP proxy keeps only its log-format (the loader dropped its HTTP rules).
    const bool http = p.mode == config::Mode::Http;
    if (!http && p.log_format.empty()) continue;
    auto c = compile_proxy_http(p, model);
    if (!c) return Error{c.error()};
    const ProxyHttp* h = c->get();
    store.push_back(std::move(*c));
    for (auto& fe : frontends) {
      if (&fe->def() != &p) continue;
      if (http) fe->set_http(h);
      fe->set_log_format(h->log_format.get());
    }
    for (auto& be : backends)
      if (http && &be->def() == &p) be->set_http(h);
  }
  return {};
}

Result<std::unique_ptr<ProxyHttp>> compile_proxy_http(const config::Proxy& p,
                                                      const config::Model& model) {
  auto out = std::make_unique<ProxyHttp>();
  AclBinder binder(&model);
  acl::CompileOptions co;
  co.model = &model;
  auto compile_list = [&](const std::vector<HttpRule>& defs,
                          std::vector<CompiledRule>& into) -> Result<void> {
    for (const HttpRule& d : defs) {
      CompiledRule c;
      c.def = &d;
      if (d.action == A::Auth) c.realm = d.realm.empty() ? std::string_view(p.name) : d.realm;
      if (d.cond) {
        auto cond = acl::compile(p, *d.cond, co);
        if (!cond) return make_error(where(p, d) + cond.error());
        c.cond = std::make_unique<acl::CompiledCondition>(std::move(cond.value()));
      }
      const std::string& text = d.action == A::Return ? d.body : d.value;
      if ((d.action != A::Return && d.action != A::UseService) ||
          d.body_kind == HttpRule::Body::LfString) {
        auto lf = log::LogFormat::compile(text, &binder);
        if (!lf) return make_error(where(p, d) + lf.error());
        c.value = std::move(lf.value());
      }
      for (const auto& [name, value] : d.headers) {
        auto lf = log::LogFormat::compile(value, &binder);
        if (!lf) return make_error(where(p, d) + lf.error());
        c.headers.emplace_back(name, std::move(lf.value()));
      }
      if (d.action == A::ReplaceHeader || d.action == A::ReplaceValue ||
          (d.action == A::DelHeader && d.match == "reg")) {
        auto re = compile_regex(d.action == A::DelHeader ? d.name : d.regex,
                                d.action == A::DelHeader);
        if (!re) return make_error(where(p, d) + re.error());
        c.regex = *re;
      }
      into.push_back(std::move(c));
    }
    return {};
  };
  if (auto r = compile_list(p.http_request_rules, out->request); !r) return Error{r.error()};
  if (auto r = compile_list(p.http_response_rules, out->response); !r) return Error{r.error()};
  if (!p.log_format.empty()) {
    auto lf = log::LogFormat::compile(p.log_format, &binder);
    if (!lf)
      return make_error(p.log_format_loc.file + ":" + std::to_string(p.log_format_loc.line) +
                        ": proxy '" + p.name + "': log-format: " + lf.error());
    out->log_format = std::make_unique<log::LogFormat>(std::move(lf.value()));
  }
  for (const config::Condition& cond : p.stats_page.admin) {
    auto c = acl::compile(p, cond, co);
    if (!c)
      return make_error(cond.loc.file + ":" + std::to_string(cond.loc.line) + ": proxy '" +
                        p.name + "': stats admin: " + c.error());
    out->stats_admin.push_back(std::make_unique<acl::CompiledCondition>(std::move(c.value())));
  }
  return out;
}

namespace {

struct Out {
  char* p;
  std::size_t cap;
  std::size_t n = 0;
  bool ok = true;
  void put(std::string_view s) {
    if (!ok || n + s.size() > cap) {
      ok = false;
      return;
    }
    if (s.empty()) return;  // an empty view may have no data pointer
    std::memcpy(p + n, s.data(), s.size());
    n += s.size();
  }
  void field(std::string_view name, std::string_view value) {
    put(name);
    put(": ");
    put(value);
    put("\r\n");
  }
};

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

bool ifind(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (http::iequals(hay.substr(i, needle.size()), needle)) return true;
  return false;
}

// A regex match with up to 10 groups; the match data is per thread.
struct Match {
  PCRE2_SIZE* ov = nullptr;
  int groups = 0;
};
bool regex_match(void* code, std::string_view s, Match& m) {
  thread_local pcre2_match_data* md = pcre2_match_data_create(10, nullptr);
  int rc = pcre2_match(static_cast<pcre2_code*>(code), reinterpret_cast<PCRE2_SPTR>(s.data()),
                       s.size(), 0, 0, md, nullptr);
  if (rc < 0) return false;
  m.ov = pcre2_get_ovector_pointer(md);
  m.groups = rc == 0 ? 10 : rc;
  return true;
}

// The replacement with \0..\9 taken from the match of `subject`.
void expand(Out& o, std::string_view repl, std::string_view subject, const Match& m) {
  for (std::size_t i = 0; i < repl.size(); ++i) {
    if (repl[i] == '\\' && i + 1 < repl.size() && repl[i + 1] >= '0' && repl[i + 1] <= '9') {
      int g = repl[i + 1] - '0';
      ++i;
      if (g < m.groups && m.ov[2 * g] != PCRE2_UNSET)
        o.put(subject.substr(m.ov[2 * g], m.ov[2 * g + 1] - m.ov[2 * g]));
      continue;
    }
    o.put(repl.substr(i, 1));
  }
}

bool name_matches(const CompiledRule& r, std::string_view name) {
  const std::string& want = r.def->name;
  const std::string& m = r.def->match;
  if (m == "str") return http::iequals(name, want);
  if (m == "beg") return name.size() >= want.size() && http::iequals(name.substr(0, want.size()), want);
  if (m == "end")
    return name.size() >= want.size() &&
           http::iequals(name.substr(name.size() - want.size()), want);
  if (m == "sub") return ifind(name, want);
  Match mt;
  return regex_match(r.regex, name, mt);
}

// Writes the message head with one edit into `o`: the start line (maybe
// replaced), fields kept, dropped or rewritten, and fields appended.
struct Eval {
  Eval(const acl::SampleSource& s, const log::LogContext& c) : src(s), ctx(c) {}
  const acl::SampleSource& src;
  const log::LogContext& ctx;
  char buf[8192];  // not cleared: written before read
  std::string_view run(const log::LogFormat& lf) {
    log::LogContext c = ctx;
    c.samples = &src;
    c.absent_is_empty = true;  // rule values: a missing sample adds nothing
    log::Line l{buf, sizeof buf};
    lf.write(c, l);
    return std::string_view(buf, std::min(l.n, sizeof buf));
  }
};

// Re-parses the head written in msg.scratch[0..n) and swaps it in.
bool commit(EditableMessage& msg, std::size_t n) {
  const http::Head& h = msg.parser->head();
  std::size_t old_head = h.length;
  std::size_t body = *msg.len - old_head;
  if (n + body > msg.cap) return false;
  std::memmove(msg.buf + n, msg.buf + old_head, body);
  std::memcpy(msg.buf, msg.scratch, n);
  *msg.len = n + body;
  msg.parser->reset();
  msg.parser->set_request_method(msg.request_method);
  http::HeadResult r = msg.parser->parse(std::string_view(msg.buf, *msg.len));
  return r.state == http::ParseState::Done;
}

bool edit(const CompiledRule& r, bool response, EditableMessage& msg, Eval& ev) {
  const HttpRule& d = *r.def;
  std::string_view bufv(msg.buf, *msg.len);
  http::MessageView v = msg.parser->view(bufv);
  const http::Head& h = msg.parser->head();
  Out o{msg.scratch, msg.cap};
  // Start line.
  std::string_view value;
  if (d.action == A::SetPath || d.action == A::SetQuery || d.action == A::SetUri ||
      d.action == A::SetMethod) {
    value = ev.run(r.value);
    std::string_view method = v.method(), target = v.target();
    if (d.action == A::SetMethod) {
      o.put(value);
      o.put(" ");
      o.put(target);
    } else {
      o.put(method);
      o.put(" ");
      if (d.action == A::SetUri) {
        o.put(value);
      } else {
        // Keep scheme://authority of an absolute-form target.
        std::size_t path_at = 0;
        if (!target.empty() && target.front() != '/') {
          auto sch = target.find("://");
          if (sch != std::string_view::npos) {
            auto slash = target.find('/', sch + 3);
            path_at = slash == std::string_view::npos ? target.size() : slash;
          }
        }
        std::string_view prefix = target.substr(0, path_at);
        std::string_view rest = target.substr(path_at);
        auto q = rest.find('?');
        std::string_view path = rest.substr(0, q);
        std::string_view query = q == std::string_view::npos ? std::string_view() : rest.substr(q);
        o.put(prefix);
        if (d.action == A::SetPath) {
          o.put(value);
          o.put(query);
        } else {
          o.put(path);
          if (q != std::string_view::npos || !value.empty()) {
            o.put("?");
            o.put(value);
          }
        }
      }
    }
    o.put(h.version_minor >= 1 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
  } else {
    o.put(v.start_line());
    o.put("\r\n");
  }
  if (d.action == A::SetHeader || d.action == A::AddHeader) value = ev.run(r.value);
  char tmp[8192];
  for (auto f : v) {
    switch (d.action) {
      case A::SetHeader:
        if (http::iequals(f.name, d.name)) continue;
        break;
      case A::DelHeader:
        if (name_matches(r, f.name)) continue;
        break;
      case A::ReplaceHeader:
        if (http::iequals(f.name, d.name)) {
          Match m;
          if (regex_match(r.regex, f.value, m)) {
            std::string_view repl = ev.run(r.value);
            Out t{tmp, sizeof tmp};
            expand(t, repl, f.value, m);
            o.field(f.name, std::string_view(tmp, t.n));
            continue;
          }
        }
        break;
      case A::ReplaceValue:
        if (http::iequals(f.name, d.name)) {
          std::string_view repl = ev.run(r.value);
          Out t{tmp, sizeof tmp};
          std::string_view rest = f.value;
          for (;;) {
            auto comma = rest.find(',');
            std::string_view item = rest.substr(0, comma);
            std::string_view core = trim(item);
            std::size_t lead = static_cast<std::size_t>(core.data() - item.data());
            t.put(item.substr(0, lead));
            Match m;
            if (!core.empty() && regex_match(r.regex, core, m))
              expand(t, repl, core, m);
            else
              t.put(core);
            t.put(item.substr(lead + core.size()));
            if (comma == std::string_view::npos) break;
            t.put(",");
            rest.remove_prefix(comma + 1);
          }
          o.field(f.name, std::string_view(tmp, t.n));
          continue;
        }
        break;
      default:
        break;
    }
    o.field(f.name, f.value);
  }
  if (d.action == A::SetHeader || d.action == A::AddHeader) o.field(d.name, value);
  o.put("\r\n");
  (void)response;
  return o.ok && commit(msg, o.n);
}

// Redirect: HAProxy's exact head (cache-control only for temporary codes).
std::size_t redirect(const CompiledRule& r, EditableMessage& msg, Eval& ev, char* out,
                     std::size_t cap) {
  const HttpRule& d = *r.def;
  http::MessageView v = msg.parser->view(std::string_view(msg.buf, *msg.len));
  std::string_view target = v.target();
  std::string_view path = target, query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q);
  }
  char loc[8192];
  Out l{loc, sizeof loc};
  std::string_view value = ev.run(r.value);
  if (d.redirect == HttpRule::Redirect::Location) {
    l.put(value);
  } else {
    if (d.redirect == HttpRule::Redirect::Scheme) {
      std::string_view host = v.value("host");
      l.put(value);
      l.put("://");
      l.put(host);
    } else if (!(value.size() == 1 && value[0] == '/')) {
      l.put(value);  // prefix "/" adds nothing (HAProxy: drop it)
    }
    l.put(path);
    if (d.append_slash && (path.empty() || path.back() != '/')) l.put("/");
    if (!d.drop_query) l.put(query);
  }
  Out o{out, cap};
  o.put("HTTP/1.1 ");
  char st[8];
  int n = std::snprintf(st, sizeof st, "%d", d.status);
  o.put(std::string_view(st, static_cast<std::size_t>(n)));
  o.put(" ");
  o.put(http::reason_phrase(static_cast<std::uint16_t>(d.status)));
  o.put("\r\ncontent-length: 0\r\n");
  o.field("location", std::string_view(loc, l.n));
  if (d.status == 302 || d.status == 303 || d.status == 307) o.put("cache-control: no-cache\r\n");
  if (!d.set_cookie.empty()) {
    o.put("set-cookie: ");
    o.put(d.set_cookie);
    o.put("; path=/;\r\n");
  }
  if (!d.clear_cookie.empty()) {
    o.put("set-cookie: ");
    o.put(d.clear_cookie);
    o.put("; path=/; Max-Age=0;\r\n");
  }
  o.put("\r\n");
  return o.ok ? o.n : 0;
}

std::size_t reply(const CompiledRule& r, Eval& ev, char* out, std::size_t cap) {
  const HttpRule& d = *r.def;
  Out o{out, cap};
  if (d.body_kind == HttpRule::Body::ErrorFile) {
    o.put(d.body);
    return o.ok ? o.n : 0;
  }
  o.put("HTTP/1.1 ");
  char st[24];
  int n = std::snprintf(st, sizeof st, "%d", d.status);
  o.put(std::string_view(st, static_cast<std::size_t>(n)));
  o.put(" ");
  o.put(http::reason_phrase(static_cast<std::uint16_t>(d.status)));
  o.put("\r\n");
  for (const auto& [name, lf] : r.headers) {
    std::string_view hv = ev.run(lf);
    o.put(name);
    o.put(": ");
    o.put(hv);
    o.put("\r\n");
  }
  std::string_view body;
  if (d.body_kind == HttpRule::Body::String || d.body_kind == HttpRule::Body::File)
    body = d.body;
  else if (d.body_kind == HttpRule::Body::LfString)
    body = ev.run(r.value);
  n = std::snprintf(st, sizeof st, "%zu", body.size());
  o.put("content-length: ");
  o.put(std::string_view(st, static_cast<std::size_t>(n)));
  o.put("\r\n");
  if (!body.empty() && !d.content_type.empty()) o.field("content-type", d.content_type);
  o.put("\r\n");
  o.put(body);
  return o.ok ? o.n : 0;
}

}  // namespace

Verdict run_rules(const std::vector<CompiledRule>& rules, bool response, EditableMessage& msg,
                  const acl::SampleSource& src, const log::LogContext& ctx, char* reply_buf,
                  std::size_t reply_cap) {
  Verdict out;
  Eval ev(src, ctx);
  for (const CompiledRule& r : rules) {
    if (r.cond && !r.cond->evaluate(src)) continue;
    const HttpRule& d = *r.def;
    switch (d.action) {
      case A::Allow:
        out.kind = Verdict::Kind::Allow;
        return out;
      case A::Deny:
        out.kind = Verdict::Kind::Deny;
        out.status = d.status != 0 ? d.status : response ? 502 : 403;
        return out;
      case A::Tarpit:
        out.kind = Verdict::Kind::Tarpit;
        out.status = d.status != 0 ? d.status : 500;
        return out;
      case A::Redirect:
        out.kind = Verdict::Kind::Reply;
        out.status = d.status;
        out.reply_len = redirect(r, msg, ev, reply_buf, reply_cap);
        if (out.reply_len == 0) out.kind = Verdict::Kind::RewriteFailed;
        return out;
      case A::Return:
        out.kind = Verdict::Kind::Reply;
        out.status = d.status;
        out.reply_len = reply(r, ev, reply_buf, reply_cap);
        if (out.reply_len == 0) out.kind = Verdict::Kind::RewriteFailed;
        return out;
      case A::Auth:
        out.kind = Verdict::Kind::Auth;
        out.status = 401;
        out.realm = r.realm;
        return out;
      case A::UseService:
        out.kind = Verdict::Kind::Service;
        out.service = d.service;
        return out;
      default:
        if (!edit(r, response, msg, ev)) {
          out.kind = Verdict::Kind::RewriteFailed;
          return out;
        }
        break;
    }
  }
  return out;
}

std::size_t format_captures(const std::vector<config::HeaderCapture>& caps,
                            const http::MessageView& v, char* out, std::size_t cap) {
  log::Line l{out, cap};
  l.put('{');
  for (std::size_t i = 0; i < caps.size(); ++i) {
    if (i > 0) l.put('|');
    std::string_view last;
    bool found = false;
    for (auto f : v)
      if (http::iequals(f.name, caps[i].name)) {
        last = f.value;
        found = true;
      }
    if (found) log::encode_capture(l, last.substr(0, caps[i].len));
  }
  l.put('}');
  return std::min(l.n, cap);
}

}  // namespace sluice::httpmode
