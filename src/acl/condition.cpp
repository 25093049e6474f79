#include "acl/condition.h"

#include <map>
#include <string>
#include <utility>

namespace sluice::acl {

namespace {

std::string where(const config::AclDef& def) {
  std::string s;
  if (!def.loc.file.empty()) s = def.loc.file + ":" + std::to_string(def.loc.line) + ": ";
  s += def.name.empty() ? "anonymous acl: " : "acl '" + def.name + "': ";
  return s;
}

}  // namespace

Result<void> resolve_fetch_args(const FetchDef& fetch, FetchArgs& args,
                                const CompileOptions& opts) {
  if (fetch.args == ArgShape::Userlist) {
    if (opts.model == nullptr) return {};  // never matches
    args.userlist = opts.model->find_userlist(args.str);
    if (args.userlist == nullptr)
      return make_error("fetch '" + std::string(fetch.name) + "': no userlist named '" + args.str +
                        "'");
    return {};
  }
  if (opts.model == nullptr || args.proxy.empty()) return {};
  const auto* p = opts.model->find_proxy(args.proxy);
  if (p == nullptr)
    return make_error("fetch '" + std::string(fetch.name) + "': no proxy named '" + args.proxy +
                      "'");
  args.proxy_id = p->id;
  if (fetch.args != ArgShape::Server) return {};
  for (const auto& s : p->servers) {
    if (s.name == args.server) {
      args.server_id = s.id;
      return {};
    }
  }
  return make_error("fetch '" + std::string(fetch.name) + "': no server '" + args.server +
                    "' in backend '" + args.proxy + "'");
}

// Builds the parts of one compiled `acl` line; shared by compile() and validate_acls().
struct TestBuilder {
  static Result<void> build(const config::AclDef& def, const CompileOptions& opts,
                            const FetchDef*& fetch_out, FetchArgs& args_out,
                            const MatcherDef*& matcher_out, PatternSet& set) {
    const FetchDef* fetch = find_fetch(def.fetch);
    if (fetch == nullptr) {
      std::string msg = where(def) + "unknown fetch '" + def.fetch + "'";
      if (auto near = closest_fetch(def.fetch); !near.empty())
        msg += ", did you mean '" + std::string(near) + "'?";
      return make_error(msg);
    }
    if (fetch->fetch == nullptr)
      return make_error(where(def) + "fetch '" + def.fetch + "' is not implemented yet");
    auto args = parse_fetch_args(*fetch, def.fetch_args);
    if (!args) return make_error(where(def) + args.error());
    if (auto r = resolve_fetch_args(*fetch, *args, opts); !r)
      return make_error(where(def) + r.error());

    if (fetch->bind_patterns != nullptr) {
      std::vector<std::string> all;
      for (const auto& file : def.pattern_files) {
        auto lines = read_pattern_file(file);
        if (!lines) return make_error(where(def) + lines.error());
        all.insert(all.end(), lines->begin(), lines->end());
      }
      all.insert(all.end(), def.patterns.begin(), def.patterns.end());
      if (auto r = fetch->bind_patterns(*args, all); !r) return make_error(where(def) + r.error());
      fetch_out = fetch;
      args_out = std::move(*args);
      matcher_out = &matcher_for(MatchKind::Found);
      return {};
    }
    const MatcherDef* matcher =
        def.matcher.empty() ? &matcher_for(fetch->default_match) : find_matcher(def.matcher);
    if (matcher == nullptr)
      return make_error(where(def) + "unknown match method '-m " + def.matcher + "'");
    if (matcher->kind != MatchKind::Found && !can_convert(fetch->out, matcher->input))
      return make_error(where(def) + "match method '" + std::string(matcher->name) +
                        "' cannot be used with the " + std::string(sample_type_name(fetch->out)) +
                        " fetch '" + def.fetch + "'");

    set.opts = PatternOptions{def.ignore_case, def.no_dns};
    set.exact = decltype(set.exact)(0, StrHash{def.ignore_case}, StrEq{def.ignore_case});
    auto add = [&](const std::string& pattern) -> Result<void> {
      if (!matcher->takes_patterns) return {};
      auto r = matcher->parse(pattern, set);
      if (!r) return make_error(where(def) + r.error());
      return {};
    };
    for (const auto& file : def.pattern_files) {
      auto lines = read_pattern_file(file);
      if (!lines) return make_error(where(def) + lines.error());
      for (const auto& line : *lines)
        if (auto r = add(line); !r) return r;
    }
    for (const auto& pattern : def.patterns)
      if (auto r = add(pattern); !r) return r;
    if (set.pending_op && set.ints.empty())
      return make_error(where(def) + "operator '" + *set.pending_op + "' without a value");

    fetch_out = fetch;
    args_out = std::move(*args);
    matcher_out = matcher;
    return {};
  }
};

Result<CompiledCondition> compile(const config::Proxy& proxy, const config::Condition& cond,
                                  const CompileOptions& opts) {
  CompiledCondition out;
  out.unless_ = cond.unless;
  out.always_ = cond.any_of.empty();
  std::map<std::pair<bool, std::size_t>, std::uint32_t> compiled;  // (anonymous, index) -> acl

  auto compile_defs = [&](const std::vector<const config::AclDef*>& defs) -> Result<void> {
    CompiledCondition::Acl acl;
    for (const auto* def : defs) {
      CompiledCondition::Test t;
      auto r = TestBuilder::build(*def, opts, t.fetch, t.args, t.matcher, t.patterns);
      if (!r) return r;
      acl.tests.push_back(std::move(t));
    }
    out.acls_.push_back(std::move(acl));
    return {};
  };

  for (const auto& group : cond.any_of) {
    std::vector<CompiledCondition::Term> terms;
    for (const auto& term : group) {
      const auto key = std::make_pair(term.anonymous, term.index);
      auto it = compiled.find(key);
      if (it == compiled.end()) {
        std::vector<const config::AclDef*> defs;
        if (term.anonymous) {
          if (term.index >= proxy.anonymous_acls.size())
            return make_error("condition refers to a missing anonymous acl");
          defs.push_back(&proxy.anonymous_acls[term.index]);
        } else {
          if (term.index >= proxy.acls.size())
            return make_error("condition refers to unknown acl '" + term.name + "'");
          for (const auto& d : proxy.acls[term.index].defs) defs.push_back(&d);
        }
        if (auto r = compile_defs(defs); !r) return make_error(r.error());
        it = compiled.emplace(key, std::uint32_t(out.acls_.size() - 1)).first;
      }
      terms.push_back({it->second, term.negate});
    }
    out.groups_.push_back(std::move(terms));
  }
  return out;
}

bool CompiledCondition::run(const Test& t, const SampleSource& src) {
  Sample s;
  if (!t.fetch->fetch(src, t.args, s)) return false;
  if (t.matcher->kind == MatchKind::Found) return true;
  if (t.matcher->takes_patterns && t.patterns.count == 0) return false;
  Sample converted;
  char buf[64];
  if (!convert(s, t.matcher->input, converted, buf)) return false;
  return t.matcher->match(converted, t.patterns);
}

bool CompiledCondition::evaluate(const SampleSource& src) const {
  bool result = always_;
  for (const auto& group : groups_) {
    bool all = true;
    for (const auto& term : group) {
      bool any = false;
      for (const auto& test : acls_[term.acl].tests) {
        if (run(test, src)) {
          any = true;
          break;
        }
      }
      if (any == term.negate) {
        all = false;
        break;
      }
    }
    if (all) {
      result = true;
      break;
    }
  }
  return unless_ ? !result : result;
}

Result<void> validate_acls(const config::Proxy& proxy, const CompileOptions& opts) {
  auto check = [&](const config::AclDef& def) -> Result<void> {
    const FetchDef* f = nullptr;
    FetchArgs a;
    const MatcherDef* m = nullptr;
    PatternSet set;
    return TestBuilder::build(def, opts, f, a, m, set);
  };
  for (const auto& named : proxy.acls)
    for (const auto& def : named.defs)
      if (auto r = check(def); !r) return r;
  for (const auto& def : proxy.anonymous_acls)
    if (auto r = check(def); !r) return r;
  return {};
}

}  // namespace sluice::acl
