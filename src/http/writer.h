#pragma once
// Serializes HTTP/1.1 heads into a caller's output buffer, with no allocation:
// a fluent writer for heads built from scratch, and write_head() to forward a
// parsed head with header edits (the set/del/add of http-request rules).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "http/parser.h"

namespace sluice::http {

class HeadWriter {
 public:
  HeadWriter(char* out, std::size_t cap) : out_(out), cap_(cap) {}

  HeadWriter& request_line(std::string_view method, std::string_view target,
                           std::uint8_t minor = 1);
  // An empty reason writes reason_phrase(status).
  HeadWriter& status_line(std::uint16_t status, std::string_view reason = {},
                          std::uint8_t minor = 1);
  HeadWriter& field(std::string_view name, std::string_view value);
  HeadWriter& field(std::string_view name, std::uint64_t value);
  HeadWriter& end();  // the empty line closing the head

  // False once anything did not fit; size() then stays at what fitted.
  bool ok() const { return ok_; }
  std::size_t size() const { return len_; }
  std::string_view text() const { return {out_, len_}; }

 private:
  HeadWriter& put(std::string_view s);
  char* out_;
  std::size_t cap_;
  std::size_t len_ = 0;
  bool ok_ = true;
};

struct HeaderEdit {
  enum class Op : std::uint8_t {
    Add,  // append a field
    Set,  // remove every field of that name, then append this one
    Del,  // remove every field of that name
  };
  Op op = Op::Add;
  std::string_view name;
  std::string_view value;
};

// Writes msg's start line (normalised: single SP, HTTP/1.0 or HTTP/1.1) and its
// fields in order, with `edits` applied as if run one after the other, then the
// empty line. Returns the bytes written, or 0 if they did not fit in cap.
std::size_t write_head(const MessageView& msg, std::span<const HeaderEdit> edits, char* out,
                       std::size_t cap);

}  // namespace sluice::http
