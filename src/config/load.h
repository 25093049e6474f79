#pragma once
// Entry point of the configuration parser: files in, typed model or errors out.

#include <string>
#include <vector>

#include "config/model.h"

namespace sluice::config {

struct LoadResult {
  Model model;  // complete only when errors is empty
  std::vector<Diagnostic> errors;  // "FILE:LINE: [keyword] message" when printed
  std::vector<Diagnostic> warnings;
  bool ok() const { return errors.empty(); }
};

// How loading behaves; the defaults are what `sluice -f` uses.
struct LoadOptions {
  // false: host names other than "localhost" are not resolved (an error), so
  // the fuzzer never waits on DNS.
  bool resolve_hostnames = true;
};

// Each path is a file or a directory (its *.cfg files, in lexical order).
LoadResult load_files(const std::vector<std::string>& paths);

// Parse text as if read from `name`; used by tests and the fuzzer.
LoadResult load_text(const std::string& text, const std::string& name = "<text>");
LoadResult load_text(const std::string& text, const std::string& name, const LoadOptions& opts);
LoadResult load_files(const std::vector<std::string>& paths, const LoadOptions& opts);

// "FILE:LINE: [keyword] message", the one way diagnostics are printed.
std::string format_diagnostic(const Diagnostic& d);

}  // namespace sluice::config
