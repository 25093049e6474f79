#pragma once
// ACL conditions: `if`/`unless` + terms, compiled once at start-up from the
// configuration model, evaluated per session without allocating.
//
//   auto cond = acl::compile(proxy, *use_backend.cond, {&model});
//   if (!cond) -> report cond.error() and refuse to start
//   ... per session: if (cond->evaluate(session_sample_source)) ...
//
// A compiled condition is immutable: share it between worker threads.

#include <cstdint>
#include <vector>

#include "acl/fetch.h"
#include "acl/match.h"
#include "acl/sample.h"
#include "config/model.h"
#include "util/result.h"

namespace sluice::acl {

struct CompileOptions {
  // When set, proxy and server names in fetch arguments (nbsrv(app),
  // srv_is_up(app/web1)) must exist; their ids are then passed in ProxyRef /
  // ServerRef so the runtime can index instead of comparing names.
  const config::Model* model = nullptr;
};

class CompiledCondition {
 public:
  CompiledCondition() = default;  // no terms: always true (no condition)
  CompiledCondition(CompiledCondition&&) noexcept = default;
  CompiledCondition& operator=(CompiledCondition&&) noexcept = default;

  // OR over groups of ANDed terms; a term whose fetch gives no sample is false
  // (true when negated); `unless` inverts the result.
  bool evaluate(const SampleSource& src) const;

 private:
  friend Result<CompiledCondition> compile(const config::Proxy&, const config::Condition&,
                                           const CompileOptions&);
  struct Test {  // one `acl` line
    const FetchDef* fetch = nullptr;
    FetchArgs args;
    const MatcherDef* matcher = nullptr;
    PatternSet patterns;
  };
  struct Acl {  // lines of the same name, ORed
    std::vector<Test> tests;
  };
  struct Term {
    std::uint32_t acl = 0;
    bool negate = false;
  };
  static bool run(const Test& t, const SampleSource& src);

  std::vector<Acl> acls_;
  std::vector<std::vector<Term>> groups_;
  bool unless_ = false;
  bool always_ = true;  // no groups at all
};

Result<CompiledCondition> compile(const config::Proxy& proxy, const config::Condition& cond,
                                  const CompileOptions& opts = {});

// Resolves names in a fetch's arguments (proxies, servers, userlists)
// against opts.model; also used for fetches in log-format expressions.
Result<void> resolve_fetch_args(const FetchDef& fetch, FetchArgs& args, const CompileOptions& opts);

// Compile every ACL line of a proxy, used or not, as HAProxy checks them all.
Result<void> validate_acls(const config::Proxy& proxy, const CompileOptions& opts = {});

}  // namespace sluice::acl
