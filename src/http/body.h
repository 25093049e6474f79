#pragma once
// Incremental, zero-copy body decoder: content-length countdown, chunked
// transfer coding (RFC 9112 section 7.1), close-delimited bodies and tunnels.
//
// Use:
//   BodyDecoder d(limits);
//   d.start(head);                       // after HeadParser returned Done
//   loop: BodyEvent ev = d.decode(in);   // in: the body bytes not consumed yet
//     Data     -> forward in.substr(ev.data_off, ev.data_len); drop ev.consumed bytes; call again
//     Trailers -> in.substr(ev.data_off, ev.data_len) holds the trailer field lines,
//                 each ending in CRLF (not the final empty line); drop ev.consumed; call again
//     NeedMore -> drop ev.consumed bytes (framing already read), read more, call again
//     Done     -> drop ev.consumed; the next message starts right after
//     Error    -> answer ev.failure.status and close
//   On EOF from the peer: d.finish() (Done for close-delimited, Error otherwise).
// Chunk framing is re-checked strictly (CRLF only), so forwarding the consumed
// bytes verbatim is safe; re-chunking the Data spans is too.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/parser.h"
#include "http/types.h"

namespace sluice::http {

struct BodyEvent {
  enum Kind : std::uint8_t { NeedMore, Data, Trailers, Done, Error };
  Kind kind = NeedMore;
  std::size_t consumed = 0;  // bytes from the start of `in` the caller may drop
  std::size_t data_off = 0;  // Data / Trailers: span inside `in`
  std::size_t data_len = 0;
  ParseFailure failure;  // Error
};

class BodyDecoder {
 public:
  explicit BodyDecoder(const Limits& limits = {}) : limits_(limits) {}

  void start(Side side, Framing framing, std::uint64_t content_length);
  void start(const Head& head) { start(head.side, head.framing, head.content_length); }

  BodyEvent decode(std::string_view in);
  BodyEvent finish();  // the peer closed its side

  bool done() const { return state_ == State::Done; }
  Framing framing() const { return framing_; }
  // Body bytes still expected: content-length left, or the current chunk's rest.
  std::uint64_t remaining() const { return remaining_; }

 private:
  enum class State : std::uint8_t {
    Length,      // content-length countdown
    UntilClose,  // close-delimited body or tunnel
    SizeStart, Size, SizeBws, Ext, SizeLf,
    Data, DataCr, DataLf,
    Trailers,
    Done, Failed,
  };

  BodyEvent fail(ParseError e, std::size_t consumed);
  BodyEvent decode_chunked(std::string_view in);
  BodyEvent decode_trailers(std::string_view in, std::size_t from);

  Limits limits_;
  Side side_ = Side::Request;
  Framing framing_ = Framing::None;
  State state_ = State::Done;
  std::uint64_t remaining_ = 0;
  std::uint32_t line_len_ = 0;     // bytes of the current chunk-size line
  std::uint32_t trailer_scan_ = 0;  // LF search resumes here (relative to the trailer start)
  std::uint32_t trailer_line_ = 0;  // start of the trailer line being assembled
  std::uint32_t trailer_count_ = 0;
  ParseFailure failure_;
};

}  // namespace sluice::http
