#include "config/lexer.h"

#include <cstdlib>

namespace sluice::config {
namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Splitter {
 public:
  Splitter(std::string_view line, const LexContext& ctx) : s_(line), ctx_(ctx) {}

  Result<std::vector<std::string>> run() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (in_sq_) {
        if (c == '\'') in_sq_ = false;
        else cur_ += c;
        ++i_;
        continue;
      }
      if (in_dq_) {
        if (c == '"') {
          in_dq_ = false;
          ++i_;
        } else if (c == '\\') {
          if (auto r = escape(); !r) return Error{r.error()};
        } else if (c == '$') {
          if (auto r = expand(true); !r) return Error{r.error()};
        } else {
          cur_ += c;
          ++i_;
        }
        continue;
      }
      if (c == ' ' || c == '\t') {
        flush();
        ++i_;
      } else if (c == '#') {
        break;
      } else if (c == '"') {
        in_dq_ = true;
        have_word_ = true;
        ++i_;
      } else if (c == '\'') {
        in_sq_ = true;
        have_word_ = true;
        ++i_;
      } else if (c == '\\') {
        if (auto r = escape(); !r) return Error{r.error()};
      } else if (c == '$' && i_ + 1 < s_.size() && s_[i_ + 1] == '{') {
        if (auto r = expand(false); !r) return Error{r.error()};
      } else {
        cur_ += c;
        have_word_ = true;
        ++i_;
      }
    }
    if (in_dq_) return make_error("unterminated double quote");
    if (in_sq_) return make_error("unterminated single quote");
    flush();
    return std::move(words_);
  }

 private:
  void flush() {
    if (have_word_) words_.push_back(std::move(cur_));
    cur_.clear();
    have_word_ = false;
  }

  // At a backslash: resolve the escape and advance past it.
  Result<void> escape() {
    have_word_ = true;
    if (i_ + 1 >= s_.size()) {  // a lone trailing backslash stays as written
      cur_ += '\\';
      ++i_;
      return {};
    }
    char n = s_[i_ + 1];
    switch (n) {
      case ' ': case '\t': case '#': case '\\': case '\'': case '"': case '$':
        cur_ += n;
        break;
      case 'n': cur_ += '\n'; break;
      case 'r': cur_ += '\r'; break;
      case 't': cur_ += '\t'; break;
      case 'x': {
        int hi = i_ + 2 < s_.size() ? hex_value(s_[i_ + 2]) : -1;
        int lo = i_ + 3 < s_.size() ? hex_value(s_[i_ + 3]) : -1;
        if (hi < 0 || lo < 0) return make_error("invalid '\\x' escape: expected two hex digits");
        cur_ += static_cast<char>(hi * 16 + lo);
        i_ += 4;
        return {};
      }
      default:  // unknown escapes are kept verbatim, as HAProxy does
        cur_ += '\\';
        cur_ += n;
        break;
    }
    i_ += 2;
    return {};
  }

  std::optional<std::string> lookup(const std::string& name) const {
    if (name == ".FILE") return ctx_.file;
    if (name == ".LINE") return std::to_string(ctx_.line);
    if (name == ".SECTION") return ctx_.section;
    if (ctx_.env) return ctx_.env(name);
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  }

  // At a '$': "$NAME" (quoted only) or "${NAME[-default][[*]]}".
  Result<void> expand(bool quoted) {
    std::size_t j = i_ + 1;
    if (j < s_.size() && s_[j] == '{') {
      std::size_t close = s_.find('}', j);
      if (close == std::string_view::npos) return make_error("missing '}' after '${'");
      std::string_view body = s_.substr(j + 1, close - j - 1);
      bool split = false;
      std::optional<std::string> def;
      std::size_t k = 0;
      if (!body.empty() && body[0] == '.') ++k;
      if (k >= body.size() || !is_name_start(body[k]))
        return make_error("invalid variable name in '${" + std::string(body) + "}'");
      while (k < body.size() && is_name_char(body[k])) ++k;
      std::string name(body.substr(0, k));
      std::string_view rest = body.substr(k);
      if (rest.size() >= 3 && rest.substr(rest.size() - 3) == "[*]") {
        split = true;
        rest.remove_suffix(3);
      }
      if (!rest.empty()) {
        if (rest[0] != '-')
          return make_error("invalid variable reference '${" + std::string(body) + "}'");
        def = std::string(rest.substr(1));
      }
      std::optional<std::string> v = lookup(name);
      if (!v && def) v = def;
      i_ = close + 1;
      append_value(v.value_or(std::string()), split);
      return {};
    }
    if (!quoted || j >= s_.size() || !is_name_start(s_[j])) {  // a plain dollar
      cur_ += '$';
      have_word_ = true;
      ++i_;
      return {};
    }
    std::size_t k = j;
    while (k < s_.size() && is_name_char(s_[k])) ++k;
    std::string name(s_.substr(j, k - j));
    i_ = k;
    append_value(lookup(name).value_or(std::string()), false);
    return {};
  }

  void append_value(const std::string& v, bool split) {
    if (!split) {
      cur_ += v;
      if (!v.empty()) have_word_ = true;
      return;
    }
    // "${LIST[*]}": each space-separated part becomes its own word.
    std::size_t p = 0;
    bool first = true;
    while (p <= v.size()) {
      std::size_t q = v.find(' ', p);
      if (q == std::string::npos) q = v.size();
      std::string part = v.substr(p, q - p);
      if (!part.empty()) {
        if (!first) flush();
        cur_ += part;
        have_word_ = true;
        first = false;
      }
      p = q + 1;
    }
  }

  std::string_view s_;
  const LexContext& ctx_;
  std::size_t i_ = 0;
  bool in_dq_ = false;
  bool in_sq_ = false;
  bool have_word_ = false;
  std::string cur_;
  std::vector<std::string> words_;
};

}  // namespace

Result<std::vector<std::string>> split_line(std::string_view line, const LexContext& ctx) {
  return Splitter(line, ctx).run();
}

}  // namespace sluice::config
