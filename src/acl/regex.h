#pragma once
// A PCRE2 regular expression compiled once (with JIT when available).
// matches() is safe to call from any thread: each thread lazily creates one
// match-data block the first time it matches, then reuses it.

#include <memory>
#include <string_view>

#include "util/result.h"

namespace sluice::acl {

class Regex {
 public:
  static Result<std::unique_ptr<Regex>> compile(std::string_view pattern, bool ignore_case);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  bool matches(std::string_view subject) const;

 private:
  struct Key {};  // only compile() makes one

 public:
  Regex(Key, void* code) : code_(code) {}

 private:
  void* code_;  // pcre2_code_8*, kept opaque so pcre2.h stays out of headers
};

}  // namespace sluice::acl
