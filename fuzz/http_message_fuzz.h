#pragma once
// Shared body of the HTTP/1.1 codec fuzz targets: the input is parsed as one
// message (head, then body) fed in several ways; every way must give the same
// outcome, every offset and span must stay inside the input, and nothing may
// crash or hang.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/body.h"
#include "http/parser.h"
#include "http/writer.h"

namespace sluice::http::fuzz {



struct Outcome {
  int state = 0;  // 0 need more, 1 done, 2 error
  int error = 0;
  unsigned status = 0;
  std::size_t head = 0;
  std::size_t end = 0;
  std::string body;
  std::string trailers;
  bool operator==(const Outcome&) const = default;
};

inline void check(bool ok) {
  if (!ok) std::abort();
}

inline Outcome run(Side side, std::string_view input, std::vector<std::size_t> cuts, Method req,
            bool eof) {
  HeadParser p(side);
  p.set_request_method(req);
  BodyDecoder d;
  Outcome o;
  bool head_done = false;
  std::size_t pos = 0;
  cuts.push_back(input.size());
  for (std::size_t avail : cuts) {
    if (avail > input.size()) avail = input.size();
    std::string_view buf = input.substr(0, avail);
    if (!head_done) {
      HeadResult r = p.parse(buf);
      if (r.state == ParseState::Error) {
        check(r.failure.status >= 400 && r.failure.status <= 599);
        o.state = 2;
        o.error = static_cast<int>(r.failure.code);
        o.status = r.failure.status;
        return o;
      }
      if (r.state == ParseState::NeedMore) continue;
      head_done = true;
      check(r.head_length > 0 && r.head_length <= buf.size());
      o.head = r.head_length;
      MessageView v = p.view(buf);
      for (auto f : v) {
        check(f.name.data() >= buf.data() && f.value.data() + f.value.size() <= buf.data() + r.head_length);
        check(v.find(f.name) != MessageView::npos);
      }
      (void)v.start_line();
      // The head must re-serialize and parse again to the same framing.
      char out[32768];
      std::size_t n = write_head(v, {}, out, sizeof out);
      if (n > 0) {
        HeadParser again(side);
        again.set_request_method(req);
        HeadResult r2 = again.parse(std::string_view(out, n));
        check(r2.state == ParseState::Done && r2.head_length == n);
        check(again.head().framing == p.head().framing);
        check(again.head().fields.size() == p.head().fields.size());
      }
      d.start(p.head());
      pos = r.head_length;
    }
    while (true) {
      std::string_view in = buf.substr(pos);
      BodyEvent ev = d.decode(in);
      check(ev.consumed <= in.size());
      if (ev.kind == BodyEvent::Data || ev.kind == BodyEvent::Trailers) {
        check(ev.data_off + ev.data_len <= ev.consumed);
        (ev.kind == BodyEvent::Data ? o.body : o.trailers).append(in.substr(ev.data_off, ev.data_len));
        check(ev.kind == BodyEvent::Trailers || ev.data_len > 0);
      }
      pos += ev.consumed;
      if (ev.kind == BodyEvent::Error) {
        o.state = 2;
        o.error = static_cast<int>(ev.failure.code);
        o.status = ev.failure.status;
        return o;
      }
      if (ev.kind == BodyEvent::Done) {
        o.state = 1;
        o.end = pos;
        return o;
      }
      if (ev.kind == BodyEvent::NeedMore) break;
    }
  }
  if (eof && head_done) {
    BodyEvent ev = d.finish();
    o.state = ev.kind == BodyEvent::Done ? 1 : 2;
    o.end = ev.kind == BodyEvent::Done ? pos : 0;
    o.error = static_cast<int>(ev.failure.code);
    o.status = ev.failure.status;
  }
  return o;
}



// The first byte picks the split point and whether the peer closes at the end;
// for responses also the request method (HEAD, CONNECT, GET).
inline int fuzz_message(Side side, const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 64 * 1024) return 0;
  Method req = Method::Get;
  if (side == Side::Response)
    req = data[0] % 3 == 0 ? Method::Head : data[0] % 3 == 1 ? Method::Connect : Method::Get;
  const bool eof = (data[0] & 0x80) != 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  Outcome whole = run(side, input, {}, req, eof);
  check(run(side, input, {input.size() / 2}, req, eof) == whole);
  check(run(side, input, {input.size() / 3, 2 * input.size() / 3}, req, eof) == whole);
  check(run(side, input, {data[0] % (input.size() + 1)}, req, eof) == whole);
  if (input.size() <= 2048) {
    std::vector<std::size_t> bytewise;
    for (std::size_t i = 0; i < input.size(); ++i) bytewise.push_back(i);
    check(run(side, input, bytewise, req, eof) == whole);
  }
  return 0;
}

}  // namespace sluice::http::fuzz
