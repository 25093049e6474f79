#pragma once
// Incremental, zero-copy, strict HTTP/1.1 head parser (start line + header
// fields) for requests and responses. Pure: bytes in, a Head of offsets out.
//
// Use:
//   HeadParser p(Side::Request, limits);          // once per connection
//   HeadResult r = p.parse(buf);                  // buf: bytes from the message start
//   NeedMore -> read more, call parse(buf) again with the grown buffer (the
//               parser resumes where it stopped; buf's prefix must be unchanged)
//   Error    -> answer error_response(r.failure.status) and close
//   Done     -> r.head_length bytes are the head; p.view(buf) reads it;
//               body: BodyDecoder::start(p.head().framing, ...) on buf[head_length..]
//   p.reset() before the next message (pipelining: it starts after the body).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "http/types.h"

namespace sluice::http {

struct Head {
  Side side = Side::Request;
  std::uint8_t version_major = 1;
  std::uint8_t version_minor = 1;
  // Request line.
  Method method = Method::Other;
  TargetForm target_form = TargetForm::None;
  Slice method_text;
  Slice target;
  // Status line.
  std::uint16_t status = 0;
  Slice reason;
  // Offset of the start line (leading empty lines are skipped) and total head
  // length including the final empty line.
  std::uint32_t start = 0;
  std::uint32_t length = 0;
  std::vector<Field> fields;  // reserved once to Limits::max_headers; never grows past it
  Framing framing = Framing::None;
  std::uint64_t content_length = 0;
  std::uint32_t flags = 0;

  bool has(std::uint32_t f) const { return (flags & f) != 0; }
  bool http11() const { return version_major == 1 && version_minor >= 1; }
  // Keep-alive per RFC 9112 section 9.3: 1.1 unless "close", 1.0 only with "keep-alive".
  bool keep_alive() const {
    if (has(flag::kMustClose) || has(flag::kConnClose)) return false;
    return http11() || has(flag::kConnKeepAlive);
  }
};

// Case-insensitive ASCII comparison (header names, tokens).
bool iequals(std::string_view a, std::string_view b);

// Read-only view of a parsed head over the buffer it was parsed from.
class MessageView {
 public:
  MessageView(const Head& head, std::string_view buf) : h_(&head), buf_(buf) {}

  struct FieldView {
    std::string_view name;
    std::string_view value;
  };

  const Head& head() const { return *h_; }
  std::string_view method() const { return at(h_->method_text); }
  std::string_view target() const { return at(h_->target); }
  std::string_view reason() const { return at(h_->reason); }
  std::string_view start_line() const;  // without its line ending
  std::size_t size() const { return h_->fields.size(); }
  FieldView field(std::size_t i) const {
    const Field& f = h_->fields[i];
    return {buf_.substr(f.name_off, f.name_len), buf_.substr(f.value_off, f.value_len)};
  }
  // Index of the first field named `name` at or after `from`, or npos.
  std::size_t find(std::string_view name, std::size_t from = 0) const;
  // Value of the first field named `name`; empty if absent (use find() to tell apart).
  std::string_view value(std::string_view name) const;
  std::size_t count(std::string_view name) const;

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  class iterator {
   public:
    iterator(const MessageView* v, std::size_t i) : v_(v), i_(i) {}
    FieldView operator*() const { return v_->field(i_); }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return i_ != o.i_; }
    bool operator==(const iterator& o) const { return i_ == o.i_; }

   private:
    const MessageView* v_;
    std::size_t i_;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, size()}; }

 private:
  std::string_view at(Slice s) const { return buf_.substr(s.off, s.len); }
  const Head* h_;
  std::string_view buf_;
};

struct HeadResult {
  ParseState state = ParseState::NeedMore;
  std::uint32_t head_length = 0;  // valid when Done: bytes of the head from the buffer start
  ParseFailure failure;           // valid when Error
};

class HeadParser {
 public:
  explicit HeadParser(Side side, const Limits& limits = {});

  // Parses buf, which holds the message from its first byte (and maybe more
  // after it). Between NeedMore calls the caller may only append to buf.
  HeadResult parse(std::string_view buf);

  // For a response parser: the request this response answers (HEAD responses
  // have no body; 2xx to CONNECT is a tunnel). Call before parse().
  void set_request_method(Method m) { request_method_ = m; }

  // Forget the current message; keeps the field storage (no allocation).
  void reset();

  const Head& head() const { return head_; }
  MessageView view(std::string_view buf) const { return MessageView(head_, buf); }
  const Limits& limits() const { return limits_; }

 private:
  enum class Stage : std::uint8_t { StartLine, Fields, Done, Failed };

  HeadResult fail(ParseError e);
  ParseError early_start_line_check(std::string_view avail);
  ParseError parse_request_line(std::string_view line, std::uint32_t off);
  ParseError parse_status_line(std::string_view line, std::uint32_t off);
  ParseError parse_field_line(std::string_view line, std::uint32_t off);
  ParseError note_field(std::string_view name, std::string_view value);
  ParseError finish_head();

  Limits limits_;
  Head head_;
  Stage stage_ = Stage::StartLine;
  Method request_method_ = Method::Get;
  std::uint32_t line_start_ = 0;  // first byte of the line being assembled
  std::uint32_t scan_ = 0;        // where the search for the next LF resumes
  std::uint32_t te_chunked_count_ = 0;
  bool te_last_chunked_ = false;
  bool te_other_before_ = false;
  bool te_bad_ = false;
  bool early_done_ = false;  // the start line's first token was checked
  HeadResult result_;
};

// Splits one field line (no line ending) into trimmed name and value, with the
// header rules: token name, colon right after it, no obs-fold, no CTL in the value.
ParseError split_field_line(std::string_view line, std::string_view& name,
                            std::string_view& value);

// Status for a parse error, for the side it happened on.
std::uint16_t status_for(ParseError e, Side side);
// One line for logs and tests.
std::string_view describe(ParseError e);

}  // namespace sluice::http
