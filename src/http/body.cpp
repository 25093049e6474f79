#include "http/body.h"

#include <algorithm>
#include <cstring>

#include "http/chars.h"

namespace sluice::http {

namespace {

// Chunk sizes stop below 2^60: far beyond any real body, and no overflow.
constexpr std::uint64_t kMaxChunkSize = (std::uint64_t{1} << 60) - 1;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  char l = chars::lower(c);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

}  // namespace

void BodyDecoder::start(Side side, Framing framing, std::uint64_t content_length) {
  side_ = side;
  framing_ = framing;
  remaining_ = 0;
  line_len_ = 0;
  trailer_scan_ = trailer_line_ = trailer_count_ = 0;
  failure_ = {};
  switch (framing) {
    case Framing::None:
      state_ = State::Done;
      break;
    case Framing::ContentLength:
      remaining_ = content_length;
      state_ = content_length == 0 ? State::Done : State::Length;
      break;
    case Framing::Chunked:
      state_ = State::SizeStart;
      break;
    case Framing::CloseDelimited:
    case Framing::Tunnel:
      state_ = State::UntilClose;
      break;
  }
}

BodyEvent BodyDecoder::fail(ParseError e, std::size_t consumed) {
  state_ = State::Failed;
  failure_ = {e, status_for(e, side_)};
  BodyEvent ev;
  ev.kind = BodyEvent::Error;
  ev.consumed = consumed;
  ev.failure = failure_;
  return ev;
}

BodyEvent BodyDecoder::decode(std::string_view in) {
  BodyEvent ev;
  switch (state_) {
    case State::Done:
      ev.kind = BodyEvent::Done;
      return ev;
    case State::Failed:
      ev.kind = BodyEvent::Error;
      ev.failure = failure_;
      return ev;
    case State::Length: {
      if (in.empty()) return ev;
      std::uint64_t n = std::min<std::uint64_t>(remaining_, in.size());
      remaining_ -= n;
      if (remaining_ == 0) state_ = State::Done;
      ev.kind = BodyEvent::Data;
      ev.consumed = ev.data_len = static_cast<std::size_t>(n);
      return ev;
    }
    case State::UntilClose:
      if (in.empty()) return ev;
      ev.kind = BodyEvent::Data;
      ev.consumed = ev.data_len = in.size();
      return ev;
    default:
      return decode_chunked(in);
  }
}

BodyEvent BodyDecoder::finish() {
  BodyEvent ev;
  if (state_ == State::UntilClose) state_ = State::Done;
  if (state_ == State::Done) {
    ev.kind = BodyEvent::Done;
    return ev;
  }
  if (state_ == State::Failed) {
    ev.kind = BodyEvent::Error;
    ev.failure = failure_;
    return ev;
  }
  return fail(ParseError::Truncated, 0);
}

BodyEvent BodyDecoder::decode_chunked(std::string_view in) {
  std::size_t i = 0;
  while (i < in.size()) {
    if (state_ == State::Data) {
      std::uint64_t n = std::min<std::uint64_t>(remaining_, in.size() - i);
      remaining_ -= n;
      if (remaining_ == 0) state_ = State::DataCr;
      BodyEvent ev;
      ev.kind = BodyEvent::Data;
      ev.data_off = i;
      ev.data_len = static_cast<std::size_t>(n);
      ev.consumed = i + ev.data_len;
      return ev;
    }
    if (state_ == State::Trailers) return decode_trailers(in, i);

    const char c = in[i];
    if (state_ == State::SizeStart || state_ == State::Size || state_ == State::SizeBws ||
        state_ == State::Ext) {
      if (++line_len_ > limits_.max_chunk_line) return fail(ParseError::ChunkLineTooLong, i);
    }
    switch (state_) {
      case State::SizeStart:
      case State::Size: {
        int h = hex_value(c);
        if (h >= 0) {
          if (remaining_ > (kMaxChunkSize >> 4)) return fail(ParseError::ChunkSizeOverflow, i);
          remaining_ = (remaining_ << 4) | static_cast<std::uint64_t>(h);
          state_ = State::Size;
        } else if (state_ == State::SizeStart) {
          return fail(ParseError::BadChunkSize, i);
        } else if (chars::ows(c)) {
          state_ = State::SizeBws;  // BWS before ';' or the line end (haproxy 2.6 accepts it)
        } else if (c == ';') {
          state_ = State::Ext;
        } else if (c == '\r') {
          state_ = State::SizeLf;
        } else if (c == '\n') {
          return fail(ParseError::BareLF, i);
        } else {
          return fail(ParseError::BadChunkSize, i);
        }
        break;
      }
      case State::SizeBws:
        if (c == ';') state_ = State::Ext;
        else if (c == '\r') state_ = State::SizeLf;
        else if (c == '\n') return fail(ParseError::BareLF, i);
        else if (!chars::ows(c)) return fail(ParseError::BadChunkSize, i);
        break;
      case State::Ext:
        // Extensions are tolerated and not interpreted; only CTLs are refused.
        if (c == '\r') state_ = State::SizeLf;
        else if (c == '\n') return fail(ParseError::BareLF, i);
        else if (!chars::field_vchar(c)) return fail(ParseError::BadChunkExtension, i);
        break;
      case State::SizeLf:
        if (c != '\n') return fail(ParseError::BareCR, i);
        line_len_ = 0;
        if (remaining_ == 0) {
          state_ = State::Trailers;
          trailer_scan_ = trailer_line_ = trailer_count_ = 0;
        } else {
          state_ = State::Data;
        }
        break;
      case State::DataCr:
        if (c != '\r') return fail(ParseError::BadChunkEnd, i);
        state_ = State::DataLf;
        break;
      case State::DataLf:
        if (c != '\n') return fail(ParseError::BadChunkEnd, i);
        state_ = State::SizeStart;
        remaining_ = 0;
        break;
      default:
        break;
    }
    ++i;
  }
  BodyEvent ev;
  ev.consumed = i;
  if (state_ == State::Trailers) return decode_trailers(in, i);
  return ev;
}

// The trailer section is handed over whole, so it is consumed only once its
// empty line has arrived; `from` is where it starts in `in`.
BodyEvent BodyDecoder::decode_trailers(std::string_view in, std::size_t from) {
  std::string_view sec = in.substr(from);
  const std::size_t limit = std::min<std::size_t>(sec.size(), limits_.max_head);
  while (true) {
    const void* lf_ptr = trailer_scan_ < limit
                             ? std::memchr(sec.data() + trailer_scan_, '\n', limit - trailer_scan_)
                             : nullptr;
    if (lf_ptr == nullptr) {
      trailer_scan_ = static_cast<std::uint32_t>(limit);
      if (sec.size() >= limits_.max_head) return fail(ParseError::TrailersTooLarge, from);
      BodyEvent ev;
      ev.consumed = from;
      return ev;
    }
    const auto lf = static_cast<std::uint32_t>(static_cast<const char*>(lf_ptr) - sec.data());
    std::string_view line = sec.substr(trailer_line_, lf - trailer_line_);
    if (line.empty() || line.back() != '\r') return fail(ParseError::BareLF, from);
    line.remove_suffix(1);
    const std::uint32_t line_start = trailer_line_;
    trailer_line_ = trailer_scan_ = lf + 1;
    if (line.empty()) {
      state_ = State::Done;
      BodyEvent ev;
      ev.consumed = from + lf + 1;
      if (line_start > 0) {
        ev.kind = BodyEvent::Trailers;
        ev.data_off = from;
        ev.data_len = line_start;
      } else {
        ev.kind = BodyEvent::Done;
      }
      return ev;
    }
    std::string_view name;
    std::string_view value;
    if (std::memchr(line.data(), '\r', line.size()) != nullptr ||
        split_field_line(line, name, value) != ParseError::None)
      return fail(ParseError::BadTrailer, from);
    if (++trailer_count_ > limits_.max_headers) return fail(ParseError::TrailersTooLarge, from);
  }
}

}  // namespace sluice::http
