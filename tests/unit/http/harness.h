#pragma once
// Feeds one message to HeadParser + BodyDecoder the way a connection would:
// the receive buffer grows at the given cut points, the parser resumes, and
// the body decoder drops what it consumed.

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "http/body.h"
#include "http/parser.h"

namespace sluice::http::test {

struct Outcome {
  ParseState state = ParseState::NeedMore;  // Done once head and body are complete
  ParseError error = ParseError::None;
  std::uint16_t status = 0;
  std::uint32_t head_length = 0;
  Framing framing = Framing::None;
  std::string body;
  std::string trailers;
  std::size_t end = 0;  // where the message ended in the input (Done only)

  bool operator==(const Outcome&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{state=" << int(o.state) << " error=" << describe(o.error) << " status=" << o.status
            << " head=" << o.head_length << " body=" << o.body.size() << "B end=" << o.end << "}";
}

// cuts: increasing buffer sizes to expose; the full input is always exposed last.
inline Outcome feed(std::string_view input, Side side, std::vector<std::size_t> cuts,
                    Method request_method = Method::Get, bool eof = false,
                    const Limits& limits = {}) {
  HeadParser p(side, limits);
  p.set_request_method(request_method);
  BodyDecoder d(limits);
  Outcome o;
  bool head_done = false;
  std::size_t pos = 0;  // first body byte not consumed
  cuts.push_back(input.size());
  for (std::size_t avail : cuts) {
    if (avail > input.size()) avail = input.size();
    std::string_view buf = input.substr(0, avail);
    if (!head_done) {
      HeadResult r = p.parse(buf);
      if (r.state == ParseState::Error) {
        o.state = ParseState::Error;
        o.error = r.failure.code;
        o.status = r.failure.status;
        return o;
      }
      if (r.state == ParseState::NeedMore) continue;
      head_done = true;
      o.head_length = r.head_length;
      o.framing = p.head().framing;
      d.start(p.head());
      pos = r.head_length;
    }
    while (true) {
      BodyEvent ev = d.decode(buf.substr(pos));
      std::string_view in = buf.substr(pos);
      if (ev.kind == BodyEvent::Data) o.body.append(in.substr(ev.data_off, ev.data_len));
      if (ev.kind == BodyEvent::Trailers) o.trailers.append(in.substr(ev.data_off, ev.data_len));
      pos += ev.consumed;
      if (ev.kind == BodyEvent::Error) {
        o.state = ParseState::Error;
        o.error = ev.failure.code;
        o.status = ev.failure.status;
        return o;
      }
      if (ev.kind == BodyEvent::Done) {
        o.state = ParseState::Done;
        o.end = pos;
        return o;
      }
      if (ev.kind == BodyEvent::NeedMore) break;
    }
  }
  if (eof && head_done) {
    BodyEvent ev = d.finish();
    if (ev.kind == BodyEvent::Done) {
      o.state = ParseState::Done;
      o.end = pos;
    } else {
      o.state = ParseState::Error;
      o.error = ev.failure.code;
      o.status = ev.failure.status;
    }
  }
  return o;
}

inline Outcome feed_whole(std::string_view input, Side side = Side::Request,
                          Method m = Method::Get, bool eof = false, const Limits& l = {}) {
  return feed(input, side, {}, m, eof, l);
}

inline Outcome feed_bytewise(std::string_view input, Side side = Side::Request,
                             Method m = Method::Get, bool eof = false, const Limits& l = {}) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 0; i <= input.size(); ++i) cuts.push_back(i);
  return feed(input, side, cuts, m, eof, l);
}

// The whole-buffer outcome, after checking that every single split point and
// byte-by-byte feeding give exactly the same outcome.
inline Outcome feed_all_ways(std::string_view input, Side side = Side::Request,
                             Method m = Method::Get, bool eof = false, const Limits& l = {}) {
  Outcome whole = feed_whole(input, side, m, eof, l);
  EXPECT_EQ(feed_bytewise(input, side, m, eof, l), whole) << "byte by byte";
  for (std::size_t cut = 0; cut <= input.size(); ++cut)
    EXPECT_EQ(feed(input, side, {cut}, m, eof, l), whole) << "split at " << cut;
  return whole;
}

}  // namespace sluice::http::test
