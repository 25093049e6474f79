#pragma once
// Pattern matching methods (-m ...): one table row each, giving the name, the
// sample type the sample is converted to before matching, how patterns are
// parsed and how a sample is matched. Patterns are parsed (and regexes
// compiled with JIT) once, at start-up; matching never allocates.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "acl/sample.h"
#include "util/result.h"

namespace sluice::acl {

enum class MatchKind : std::uint8_t {
  Found,
  Bool,
  Int,
  Ip,
  Str,
  Beg,
  End,
  Sub,
  Reg,
  Dom,
  Dir,
  Len
};

struct PatternOptions {
  bool ignore_case = false;  // -i
  bool no_dns = false;       // -n
};

struct IntRange {
  std::int64_t min;
  std::int64_t max;
};

struct IpNet {
  IpAddr addr;                 // already masked
  std::uint8_t mask[16] = {};  // IPv4: 4 bytes used
};

class Regex;  // PCRE2 code, compiled with JIT

// Case-(in)sensitive hashing for exact-string sets, with string_view lookup.
struct StrHash {
  bool icase = false;
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const;
};
struct StrEq {
  bool icase = false;
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

// The parsed patterns of one ACL line; only the member its matcher uses is filled.
struct PatternSet {
  PatternOptions opts;
  std::size_t count = 0;
  std::vector<IntRange> ints;
  std::vector<IpNet> ips;
  std::vector<std::string> strs;
  std::unordered_set<std::string, StrHash, StrEq> exact{0, StrHash{}, StrEq{}};
  std::vector<std::unique_ptr<Regex>> regexes;
  // Sticky int operator (eq/ge/gt/le/lt) while parsing; applies to following values.
  std::optional<std::string> pending_op;

  PatternSet();
  ~PatternSet();
  PatternSet(PatternSet&&) noexcept;
  PatternSet& operator=(PatternSet&&) noexcept;
};

struct MatcherDef {
  std::string_view name;
  MatchKind kind;
  SampleType input;     // the sample is converted to this type first
  bool takes_patterns;  // found and bool ignore patterns
  Result<void> (*parse)(std::string_view pattern, PatternSet& set);
  bool (*match)(const Sample& converted, const PatternSet& set);
};

const MatcherDef* find_matcher(std::string_view name);
const MatcherDef& matcher_for(MatchKind kind);

// Whether a sample of type `from` can be converted to `to` for matching.
bool can_convert(SampleType from, SampleType to);
// Convert for matching; `buf` holds text produced from ints/addresses.
// False when the value cannot be represented (e.g. a string that is no address).
bool convert(const Sample& in, SampleType to, Sample& out, char (&buf)[64]);

// Patterns from a -f file: one per line, leading blanks stripped, empty lines
// and lines starting with '#' skipped. A missing file is an error.
Result<std::vector<std::string>> read_pattern_file(const std::string& path);

}  // namespace sluice::acl
