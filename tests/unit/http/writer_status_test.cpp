// HeadWriter / write_head with header edits, reason phrases, canned errors,
// and the body decoder's zero-copy spans.

#include <gtest/gtest.h>

#include <string>

#include "http/body.h"
#include "http/parser.h"
#include "http/status.h"
#include "http/writer.h"

namespace sluice::http {
namespace {

TEST(HttpWriter, BuildsHeadFromScratch) {
  char out[256];
  HeadWriter w(out, sizeof out);
  w.status_line(503).field("content-length", std::uint64_t{42}).field("x", "y").end();
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.text(), "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 42\r\nx: y\r\n\r\n");
}

TEST(HttpWriter, OverflowReportsNotOk) {
  char out[10];
  HeadWriter w(out, sizeof out);
  w.request_line("GET", "/long/path");
  EXPECT_FALSE(w.ok());
  EXPECT_LE(w.size(), sizeof out);
}

TEST(HttpWriter, WriteHeadWithEdits) {
  std::string in =
      "GET  /x HTTP/1.1\r\nHost: a\r\nX-Del: 1\r\nAccept: */*\r\nx-del: 2\r\nX-Set: old\r\n\r\n";
  in.erase(4, 1);  // single SP: the parser is strict
  HeadParser p(Side::Request);
  ASSERT_EQ(p.parse(in).state, ParseState::Done);
  const HeaderEdit edits[] = {
      {HeaderEdit::Op::Del, "x-del", {}},
      {HeaderEdit::Op::Set, "X-Set", "new"},
      {HeaderEdit::Op::Add, "X-Forwarded-For", "10.0.0.1"},
      {HeaderEdit::Op::Add, "X-Gone", "soon"},
      {HeaderEdit::Op::Del, "x-gone", {}},
  };
  char out[512];
  std::size_t n = write_head(p.view(in), edits, out, sizeof out);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(std::string_view(out, n),
            "GET /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nX-Set: new\r\n"
            "X-Forwarded-For: 10.0.0.1\r\n\r\n");
  EXPECT_EQ(write_head(p.view(in), edits, out, 20), 0u);  // does not fit
}

TEST(HttpWriter, ResponseRoundTrip) {
  std::string in = "HTTP/1.0 200\r\nServer: s\r\n\r\n";
  HeadParser p(Side::Response);
  ASSERT_EQ(p.parse(in).state, ParseState::Done);
  char out[128];
  std::size_t n = write_head(p.view(in), {}, out, sizeof out);
  EXPECT_EQ(std::string_view(out, n), "HTTP/1.0 200 OK\r\nServer: s\r\n\r\n");
}

TEST(HttpStatus, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(400), "Bad Request");
  EXPECT_EQ(reason_phrase(414), "URI Too Long");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(799), "");
}

TEST(HttpStatus, CannedResponsesHaveHaproxyShape) {
  for (std::uint16_t s : {200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 414, 421, 422, 425, 429,
                          431, 500, 501, 502, 503, 504, 505}) {
    SCOPED_TRACE(s);
    ASSERT_TRUE(has_error_response(s));
    std::string r(error_response(s));
    // It parses as a response, and its content-length matches its body.
    HeadParser p(Side::Response);
    HeadResult h = p.parse(r);
    ASSERT_EQ(h.state, ParseState::Done);
    EXPECT_EQ(p.head().status, s);
    EXPECT_EQ(p.head().content_length, r.size() - h.head_length);
    MessageView v = p.view(r);
    EXPECT_EQ(v.field(0).name, "content-length");
    EXPECT_EQ(v.field(1).name, "cache-control");
    EXPECT_EQ(v.field(1).value, "no-cache");
    EXPECT_EQ(v.field(2).name, "content-type");
    EXPECT_EQ(v.field(2).value, "text/html");
    bool close = s == 400 || s == 408 || s == 414 || s == 431 || s == 505;
    EXPECT_EQ(v.value("connection") == "close", close);
    std::string h1 = "<html><body><h1>" + std::to_string(s) + " " + std::string(v.reason()) + "</h1>\n";
    EXPECT_EQ(r.substr(h.head_length, h1.size()), h1);
    EXPECT_EQ(r.substr(r.size() - 15), "</body></html>\n");
  }
  // haproxy 2.6's own spellings on its pages.
  EXPECT_EQ(error_response(400).substr(0, 26), "HTTP/1.1 400 Bad request\r\n");
  EXPECT_EQ(error_response(408).substr(0, 31), "HTTP/1.1 408 Request Time-out\r\n");
  EXPECT_EQ(error_response(504).substr(0, 31), "HTTP/1.1 504 Gateway Time-out\r\n");
  EXPECT_EQ(error_response(599), error_response(500));
  EXPECT_EQ(error_response(503).substr(0, 35), "HTTP/1.1 503 Service Unavailable\r\n"
                                               "c");
}

TEST(HttpBody, DataSpansPointIntoInput) {
  BodyDecoder d;
  d.start(Side::Request, Framing::Chunked, 0);
  std::string in = "3\r\nabc\r\n";
  BodyEvent ev = d.decode(in);
  ASSERT_EQ(ev.kind, BodyEvent::Data);
  EXPECT_EQ(ev.data_off, 3u);
  EXPECT_EQ(ev.data_len, 3u);
  EXPECT_EQ(ev.consumed, 6u);
  ev = d.decode(std::string_view(in).substr(6));
  EXPECT_EQ(ev.kind, BodyEvent::NeedMore);
  EXPECT_EQ(ev.consumed, 2u);
}

TEST(HttpBody, ContentLengthCountdown) {
  BodyDecoder d;
  d.start(Side::Request, Framing::ContentLength, 10);
  EXPECT_EQ(d.decode("").kind, BodyEvent::NeedMore);
  BodyEvent ev = d.decode("1234");
  EXPECT_EQ(ev.kind, BodyEvent::Data);
  EXPECT_EQ(d.remaining(), 6u);
  ev = d.decode("567890GET /next");
  EXPECT_EQ(ev.data_len, 6u);
  EXPECT_EQ(ev.consumed, 6u);
  EXPECT_EQ(d.decode("GET /next").kind, BodyEvent::Done);
  EXPECT_EQ(d.decode("GET /next").consumed, 0u);
  EXPECT_TRUE(d.done());
}

TEST(HttpBody, ZeroLengthAndNone) {
  BodyDecoder d;
  d.start(Side::Request, Framing::ContentLength, 0);
  EXPECT_EQ(d.decode("").kind, BodyEvent::Done);
  d.start(Side::Request, Framing::None, 0);
  EXPECT_EQ(d.decode("x").kind, BodyEvent::Done);
}

TEST(HttpBody, ErrorIsSticky) {
  BodyDecoder d;
  d.start(Side::Response, Framing::Chunked, 0);
  BodyEvent ev = d.decode("zz\r\n");
  ASSERT_EQ(ev.kind, BodyEvent::Error);
  EXPECT_EQ(ev.failure.status, 502);
  EXPECT_EQ(d.decode("0\r\n\r\n").kind, BodyEvent::Error);
}

}  // namespace
}  // namespace sluice::http
