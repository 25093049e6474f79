#pragma once
// What an `expect` step asks of the bytes received so far. Built-in
// matchers (string, rstring, binary, rbinary) serve `tcp-check expect`;
// protocol checks add small custom ones (HTTP status, MySQL packets...).

#include <memory>
#include <string>
#include <string_view>

#include "checks/check_types.h"

namespace sluice::checks {

struct Verdict {
  enum class Kind { NeedMore, Pass, Fail };
  Kind kind = Kind::NeedMore;
  CheckStatus status = CheckStatus::L7Ok;
  int code = 0;
  std::string info;

  static Verdict need_more() { return {}; }
  static Verdict pass(CheckStatus st = CheckStatus::L7Ok, std::string info = {}, int code = 0) {
    return {Kind::Pass, st, code, std::move(info)};
  }
  static Verdict fail(CheckStatus st, std::string info = {}, int code = 0) {
    return {Kind::Fail, st, code, std::move(info)};
  }
};

class Matcher {
 public:
  virtual ~Matcher() = default;
  // `in`: every byte received since the last send; `eof`: the peer closed
  // (or the buffer is full), so no more bytes will come.
  virtual Verdict match(std::string_view in, bool eof) const = 0;
  // The status when the check times out while this matcher waits.
  virtual CheckStatus timeout_status() const { return CheckStatus::L7Tout; }
};

using MatcherPtr = std::shared_ptr<const Matcher>;

// tcp-check style matchers. `negate` is the `!` of `expect ! string ...`.
// `step` numbers the rule in messages ("at step 2"), as HAProxy does.
MatcherPtr make_string_matcher(std::string needle, bool negate, int step);
MatcherPtr make_binary_matcher(std::string bytes, bool negate, int step);
// Returns nullptr and sets `err` when the pattern does not compile.
MatcherPtr make_regex_matcher(const std::string& pattern, bool negate, bool binary, int step,
                              std::string& err);

// Helpers shared by protocol files.
std::string hex_to_bytes(std::string_view hex);
// PCRE2 match of `subject` against a compiled pattern (see regex.cpp).
class Regex {
 public:
  static std::unique_ptr<Regex> compile(const std::string& pattern, std::string& err);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  bool search(std::string_view subject) const;

 private:
  Regex() = default;
  void* code_ = nullptr;
};

}  // namespace sluice::checks
