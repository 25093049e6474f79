// HeadParser on valid messages: start lines, fields, accessors, framing,
// connection flags, incremental feeding and pipelining.

#include <gtest/gtest.h>

#include <string>

#include "http/parser.h"
#include "harness.h"

namespace sluice::http {
namespace {

using test::feed_all_ways;

struct Parsed {
  HeadParser parser;
  std::string buf;
  HeadResult result;
  Parsed(std::string text, Side side = Side::Request, Method req = Method::Get)
      : parser(side), buf(std::move(text)) {
    parser.set_request_method(req);
    result = parser.parse(buf);
  }
  MessageView view() const { return parser.view(buf); }
  const Head& head() const { return parser.head(); }
};

TEST(HttpParser, SimpleGet) {
  Parsed p("GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
  ASSERT_EQ(p.result.state, ParseState::Done);
  EXPECT_EQ(p.result.head_length, p.buf.size());
  MessageView v = p.view();
  EXPECT_EQ(v.method(), "GET");
  EXPECT_EQ(p.head().method, Method::Get);
  EXPECT_EQ(v.target(), "/index.html?q=1");
  EXPECT_EQ(p.head().target_form, TargetForm::Origin);
  EXPECT_EQ(p.head().version_major, 1);
  EXPECT_EQ(p.head().version_minor, 1);
  EXPECT_EQ(v.size(), 2u);
  EXPECT_EQ(v.field(0).name, "Host");
  EXPECT_EQ(v.field(0).value, "example.com");
  EXPECT_EQ(v.value("host"), "example.com");
  EXPECT_EQ(v.value("ACCEPT"), "*/*");
  EXPECT_EQ(v.find("x-missing"), MessageView::npos);
  EXPECT_EQ(v.start_line(), "GET /index.html?q=1 HTTP/1.1");
  EXPECT_EQ(p.head().framing, Framing::None);
  EXPECT_TRUE(p.head().keep_alive());
  EXPECT_TRUE(p.head().has(flag::kHasHost));
}

TEST(HttpParser, FieldsIterateFindCount) {
  Parsed p(
      "GET / HTTP/1.1\r\nHost: a\r\nX-Dup: one\r\nx-dup:two\r\nEmpty:\r\nX-Sp: \t padded \t \r\n"
      "X-DUP:  three\r\n\r\n");
  ASSERT_EQ(p.result.state, ParseState::Done);
  MessageView v = p.view();
  EXPECT_EQ(v.count("x-dup"), 3u);
  std::size_t i = v.find("X-Dup");
  EXPECT_EQ(v.field(i).value, "one");
  i = v.find("X-Dup", i + 1);
  EXPECT_EQ(v.field(i).value, "two");
  i = v.find("X-Dup", i + 1);
  EXPECT_EQ(v.field(i).value, "three");
  EXPECT_EQ(v.value("empty"), "");
  EXPECT_NE(v.find("empty"), MessageView::npos);
  EXPECT_EQ(v.value("x-sp"), "padded");
  std::string names;
  for (auto f : v) names += std::string(f.name) + ",";
  EXPECT_EQ(names, "Host,X-Dup,x-dup,Empty,X-Sp,X-DUP,");
}

TEST(HttpParser, ValueKeepsInnerWhitespaceAndObsText) {
  Parsed p("GET / HTTP/1.1\r\nX: a \t b\r\nY: caf\xc3\xa9\r\n\r\n");
  ASSERT_EQ(p.result.state, ParseState::Done);
  EXPECT_EQ(p.view().value("x"), "a \t b");
  EXPECT_EQ(p.view().value("y"), "caf\xc3\xa9");
}

TEST(HttpParser, PostWithContentLength) {
  auto o = feed_all_ways("POST /submit HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world");
  EXPECT_EQ(o.state, ParseState::Done);
  EXPECT_EQ(o.framing, Framing::ContentLength);
  EXPECT_EQ(o.body, "hello world");
}

TEST(HttpParser, ContentLengthRepeatedIdenticalIsOne) {
  Parsed p("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5, 005\r\n\r\n");
  ASSERT_EQ(p.result.state, ParseState::Done);
  EXPECT_EQ(p.head().framing, Framing::ContentLength);
  EXPECT_EQ(p.head().content_length, 5u);
}

TEST(HttpParser, ChunkedWithExtensionsAndTrailers) {
  std::string msg =
      "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "6 ; quoted=\"a b\"\r\n world\r\n"
      "A\r\n0123456789\r\n"
      "0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n";
  auto o = feed_all_ways(msg);
  EXPECT_EQ(o.state, ParseState::Done);
  EXPECT_EQ(o.framing, Framing::Chunked);
  EXPECT_EQ(o.body, "hello world0123456789");
  EXPECT_EQ(o.trailers, "X-Checksum: abc\r\nX-Other: 1\r\n");
  EXPECT_EQ(o.end, msg.size());
}

TEST(HttpParser, ChunkedCaseInsensitiveCoding) {
  Parsed p("POST / HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n");
  ASSERT_EQ(p.result.state, ParseState::Done);
  EXPECT_EQ(p.head().framing, Framing::Chunked);
}

TEST(HttpParser, LeadingEmptyLinesSkipped) {
  Parsed p("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(p.result.state, ParseState::Done);
  EXPECT_EQ(p.head().start, 4u);
  EXPECT_EQ(p.view().method(), "GET");
}

TEST(HttpParser, BareLfAcceptedInHeadLikeHaproxy) {
  Parsed p("GET / HTTP/1.1\nHost: x\nX: y\n\n");
  ASSERT_EQ(p.result.state, ParseState::Done);
  EXPECT_EQ(p.view().value("x"), "y");
  EXPECT_EQ(p.result.head_length, p.buf.size());
}

TEST(HttpParser, BareLfRejectedWhenNotAllowed) {
  Limits l;
  l.allow_bare_lf = false;
  auto o = test::feed_whole("GET / HTTP/1.1\nHost: x\n\n", Side::Request, Method::Get, false, l);
  EXPECT_EQ(o.error, ParseError::BareLF);
  EXPECT_EQ(o.status, 400);
}

TEST(HttpParser, UnknownAndLowercaseMethodsAccepted) {
  Parsed a("PURGE /x HTTP/1.1\r\n\r\n");
  ASSERT_EQ(a.result.state, ParseState::Done);
  EXPECT_EQ(a.head().method, Method::Other);
  EXPECT_EQ(a.view().method(), "PURGE");
  Parsed b("get / HTTP/1.1\r\n\r\n");  // methods are case-sensitive: an unknown method
  ASSERT_EQ(b.result.state, ParseState::Done);
  EXPECT_EQ(b.head().method, Method::Other);
  Parsed c("M-!#$%&'*+.^_`|~ / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(c.result.state, ParseState::Done);
}

TEST(HttpParser, TargetForms) {
  Parsed abs("GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ASSERT_EQ(abs.result.state, ParseState::Done);
  EXPECT_EQ(abs.head().target_form, TargetForm::Absolute);
  EXPECT_EQ(abs.view().target(), "http://example.com/a?b");
  Parsed conn("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  ASSERT_EQ(conn.result.state, ParseState::Done);
  EXPECT_EQ(conn.head().target_form, TargetForm::Authority);
  EXPECT_EQ(conn.head().method, Method::Connect);
  Parsed v6("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(v6.head().target_form, TargetForm::Authority);
  Parsed star("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(star.result.state, ParseState::Done);
  EXPECT_EQ(star.head().target_form, TargetForm::Asterisk);
}

TEST(HttpParser, Http10DefaultsToClose) {
  Parsed a("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(a.result.state, ParseState::Done);
  EXPECT_EQ(a.head().version_minor, 0);
  EXPECT_FALSE(a.head().keep_alive());
  Parsed b("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  EXPECT_TRUE(b.head().has(flag::kConnKeepAlive));
  EXPECT_TRUE(b.head().keep_alive());
  Parsed c("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n");
  EXPECT_TRUE(c.head().has(flag::kConnClose));
  EXPECT_FALSE(c.head().keep_alive());
}

TEST(HttpParser, HigherMinorVersionIsHttp11) {
  Parsed p("GET / HTTP/1.2\r\n\r\n");
  ASSERT_EQ(p.result.state, ParseState::Done);
  EXPECT_TRUE(p.head().http11());
}

TEST(HttpParser, ExpectContinue) {
  Parsed a("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n");
  ASSERT_EQ(a.result.state, ParseState::Done);
  EXPECT_TRUE(a.head().has(flag::kExpectContinue));
  // HTTP/1.0 clients cannot expect 100 (RFC 9110 section 10.1.1).
  Parsed b("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_FALSE(b.head().has(flag::kExpectContinue));
  Parsed c("POST / HTTP/1.1\r\nExpect: something-else\r\n\r\n");
  EXPECT_FALSE(c.head().has(flag::kExpectContinue));
}

TEST(HttpParser, WebSocketUpgrade) {
  Parsed p(
      "GET /chat HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  ASSERT_EQ(p.result.state, ParseState::Done);
  EXPECT_TRUE(p.head().has(flag::kConnUpgrade));
  EXPECT_TRUE(p.head().has(flag::kUpgrade));
  EXPECT_TRUE(p.head().has(flag::kUpgradeWebSocket));
  EXPECT_TRUE(p.head().has(flag::kWebSocketKey));
  EXPECT_TRUE(p.head().has(flag::kConnKeepAlive));

  Parsed resp("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\r\n",
              Side::Response);
  ASSERT_EQ(resp.result.state, ParseState::Done);
  EXPECT_EQ(resp.head().framing, Framing::Tunnel);
  EXPECT_TRUE(resp.head().has(flag::kUpgradeWebSocket));
}

TEST(HttpParser, H2cUpgradeIsJustFlags) {
  Parsed p("GET / HTTP/1.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n");
  ASSERT_EQ(p.result.state, ParseState::Done);
  EXPECT_TRUE(p.head().has(flag::kUpgrade));
  EXPECT_FALSE(p.head().has(flag::kUpgradeWebSocket));
}

TEST(HttpParser, LenientContentLengthWithTransferEncoding) {
  Limits l;
  l.reject_cl_with_te = false;  // haproxy 2.6's way: drop CL, chunked, close after
  HeadParser p(Side::Request, l);
  std::string buf = "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
  ASSERT_EQ(p.parse(buf).state, ParseState::Done);
  EXPECT_EQ(p.head().framing, Framing::Chunked);
  EXPECT_FALSE(p.head().has(flag::kHasContentLength));
  EXPECT_TRUE(p.head().has(flag::kMustClose));
  EXPECT_FALSE(p.head().keep_alive());
}

TEST(HttpParser, IncrementalResumesWithoutRescan) {
  std::string msg = "GET /path HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n";
  HeadParser p(Side::Request);
  for (std::size_t n = 0; n < msg.size(); ++n)
    ASSERT_EQ(p.parse(std::string_view(msg).substr(0, n)).state, ParseState::NeedMore) << n;
  HeadResult r = p.parse(msg);
  ASSERT_EQ(r.state, ParseState::Done);
  EXPECT_EQ(r.head_length, msg.size());
  // Done is sticky until reset().
  EXPECT_EQ(p.parse(msg).state, ParseState::Done);
}

TEST(HttpParser, EverySplitSameResult) {
  for (const char* msg : {
           "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
           "\r\nPOST /a HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
           "GET / HTTP/1.1\nHost: x\n\n",
       }) {
    auto o = feed_all_ways(msg);
    EXPECT_EQ(o.state, ParseState::Done) << msg;
  }
}

TEST(HttpParser, PipelinedRequests) {
  std::string wire =
      "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
      "POST /3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
      "GET /4 HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<std::string> targets;
  std::vector<std::string> bodies;
  HeadParser p(Side::Request);
  BodyDecoder d;
  std::string_view rest = wire;
  while (!rest.empty()) {
    p.reset();
    HeadResult r = p.parse(rest);
    ASSERT_EQ(r.state, ParseState::Done);
    targets.emplace_back(p.view(rest).target());
    d.start(p.head());
    rest.remove_prefix(r.head_length);
    std::string body;
    while (true) {
      BodyEvent ev = d.decode(rest);
      if (ev.kind == BodyEvent::Data) body.append(rest.substr(ev.data_off, ev.data_len));
      rest.remove_prefix(ev.consumed);
      ASSERT_NE(ev.kind, BodyEvent::Error);
      ASSERT_NE(ev.kind, BodyEvent::NeedMore);
      if (ev.kind == BodyEvent::Done) break;
    }
    bodies.push_back(body);
  }
  EXPECT_EQ(targets, (std::vector<std::string>{"/1", "/2", "/3", "/4"}));
  EXPECT_EQ(bodies, (std::vector<std::string>{"", "body", "hi", ""}));
}

TEST(HttpParser, PipelinedNextHeadIsNotPartOfBody) {
  auto o = feed_all_ways("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(o.state, ParseState::Done);
  EXPECT_EQ(o.body, "ok");
  EXPECT_EQ(o.end, 40u);
}

TEST(HttpParser, ResetKeepsFieldStorage) {
  HeadParser p(Side::Request);
  std::string a = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
  ASSERT_EQ(p.parse(a).state, ParseState::Done);
  const Field* storage = p.head().fields.data();
  p.reset();
  ASSERT_EQ(p.parse(a).state, ParseState::Done);
  EXPECT_EQ(p.head().fields.data(), storage);  // no reallocation per message
  EXPECT_EQ(p.head().fields.capacity(), Limits{}.max_headers);
}

TEST(HttpParser, HundredHeadersAcceptedLikeHaproxy) {
  std::string msg = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 100; ++i) msg += "X" + std::to_string(i) + ": a\r\n";
  Parsed ok(msg + "\r\n");
  EXPECT_EQ(ok.result.state, ParseState::Done);
  EXPECT_EQ(ok.view().size(), 100u);
}

// ---- responses -------------------------------------------------------------

TEST(HttpResponse, StatusLine) {
  Parsed p("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", Side::Response);
  ASSERT_EQ(p.result.state, ParseState::Done);
  EXPECT_EQ(p.head().status, 404);
  EXPECT_EQ(p.view().reason(), "Not Found");
  Parsed q("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", Side::Response);  // no reason, no SP
  ASSERT_EQ(q.result.state, ParseState::Done);
  EXPECT_EQ(q.view().reason(), "");
  Parsed r("HTTP/1.0 200 \r\n\r\n", Side::Response);  // empty reason
  ASSERT_EQ(r.result.state, ParseState::Done);
}

TEST(HttpResponse, BodylessStatuses) {
  for (int status : {204, 304}) {
    std::string msg = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 10\r\n\r\n";
    auto o = feed_all_ways(msg, Side::Response);
    EXPECT_EQ(o.state, ParseState::Done);
    EXPECT_EQ(o.framing, Framing::None);
    EXPECT_EQ(o.body, "");
    EXPECT_EQ(o.end, msg.size());
  }
}

TEST(HttpResponse, HeadResponseHasNoBody) {
  std::string msg = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
  auto o = feed_all_ways(msg, Side::Response, Method::Head);
  EXPECT_EQ(o.state, ParseState::Done);
  EXPECT_EQ(o.framing, Framing::None);
  EXPECT_EQ(o.end, msg.size());
  auto chunked = feed_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                               Side::Response, Method::Head);
  EXPECT_EQ(chunked.state, ParseState::Done);
}

TEST(HttpResponse, InformationalThenFinal) {
  std::string wire =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  HeadParser p(Side::Response);
  std::string_view rest = wire;
  int informational = 0;
  while (true) {
    p.reset();
    HeadResult r = p.parse(rest);
    ASSERT_EQ(r.state, ParseState::Done);
    if (!p.head().has(flag::kInformational)) break;
    EXPECT_EQ(p.head().framing, Framing::None);
    ++informational;
    rest.remove_prefix(r.head_length);
  }
  EXPECT_EQ(informational, 2);
  EXPECT_EQ(p.head().status, 200);
  EXPECT_EQ(p.head().framing, Framing::ContentLength);
}

TEST(HttpResponse, CloseDelimited) {
  std::string msg = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until close";
  auto open = test::feed_whole(msg, Side::Response);
  EXPECT_EQ(open.state, ParseState::NeedMore);  // still reading
  auto o = feed_all_ways(msg, Side::Response, Method::Get, /*eof=*/true);
  EXPECT_EQ(o.state, ParseState::Done);
  EXPECT_EQ(o.framing, Framing::CloseDelimited);
  EXPECT_EQ(o.body, "all of this until close");
  HeadParser p(Side::Response);
  ASSERT_EQ(p.parse(msg).state, ParseState::Done);
  EXPECT_TRUE(p.head().has(flag::kMustClose));
  EXPECT_FALSE(p.head().keep_alive());
}

TEST(HttpResponse, NonChunkedTransferCodingIsCloseDelimited) {
  Parsed p("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", Side::Response);
  ASSERT_EQ(p.result.state, ParseState::Done);
  EXPECT_EQ(p.head().framing, Framing::CloseDelimited);
  Parsed q("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Side::Response);
  EXPECT_EQ(q.head().framing, Framing::Chunked);
}

TEST(HttpResponse, ConnectSuccessIsTunnel) {
  Parsed p("HTTP/1.1 200 Connection established\r\n\r\n", Side::Response, Method::Connect);
  ASSERT_EQ(p.result.state, ParseState::Done);
  EXPECT_EQ(p.head().framing, Framing::Tunnel);
  Parsed q("HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\n", Side::Response, Method::Connect);
  EXPECT_EQ(q.head().framing, Framing::ContentLength);
}

TEST(HttpResponse, ChunkedResponseSplits) {
  auto o = feed_all_ways(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
      Side::Response);
  EXPECT_EQ(o.state, ParseState::Done);
  EXPECT_EQ(o.body, "Wikipedia");
}

TEST(HttpResponse, ErrorsAre502) {
  auto o = test::feed_whole("HTTP/1.1 200 OK\r\nX : y\r\n\r\n", Side::Response);
  EXPECT_EQ(o.error, ParseError::SpaceBeforeColon);
  EXPECT_EQ(o.status, 502);
  auto g = test::feed_whole("garbage\r\n\r\n", Side::Response);
  EXPECT_EQ(g.error, ParseError::BadStatusLine);
  EXPECT_EQ(g.status, 502);
}

}  // namespace
}  // namespace sluice::http
