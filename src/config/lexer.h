#pragma once
// Cuts one configuration line into words the way HAProxy does: spaces and tabs
// separate words, '#' starts a comment, double quotes protect spaces and allow
// "$VAR"/"${VAR}" expansion, single quotes protect everything, and a backslash
// escapes the next character outside single quotes.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace sluice::config {

// Looks up an environment variable; nullopt when unset. Tests inject their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

struct LexContext {
  std::string file;  // for ${.FILE}
  int line = 0;  // for ${.LINE}
  std::string section;  // for ${.SECTION}
  EnvLookup env;  // empty: the process environment
};

// The words of `line`, quotes removed and escapes resolved. An empty vector
// means a blank or comment-only line.
Result<std::vector<std::string>> split_line(std::string_view line, const LexContext& ctx);

}  // namespace sluice::config
