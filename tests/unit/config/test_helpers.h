#pragma once
// Helpers for the config parser tests.

#include <string>
#include <vector>

#include "config/load.h"

namespace sluice::config::testing {

inline LoadResult load(const std::string& text) {
  LoadOptions opts;
  opts.resolve_hostnames = false;
  return load_text(text, "t.cfg", opts);
}

// Every error, printed as the operator sees it.
inline std::vector<std::string> errors(const LoadResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.errors) out.push_back(format_diagnostic(d));
  return out;
}
inline std::vector<std::string> warnings(const LoadResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.warnings) out.push_back(format_diagnostic(d));
  return out;
}
inline std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

// A minimal valid tail so that single-keyword tests load on their own.
inline const char* kBackendTail = "backend be\n  server s1 127.0.0.1:8080\n";

}  // namespace sluice::config::testing
