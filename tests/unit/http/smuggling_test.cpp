// Malformed and smuggling-prone requests: each vector is named, asserts our
// exact error and status at every split point, and records what Debian's
// haproxy 2.6 answered for the same bytes (checked by hand against the real
// binary, `mode http`, default tune.bufsize; see the module report). Where we
// differ, the strict answer is deliberate.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "harness.h"

namespace sluice::http {
namespace {

struct Vector {
  const char* name;
  std::string raw;
  ParseError error;
  std::uint16_t status;
  std::uint16_t haproxy26;  // what haproxy 2.6 answered (200: it accepted and forwarded)
};

std::string big(std::size_t n, char c = 'a') { return std::string(n, c); }

std::vector<Vector> vectors() {
  const std::string post = "POST / HTTP/1.1\r\nHost: x\r\n";
  const std::string chunked = post + "Transfer-Encoding: chunked\r\n\r\n";
  return {
      // Framing conflicts.
      {"CL.TE: Content-Length and Transfer-Encoding together",
       post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       ParseError::ContentLengthWithTransferEncoding, 400, 200 /* drops CL, closes */},
      {"TE.CL: Transfer-Encoding then Content-Length",
       post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
       ParseError::ContentLengthWithTransferEncoding, 400, 200},
      {"TE.TE: Transfer-Encoding: xchunked", post + "Transfer-Encoding: xchunked\r\n\r\n",
       ParseError::BadTransferEncoding, 400, 400},
      {"Transfer-Encoding: chunked, identity",
       post + "Transfer-Encoding: chunked, identity\r\n\r\n", ParseError::BadTransferEncoding,
       400, 400},
      {"chunked not last: Transfer-Encoding: chunked, gzip",
       post + "Transfer-Encoding: chunked, gzip\r\n\r\n", ParseError::BadTransferEncoding, 400,
       400},
      {"Transfer-Encoding: identity", post + "Transfer-Encoding: identity\r\n\r\n",
       ParseError::BadTransferEncoding, 400, 400},
      {"Transfer-Encoding: gzip (no chunked)", post + "Transfer-Encoding: gzip\r\n\r\n",
       ParseError::BadTransferEncoding, 400, 400},
      {"unknown coding before chunked: gzip, chunked",
       post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
       ParseError::UnsupportedTransferCoding, 501, 422},
      {"chunked applied twice", post + "Transfer-Encoding: chunked, chunked\r\n\r\n",
       ParseError::BadTransferEncoding, 400, 400},
      {"chunked twice in two fields",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       ParseError::BadTransferEncoding, 400, 400},
      {"chunked with a parameter", post + "Transfer-Encoding: chunked;x=1\r\n\r\n",
       ParseError::BadTransferEncoding, 400, 400},
      {"empty Transfer-Encoding", post + "Transfer-Encoding: \r\n\r\n",
       ParseError::BadTransferEncoding, 400, 400},
      {"Transfer-Encoding in HTTP/1.0",
       "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       ParseError::TransferEncodingInHttp10, 400, 200 /* closes after */},
      {"duplicate differing Content-Length",
       post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
       ParseError::ConflictingContentLength, 400, 400},
      {"Content-Length list with differing values", post + "Content-Length: 5, 6\r\n\r\n",
       ParseError::ConflictingContentLength, 400, 400},
      {"Content-Length: +5", post + "Content-Length: +5\r\n\r\nhello",
       ParseError::BadContentLength, 400, 400},
      {"Content-Length: -5", post + "Content-Length: -5\r\n\r\n", ParseError::BadContentLength,
       400, 400},
      {"Content-Length: 5x", post + "Content-Length: 5x\r\n\r\n", ParseError::BadContentLength,
       400, 400},
      {"Content-Length: 0x5", post + "Content-Length: 0x5\r\n\r\n", ParseError::BadContentLength,
       400, 400},
      {"Content-Length: 5 5", post + "Content-Length: 5 5\r\n\r\n", ParseError::BadContentLength,
       400, 400},
      {"Content-Length empty", post + "Content-Length: \r\n\r\n", ParseError::BadContentLength,
       400, 400},
      {"Content-Length trailing comma", post + "Content-Length: 5,\r\n\r\n",
       ParseError::BadContentLength, 400, 400},
      {"Content-Length overflow", post + "Content-Length: 99999999999999999999999\r\n\r\n",
       ParseError::BadContentLength, 400, 400},
      // Chunked body.
      {"chunk size overflow 0xFFFFFFFFFFFFFFFFF", chunked + "FFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n",
       ParseError::ChunkSizeOverflow, 400, 400},
      {"chunk size 2^64-1", chunked + "FFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n",
       ParseError::ChunkSizeOverflow, 400, 400},
      {"invalid chunk size 'g'", chunked + "g\r\nhello\r\n0\r\n\r\n", ParseError::BadChunkSize,
       400, 400},
      {"empty chunk size", chunked + "\r\nhello\r\n0\r\n\r\n", ParseError::BadChunkSize, 400,
       400},
      {"chunk size 0x5", chunked + "0x5\r\nhello\r\n0\r\n\r\n", ParseError::BadChunkSize, 400,
       400},
      {"negative chunk size", chunked + "-5\r\nhello\r\n0\r\n\r\n", ParseError::BadChunkSize,
       400, 400},
      {"chunk data longer than its size", chunked + "5\r\nhelloX\r\n0\r\n\r\n",
       ParseError::BadChunkEnd, 400, 400},
      {"chunk framing with LF only", chunked + "5\nhello\n0\n\n", ParseError::BareLF, 400,
       200 /* accepted */},
      {"chunk data ended by LF only", chunked + "5\r\nhello\n0\r\n\r\n", ParseError::BadChunkEnd,
       400, 200},
      {"CTL in chunk extension", chunked + "5;a\x01" "b\r\nhello\r\n0\r\n\r\n",
       ParseError::BadChunkExtension, 400, 400},
      {"trailer with space before colon", chunked + "5\r\nhello\r\n0\r\nX-T : 1\r\n\r\n",
       ParseError::BadTrailer, 400, 200},
      {"trailer with NUL", chunked + "0\r\nX-T: a" + std::string(1, '\0') + "\r\n\r\n",
       ParseError::BadTrailer, 400, 200},
      // Field lines.
      {"space before colon", "GET / HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n",
       ParseError::SpaceBeforeColon, 400, 400},
      {"tab before colon", "GET / HTTP/1.1\r\nHost: x\r\nX-A\t: b\r\n\r\n",
       ParseError::SpaceBeforeColon, 400, 400},
      {"Transfer-Encoding with space before colon",
       post + "Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello",
       ParseError::SpaceBeforeColon, 400, 400},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", ParseError::ObsFold, 400,
       200 /* unfolds */},
      {"obs-fold with tab", "GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\tc\r\n\r\n",
       ParseError::ObsFold, 400, 200},
      {"whitespace before the first field", "GET / HTTP/1.1\r\n Host: x\r\n\r\n",
       ParseError::ObsFold, 400, 400},
      {"NUL in header value",
       "GET / HTTP/1.1\r\nHost: x\r\nX: a" + std::string(1, '\0') + "b\r\n\r\n",
       ParseError::BadHeaderValue, 400, 200 /* forwarded the NUL */},
      {"CTL 0x01 in header value", "GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n",
       ParseError::BadHeaderValue, 400, 200},
      {"DEL in header value", "GET / HTTP/1.1\r\nX: a\x7f" "b\r\n\r\n", ParseError::BadHeaderValue,
       400, 200},
      {"bare CR in header value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
       ParseError::BareCR, 400, 400},
      {"bare CR ending the request line", "GET / HTTP/1.1\rHost: x\r\n\r\n",
       ParseError::BadVersion, 400, 400},
      {"empty header name", "GET / HTTP/1.1\r\nHost: x\r\n: b\r\n\r\n",
       ParseError::BadHeaderName, 400, 400},
      {"header line without colon", "GET / HTTP/1.1\r\nHost: x\r\nfoo\r\n\r\n",
       ParseError::BadHeaderName, 400, 400},
      {"invalid char in header name", "GET / HTTP/1.1\r\nX(A: b\r\n\r\n",
       ParseError::BadHeaderName, 400, 400},
      {"space inside header name", "GET / HTTP/1.1\r\nHo st: x\r\n\r\n",
       ParseError::SpaceBeforeColon, 400, 400},
      {"two Host fields", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
       ParseError::DuplicateHost, 400, 400},
      {"WebSocket upgrade without Sec-WebSocket-Key",
       "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
       ParseError::WebSocketWithoutKey, 400, 400},
      // Request line.
      {"HTTP/0.9 request", "GET /\r\n\r\n", ParseError::BadRequestLine, 400, 400},
      {"HTTP/0.9 version", "GET / HTTP/0.9\r\n\r\n", ParseError::BadVersion, 400, 200},
      {"HTTP/2.0 in an HTTP/1 request line", "GET / HTTP/2.0\r\n\r\n",
       ParseError::VersionNotSupported, 505, 200 /* downgraded to 1.1 */},
      {"HTTP/1.10", "GET / HTTP/1.10\r\n\r\n", ParseError::BadVersion, 400, 400},
      {"lowercase http/1.1", "GET / http/1.1\r\n\r\n", ParseError::BadVersion, 400, 400},
      {"XTTP/1.1", "GET / XTTP/1.1\r\n\r\n", ParseError::BadVersion, 400, 400},
      {"invalid method char", "G@T / HTTP/1.1\r\n\r\n", ParseError::BadMethod, 400, 400},
      {"TLS hello on a clear port", std::string("\x16\x03\x01\x00\xa5\x01\x00", 7),
       ParseError::BadMethod, 400, 400},
      {"leading space before method", " GET / HTTP/1.1\r\n\r\n", ParseError::BadMethod, 400, 400},
      {"two spaces after method", "GET  / HTTP/1.1\r\n\r\n", ParseError::BadRequestLine, 400,
       200 /* tolerated */},
      {"two spaces before version", "GET /  HTTP/1.1\r\n\r\n", ParseError::BadRequestLine, 400,
       200},
      {"tab as separator", "GET\t/ HTTP/1.1\r\n\r\n", ParseError::BadMethod, 400, 200},
      {"trailing space after version", "GET / HTTP/1.1 \r\n\r\n", ParseError::BadVersion, 400,
       400},
      {"missing version after space", "GET / \r\n\r\n", ParseError::BadVersion, 400, 400},
      {"CTL in target", "GET /a\x01" "b HTTP/1.1\r\n\r\n", ParseError::BadTarget, 400, 400},
      {"8-bit byte in target", "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", ParseError::BadTarget, 400,
       400},
      {"fragment in target", "GET /a#b HTTP/1.1\r\n\r\n", ParseError::BadTarget, 400, 400},
      {"DEL in target", "GET /a\x7f" "b HTTP/1.1\r\n\r\n", ParseError::BadTarget, 400, 200},
      {"asterisk-form with GET", "GET * HTTP/1.1\r\n\r\n", ParseError::BadTarget, 400, 200},
      {"target neither origin nor absolute", "GET foo HTTP/1.1\r\n\r\n", ParseError::BadTarget,
       400, 400},
      {"CONNECT with origin-form", "CONNECT /x HTTP/1.1\r\n\r\n", ParseError::BadTarget, 400,
       400},
      {"absolute-form with junk scheme", "GET 1http://x/ HTTP/1.1\r\n\r\n", ParseError::BadTarget,
       400, 400},
      {"bare CR among leading empty lines", "\rGET / HTTP/1.1\r\n\r\n", ParseError::BareCR, 400,
       400},
      // Sizes (haproxy 2.6 answers 400 to all of them; we give the specific codes).
      {"request line too long", "GET /" + big(16000) + " HTTP/1.1\r\n\r\n",
       ParseError::StartLineTooLong, 414, 400},
      {"header too large", "GET / HTTP/1.1\r\nX: " + big(16000) + "\r\n\r\n",
       ParseError::HeadTooLarge, 431, 400},
      {"header section just over the limit", "GET / HTTP/1.1\r\nX: " + big(15340) + "\r\n\r\n",
       ParseError::HeadTooLarge, 431, 400},
      {"101 header fields", [] {
         std::string s = "GET / HTTP/1.1\r\n";
         for (int i = 0; i < 101; ++i) s += "X" + std::to_string(i) + ": a\r\n";
         return s + "\r\n";
       }(),
       ParseError::TooManyHeaders, 431, 400},
  };
}

TEST(HttpSmuggling, EveryVectorRejectedWithItsStatus) {
  for (const Vector& v : vectors()) {
    SCOPED_TRACE(v.name);
    // Sizes are checked at a few splits only: every split of 16 kB is slow.
    test::Outcome o = v.raw.size() > 4096
                          ? test::feed(v.raw, Side::Request, {1, 100, 4096, 15359, 15360, 15361})
                          : test::feed_all_ways(v.raw);
    EXPECT_EQ(o.state, ParseState::Error);
    EXPECT_EQ(describe(o.error), describe(v.error));
    EXPECT_EQ(o.status, v.status);
    if (v.raw.size() > 4096) {
      EXPECT_EQ(test::feed_whole(v.raw), o);
    }
  }
}

TEST(HttpSmuggling, VectorNamesAreUnique) {
  std::set<std::string> names;
  for (const Vector& v : vectors()) EXPECT_TRUE(names.insert(v.name).second) << v.name;
}

TEST(HttpSmuggling, AcceptedLikeHaproxy) {
  // Inputs haproxy 2.6 accepts and so do we.
  for (const char* raw : {
           "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
           "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello",
           "POST / HTTP/1.1\r\nContent-Length: 005\r\n\r\nhello",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 ;a=b\r\nhello\r\n0;x\r\n\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0000005\r\nhello\r\n0\r\n\r\n",
           "GET / HTTP/1.1\r\n\r\n",  // no Host: haproxy forwards it, so do we (kHasHost unset)
           "GET /a\"b HTTP/1.1\r\n\r\n",
           "\nGET / HTTP/1.1\r\n\r\n",
       }) {
    SCOPED_TRACE(raw);
    EXPECT_EQ(test::feed_all_ways(raw).state, ParseState::Done);
  }
}

TEST(HttpSmuggling, TruncatedBodies) {
  auto cl = test::feed_whole("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort", Side::Request,
                             Method::Get, /*eof=*/true);
  EXPECT_EQ(cl.error, ParseError::Truncated);
  EXPECT_EQ(cl.status, 400);
  auto ch = test::feed_whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
                             Side::Response, Method::Get, /*eof=*/true);
  EXPECT_EQ(ch.error, ParseError::Truncated);
  EXPECT_EQ(ch.status, 502);
}

TEST(HttpSmuggling, ChunkLineTooLong) {
  std::string raw = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;" + big(5000) +
                    "\r\nhello\r\n0\r\n\r\n";
  auto o = test::feed(raw, Side::Request, {60, 100, 4000, 4100});
  EXPECT_EQ(o.error, ParseError::ChunkLineTooLong);
  EXPECT_EQ(test::feed_whole(raw), o);
}

TEST(HttpSmuggling, TrailersTooLarge) {
  std::string raw = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + big(16000) +
                    "\r\n\r\n";
  auto o = test::feed(raw, Side::Request, {60, 100, 15000, 15500});
  EXPECT_EQ(o.error, ParseError::TrailersTooLarge);
  EXPECT_EQ(o.status, 431);
  EXPECT_EQ(test::feed_whole(raw), o);
}

}  // namespace
}  // namespace sluice::http
