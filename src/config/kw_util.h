#pragma once
// Small helpers shared by the keyword handlers.

#include <string>
#include <string_view>

#include "config/registry.h"
#include "util/result.h"

namespace sluice::config {

inline std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// Checks the argument count: "'uid' expects <shape>" / "unexpected argument 'x'".
inline Result<void> want_args(const Stmt& st, std::size_t min, std::size_t max,
                              std::string_view shape) {
  if (st.args.size() < min) return make_error(quote(st.keyword) + " expects " + std::string(shape));
  if (st.args.size() > max)
    return make_error("unexpected argument " + quote(st.args[max]) + " (" + quote(st.keyword) +
                      " expects " + std::string(shape) + ")");
  return {};
}

// Prefixes an argument error with the argument's role.
inline Error with_context(std::string_view what, const std::string& err) {
  return Error{std::string(what) + ": " + err};
}

}  // namespace sluice::config
