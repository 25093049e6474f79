#include "config/parser.h"

#include <algorithm>
#include <set>

#include "config/lexer.h"

namespace sluice::config {
namespace {

constexpr int kMaxTranslationDepth = 4;

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string where(const SourceLoc& l) { return l.file + ":" + std::to_string(l.line); }

std::string_view cap_word(ProxyCap c) {
  switch (c) {
    case ProxyCap::Frontend: return "frontend";
    case ProxyCap::Backend: return "backend";
    case ProxyCap::Listen: return "listen";
  }
  return "proxy";
}

bool valid_proxy_name(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

// Fills `id` for every item without one: explicit ids first, then the
// smallest free ids in order, as HAProxy does.
template <class Items, class Report>
void assign_ids(Items& items, Report&& duplicate, int first = 1) {
  std::set<int> used;
  for (auto& it : items) {
    if (it.id == 0) continue;
    if (!used.insert(it.id).second) duplicate(it);
  }
  int next = first;
  for (auto& it : items) {
    if (it.id != 0) continue;
    while (used.count(next)) ++next;
    it.id = next;
    used.insert(next);
  }
}

}  // namespace

std::string_view section_name(unsigned bit) {
  switch (bit) {
    case kSecGlobal: return "global";
    case kSecDefaults: return "defaults";
    case kSecFrontend: return "frontend";
    case kSecBackend: return "backend";
    case kSecListen: return "listen";
    case kSecHttpErrors: return "http-errors";
    case kSecMailers: return "mailers";
    case kSecUserlist: return "userlist";
    default: return "unknown";
  }
}

Parser::Parser(LoadResult& out, const AddressOptions& addr_opts)
    : out_(out), addr_opts_(addr_opts) {}

void Parser::error(std::string_view keyword, std::string message) {
  out_.errors.push_back(Diagnostic{loc_, std::string(keyword), std::move(message)});
}

void Parser::warn(std::string_view keyword, std::string message) {
  out_.warnings.push_back(Diagnostic{loc_, std::string(keyword), std::move(message)});
}

void Parser::parse_text(std::string_view text, const std::string& file) {
  files_.push_back(file);
  loc_.file = file;
  loc_.line = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++loc_.line;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    LexContext ctx{file, loc_.line, section_label_, {}};
    auto words = split_line(line, ctx);
    if (!words) {
      error("syntax", words.error());
      continue;
    }
    handle_line(std::move(*words));
  }
  end_section();
  section_label_.clear();
}

void Parser::handle_line(std::vector<std::string> words) {
  if (words.empty()) return;
  if (start_section(words)) return;
  if (skipping_) return;
  if (words[0].size() > 1 && words[0][0] == '.') {
    error(words[0], "conditional blocks and diagnostics directives are not implemented yet in Sluice");
    return;
  }
  if (section_ == 0) {
    error(words[0], "unknown keyword " + q(words[0]) +
                        " out of section (a file must start with 'global', 'defaults', "
                        "'frontend', 'backend' or 'listen')");
    return;
  }
  bool negated = false;
  std::size_t at = 0;
  if (words[0] == "no" && words.size() > 1) {
    negated = true;
    at = 1;
  }
  dispatch(words, at, negated, 0);
}

std::vector<std::string_view> Parser::candidates_for_section() const {
  std::vector<std::string_view> out;
  for (const auto& k : section_keywords()) {
    if (!(k.sections & section_)) continue;
    out.push_back(k.name);
    std::size_t sp = k.name.find(' ');
    if (sp != std::string_view::npos) out.push_back(k.name.substr(0, sp));
  }
  for (std::string_view s : {"global", "defaults", "frontend", "backend", "listen", "option"})
    out.push_back(s);
  return out;
}

void Parser::dispatch(const std::vector<std::string>& words, std::size_t at, bool negated,
                      int depth) {
  if (depth > kMaxTranslationDepth) {
    error(words[at], "legacy keyword translation loops");
    return;
  }
  const std::string& w0 = words[at];
  if (w0 == "option") {
    dispatch_option(words, at + 1, negated, depth);
    return;
  }
  // Prefer an entry valid here ("maxconn" exists for global and proxies),
  // and a two-word name ("timeout connect") over a one-word one.
  auto find = [&](std::string_view name, bool here) -> const SectionKeyword* {
    for (const auto& k : section_keywords())
      if (k.name == name && (!here || (k.sections & section_))) return &k;
    return nullptr;
  };
  const SectionKeyword* kw = nullptr;
  std::size_t args_at = at + 1;
  std::string written = w0;
  std::string two = at + 1 < words.size() ? w0 + " " + words[at + 1] : std::string();
  // A two-word family valid here, such as "timeout X" or "stats X".
  std::vector<std::string_view> family;
  std::string prefix = w0 + " ";
  for (const auto& k : section_keywords())
    if (k.name.substr(0, prefix.size()) == prefix && (k.sections & section_)) family.push_back(k.name);
  for (bool here : {true, false}) {
    if (!two.empty() && (kw = find(two, here))) {
      args_at = at + 2;
      written = two;
      break;
    }
    // Report "unknown 'timeout X'" rather than a one-word keyword of another section.
    if ((here || family.empty()) && (kw = find(w0, here))) break;
  }
  if (!kw) {
    if (!family.empty()) {
      if (at + 1 >= words.size()) {
        error(w0, q(w0) + " expects an argument" + did_you_mean(w0 + " ", family));
      } else {
        error(two, "unknown keyword " + q(two) + " in " + std::string(section_name(section_)) +
                       " section" + did_you_mean(two, family));
      }
      return;
    }
    error(w0, "unknown keyword " + q(w0) + " in " + std::string(section_name(section_)) +
                  " section" + did_you_mean(w0, candidates_for_section()));
    return;
  }
  run_keyword(*kw, written, words, args_at, negated, depth);
}

void Parser::dispatch_option(const std::vector<std::string>& words, std::size_t at, bool negated,
                             int depth) {
  if (at >= words.size()) {
    error("option", "'option' expects an option name");
    return;
  }
  const std::string& name = words[at];
  const OptionKeyword* kw = find_keyword(option_keywords(), name);
  std::string written = "option " + name;
  if (!kw) {
    std::vector<std::string_view> here, all;
    for (const auto& k : option_keywords()) {
      all.push_back(k.name);
      if (k.sections & section_) here.push_back(k.name);
    }
    std::string hint = did_you_mean(name, here);
    if (hint.empty()) hint = did_you_mean(name, all);
    error(written, "unknown option " + q(name) + hint);
    return;
  }
  run_keyword(*kw, written, words, at + 1, negated, depth);
}

void Parser::run_keyword(const SectionKeyword& kw, const std::string& written,
                         const std::vector<std::string>& words, std::size_t args_at,
                         bool negated, int depth) {
  if (!(kw.sections & section_)) {
    error(written, q(written) + " is not valid in a " + std::string(section_name(section_)) +
                       " section");
    return;
  }
  if (negated && !kw.negatable) {
    error(written, "'no' cannot be used with " + q(written));
    return;
  }
  if (kw.status == KwStatus::NotYet) {
    error(written, "not implemented yet in Sluice");
    return;
  }
  if (kw.status == KwStatus::Legacy && !kw.parse) {
    if (!kw.translate) {
      error(written, q(written) + " is no longer supported; use " + q(kw.modern) + " instead");
      return;
    }
    warn(written, q(written) + " is deprecated; use " + q(kw.modern) + " instead (translated)");
    std::vector<std::string> rewritten;
    std::string_view m = kw.modern;
    while (!m.empty()) {
      std::size_t sp = m.find(' ');
      rewritten.emplace_back(m.substr(0, sp));
      if (sp == std::string_view::npos) break;
      m.remove_prefix(sp + 1);
    }
    for (std::size_t i = args_at; i < words.size(); ++i) rewritten.push_back(words[i]);
    dispatch(rewritten, 0, negated, depth + 1);
    return;
  }
  if (!kw.parse) {
    error(written, "not implemented yet in Sluice");
    return;
  }
  Stmt st{kw.name, Args{&words, args_at}, negated};
  if (auto r = kw.parse(*this, st); !r) error(written, r.error());
}

bool Parser::start_section(const std::vector<std::string>& words) {
  const std::string& w0 = words[0];
  for (std::string_view s : unsupported_sections()) {
    if (w0 == s) {
      end_section();
      error(w0, "'" + w0 + "' sections are not implemented yet in Sluice");
      skipping_ = true;
      section_label_ = words.size() > 1 ? words[1] : w0;
      return true;
    }
  }
  unsigned bit = 0;
  if (w0 == "global") bit = kSecGlobal;
  else if (w0 == "defaults") bit = kSecDefaults;
  else if (w0 == "frontend") bit = kSecFrontend;
  else if (w0 == "backend") bit = kSecBackend;
  else if (w0 == "listen") bit = kSecListen;
  else if (w0 == "http-errors") bit = kSecHttpErrors;
  else if (w0 == "mailers") bit = kSecMailers;
  else if (w0 == "userlist") bit = kSecUserlist;
  else return false;

  end_section();
  if (w0 == "mailers") {
    if (words.size() != 2) error(w0, "'mailers' expects a section name");
    MailersDef m;
    m.name = words.size() > 1 ? words[1] : "";
    m.loc = loc_;
    for (const auto& o : out_.model.mailers)
      if (o.name == m.name) error(w0, "mailers section " + q(m.name) + " is already defined");
    out_.model.mailers.push_back(std::move(m));
    section_ = kSecMailers;
    section_label_ = words.size() > 1 ? words[1] : "";
    return true;
  }
  if (w0 == "userlist") {
    if (words.size() != 2) error(w0, "'userlist' expects a section name");
    std::string name = words.size() > 1 ? words[1] : "";
    cur_userlist_ = nullptr;
    for (const auto& u : out_.model.userlists) {
      if (u.name != name) continue;
      // As HAProxy: the second section of that name is ignored.
      warn(w0, "userlist " + q(name) + " is already defined at " + where(u.loc) +
                   "; this one is ignored");
      ignored_userlist_ = UserlistDef{};
      cur_userlist_ = &ignored_userlist_;
    }
    if (cur_userlist_ == nullptr) {
      out_.model.userlists.push_back(UserlistDef{name, {}, {}, loc_});
      cur_userlist_ = &out_.model.userlists.back();
    }
    section_ = kSecUserlist;
    section_label_ = name;
    return true;
  }
  if (w0 == "http-errors") {
    if (words.size() != 2) error(w0, "'http-errors' expects a section name");
    errors_group_ = words.size() > 1 ? words[1] : "";
    if (words.size() > 1 && http_errors_.count(errors_group_))
      error(w0, "http-errors section " + q(errors_group_) + " is already defined");
    http_errors_[errors_group_];
    section_ = kSecHttpErrors;
    section_label_ = errors_group_;
    return true;
  }
  if (bit == kSecGlobal) {
    if (words.size() > 1) error(w0, "'global' takes no argument");
    section_ = kSecGlobal;
    section_label_ = "global";
    return true;
  }

  // "defaults [NAME] [from DEFAULTS]" / "frontend NAME [from DEFAULTS]"
  std::string name;
  std::size_t i = 1;
  if (i < words.size() && words[i] != "from") name = words[i++];
  std::shared_ptr<ProxyDraft> base = defaults_;
  bool has_from = false;
  if (i < words.size() && words[i] == "from") {
    if (i + 1 >= words.size()) {
      error(w0, "'from' expects the name of a defaults section");
    } else {
      auto it = named_defaults_.find(words[i + 1]);
      if (it == named_defaults_.end()) {
        std::vector<std::string_view> names;
        for (const auto& [n, d] : named_defaults_) names.push_back(n);
        error(w0, "unknown defaults section " + q(words[i + 1]) + did_you_mean(words[i + 1], names));
      } else {
        base = it->second;
        has_from = true;
      }
    }
    i += 2;
  }
  if (i < words.size()) error(w0, "unexpected argument " + q(words[i]) + " after the section name");

  if (bit == kSecDefaults) {
    // Each defaults section starts afresh unless it inherits with "from".
    auto d = std::make_shared<ProxyDraft>(has_from ? *base : ProxyDraft{});
    d->proxy.name = name;
    d->proxy.loc = loc_;
    if (!name.empty()) {
      if (!valid_proxy_name(name)) error(w0, "invalid section name " + q(name));
      if (named_defaults_.count(name))
        error(w0, "defaults section " + q(name) + " is already defined at " +
                      where(named_defaults_[name]->proxy.loc));
      named_defaults_[name] = d;
    }
    defaults_ = d;
    open_defaults_ = d;
    cur_ = d.get();
    section_ = kSecDefaults;
    section_label_ = name.empty() ? "defaults" : name;
    return true;
  }

  if (name.empty()) {
    error(w0, "'" + w0 + "' expects a name");
    skipping_ = true;
    return true;
  }
  if (!valid_proxy_name(name))
    error(w0, "invalid proxy name " + q(name) +
                  " (letters, digits, '-', '_', '.' and ':' only)");
  ProxyCap cap = bit == kSecFrontend ? ProxyCap::Frontend
                 : bit == kSecBackend ? ProxyCap::Backend
                                      : ProxyCap::Listen;
  for (const auto& other : proxies_) {
    if (other->proxy.name == name &&
        (static_cast<unsigned>(other->proxy.cap) & static_cast<unsigned>(cap))) {
      error(w0, std::string(cap_word(cap)) + " " + q(name) + " has the same name as the " +
                    std::string(cap_word(other->proxy.cap)) + " declared at " +
                    where(other->proxy.loc));
      break;
    }
  }
  auto draft = std::make_unique<ProxyDraft>(base ? *base : ProxyDraft{});
  draft->proxy.name = name;
  draft->proxy.cap = cap;
  draft->proxy.loc = loc_;
  draft->proxy.id = 0;
  draft->proxy.description.clear();
  cur_ = draft.get();
  proxies_.push_back(std::move(draft));
  section_ = bit;
  section_label_ = name;
  return true;
}

void Parser::end_section() {
  open_defaults_.reset();
  cur_ = nullptr;
  cur_userlist_ = nullptr;
  section_ = 0;
  skipping_ = false;
}

void Parser::finish() {
  Model& m = out_.model;
  if (nbproc && m.global.nbthread == 0 && *nbproc > 1) m.global.nbthread = *nbproc;

  auto find_backend = [&](const std::string& name) -> const Proxy* {
    for (const auto& d : proxies_)
      if (d->proxy.name == name && d->proxy.has_backend()) return &d->proxy;
    return nullptr;
  };
  auto check_target = [&](const Proxy& from, const std::string& name, const SourceLoc& at,
                          std::string_view keyword) {
    if (name.find("%[") != std::string::npos) {
      out_.errors.push_back(Diagnostic{at, std::string(keyword),
                                       "dynamic backend names (log-format) are not implemented "
                                       "yet in Sluice"});
      return;
    }
    const Proxy* target = find_backend(name);
    if (!target) {
      std::vector<std::string_view> names;
      bool is_frontend = false;
      for (const auto& d : proxies_) {
        if (d->proxy.has_backend()) names.push_back(d->proxy.name);
        else if (d->proxy.name == name) is_frontend = true;
      }
      std::string msg = is_frontend ? q(name) + " is a frontend; " + std::string(keyword) +
                                          " needs a backend or listen section"
                                    : "unknown backend " + q(name) + did_you_mean(name, names);
      out_.errors.push_back(Diagnostic{at, std::string(keyword), msg});
      return;
    }
    if (target->mode != from.mode) {
      auto mw = [](Mode md) { return md == Mode::Http ? std::string("http") : std::string("tcp"); };
      out_.errors.push_back(Diagnostic{
          at, std::string(keyword),
          mw(from.mode) + " " + std::string(cap_word(from.cap)) + " " + q(from.name) +
              " cannot use " + mw(target->mode) + " backend " + q(name)});
    }
  };

  resolve_userlists(m, out_.errors);
  for (auto& d : proxies_) {
    Proxy& p = d->proxy;
    check_auth_acls(p, m, out_.errors);
    resolve_error_pages(d->error_directives, http_errors_, p.error_pages, out_.errors);
    if (!p.email_alert.mailers.empty()) {
      bool known = false;
      for (const auto& ms : m.mailers) known = known || ms.name == p.email_alert.mailers;
      if (!known)
        out_.errors.push_back(Diagnostic{p.email_alert.loc, "email-alert mailers",
                                         "unknown mailers section " + q(p.email_alert.mailers)});
    }
    // As HAProxy: not an error, but connections may hang forever without them.
    std::string missing;
    auto need = [&](bool cond, const std::optional<Millis>& t, std::string_view n) {
      if (cond && (!t || t->count() == 0)) missing += (missing.empty() ? "" : ", ") + std::string(n);
    };
    need(p.has_frontend(), p.timeouts.client, "client");
    need(p.has_backend(), p.timeouts.connect, "connect");
    need(p.has_backend(), p.timeouts.server, "server");
    if (!missing.empty() && !p.disabled)
      out_.warnings.push_back(Diagnostic{p.loc, std::string(cap_word(p.cap)),
                                         "missing timeouts for " + q(p.name) + ": " + missing +
                                             " (connections may hang without them)"});
    check_http_rules_mode(p, out_.errors, out_.warnings);
    assign_dynamic_cookies(p, out_.warnings);
    if (p.has_frontend()) {
      if (p.binds.empty() && !d->bind_written)
        out_.errors.push_back(Diagnostic{
            p.loc, std::string(cap_word(p.cap)),
            std::string(cap_word(p.cap)) + " " + q(p.name) +
                " has no 'bind' line (declare it as a backend if it only has servers)"});
      if (!p.default_backend.empty())
        check_target(p, p.default_backend, d->default_backend_loc.value_or(p.loc),
                     "default_backend");
      for (const auto& ub : p.use_backends) check_target(p, ub.backend, ub.loc, "use_backend");
    } else {
      p.default_backend.clear();  // inherited from defaults; meaningless here
    }
    assign_ids(p.servers, [&](const ServerDef& s) {
      out_.errors.push_back(Diagnostic{s.loc, "id", "server id " + std::to_string(s.id) +
                                                       " is already used in " + q(p.name)});
    });
  }
  std::vector<Proxy> list;
  list.reserve(proxies_.size());
  for (auto& d : proxies_) list.push_back(std::move(d->proxy));
  // With a stats socket, HAProxy's own CLI frontend takes proxy id 1.
  const int first_id = m.global.stats_sockets.empty() ? 1 : 2;
  assign_ids(list, [&](const Proxy& p) {
    out_.errors.push_back(Diagnostic{p.loc, "id", "proxy id " + std::to_string(p.id) +
                                                     " is already used by another proxy"});
  }, first_id);
  m.proxies = std::move(list);
  proxies_.clear();

  // Validation ran after parsing: put every message back in file and line order.
  auto file_index = [&](const std::string& f) {
    return static_cast<std::size_t>(std::find(files_.begin(), files_.end(), f) - files_.begin());
  };
  auto by_place = [&](const Diagnostic& a, const Diagnostic& b) {
    std::size_t fa = file_index(a.loc.file), fb = file_index(b.loc.file);
    return fa != fb ? fa < fb : a.loc.line < b.loc.line;
  };
  std::stable_sort(out_.errors.begin(), out_.errors.end(), by_place);
  std::stable_sort(out_.warnings.begin(), out_.warnings.end(), by_place);
  m.warnings = out_.warnings;
}

}  // namespace sluice::config
