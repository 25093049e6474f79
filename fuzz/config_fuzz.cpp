// Fuzzes the configuration parser: any bytes must give a result (errors are
// fine), never a crash, a hang or a sanitizer report.

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/load.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;  // long inputs only slow the search down
  std::string text(reinterpret_cast<const char*>(data), size);
  sluice::config::LoadOptions opts;
  opts.resolve_hostnames = false;  // never wait on DNS
  sluice::config::LoadResult r = sluice::config::load_text(text, "fuzz.cfg", opts);
  for (const auto& d : r.errors) (void)sluice::config::format_diagnostic(d);
  for (const auto& d : r.warnings) (void)sluice::config::format_diagnostic(d);
  return 0;
}
