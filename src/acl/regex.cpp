#define PCRE2_CODE_UNIT_WIDTH 8
#include "acl/regex.h"

#include <pcre2.h>

#include <string>

namespace sluice::acl {

namespace {

struct MatchDataFree {
  void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
};

// One block per thread, sized for the whole-match pair: we only ask "does it match".
pcre2_match_data* thread_match_data() {
  thread_local std::unique_ptr<pcre2_match_data, MatchDataFree> data(
      pcre2_match_data_create(1, nullptr));
  return data.get();
}

}  // namespace

Result<std::unique_ptr<Regex>> Regex::compile(std::string_view pattern, bool ignore_case) {
  int err = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   ignore_case ? PCRE2_CASELESS : 0U, &err, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    return make_error("regex '" + std::string(pattern) + "': " +
                      reinterpret_cast<const char*>(msg) + " at offset " + std::to_string(offset));
  }
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // the interpreter still works without
  return std::make_unique<Regex>(Key{}, code);
}

Regex::~Regex() {
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

bool Regex::matches(std::string_view subject) const {
  pcre2_match_data* md = thread_match_data();
  if (md == nullptr) return false;
  const int rc =
      pcre2_match(static_cast<pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(subject.data()),
                  subject.size(), 0, 0, md, nullptr);
  return rc >= 0;  // 0: matched, ovector too small (we asked for none of the groups)
}

}  // namespace sluice::acl
