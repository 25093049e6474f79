#pragma once
// Plain types of the HTTP/1.1 codec: enums, error codes, parsed-head layout.
// Light on purpose (like HAProxy's *-t.h headers): anything may include it.

#include <cstdint>
#include <string_view>

namespace sluice::http {

enum class Side : std::uint8_t { Request, Response };

// What the parser (or body decoder) returns: keep feeding, finished, or failed.
enum class ParseState : std::uint8_t { NeedMore, Done, Error };

// Why a message was rejected. Each code has one status for the client (request
// side) and maps to 502 on the response side; see status_for() / describe().
enum class ParseError : std::uint8_t {
  None,
  BadMethod,            // non-tchar in the method
  BadRequestLine,       // separators, missing parts, HTTP/0.9 (no version)
  BadTarget,            // CTL, 8-bit, '#', or a form the method does not allow
  BadVersion,           // not HTTP/DIGIT.DIGIT, or major 0
  VersionNotSupported,  // HTTP/2.0+ in an HTTP/1 start line (505)
  StartLineTooLong,     // no end of start line within the head limit (414)
  HeadTooLarge,         // no end of head within the head limit (431)
  TooManyHeaders,       // more fields than Limits::max_headers (431)
  BadHeaderName,        // empty name, non-tchar, missing colon
  SpaceBeforeColon,     // "Name : value"
  ObsFold,              // continuation line (obs-fold)
  BadHeaderValue,       // NUL, bare CR, other CTL (except HTAB) in a value
  BareCR,               // CR not followed by LF in a line ending
  BareLF,               // LF without CR where CRLF is required (chunk framing)
  DuplicateHost,        // more than one Host field
  BadContentLength,     // not 1*DIGIT (list), or overflow
  ConflictingContentLength,  // several Content-Length values that differ
  ContentLengthWithTransferEncoding,  // CL and TE together (strict mode)
  BadTransferEncoding,  // chunked not last, chunked twice, params on chunked, empty
  UnsupportedTransferCoding,  // a coding other than chunked before chunked (501)
  TransferEncodingInHttp10,   // TE in an HTTP/1.0 message: faulty framing
  WebSocketWithoutKey,  // Connection: upgrade + Upgrade: websocket, no Sec-WebSocket-Key
  BadStatusLine,        // response: not "HTTP/x.y SP 3DIGIT [SP reason]"
  BadChunkSize,         // empty, non-hex, negative chunk size
  ChunkSizeOverflow,    // chunk size >= 2^60
  BadChunkExtension,    // CTL in a chunk extension
  ChunkLineTooLong,     // chunk-size line longer than Limits::max_chunk_line
  BadChunkEnd,          // chunk data not followed by CRLF
  BadTrailer,           // a trailer field breaks the header rules
  TrailersTooLarge,     // trailer section larger than the head limit
  Truncated,            // connection closed before the body ended
};

struct ParseFailure {
  ParseError code = ParseError::None;
  std::uint16_t status = 0;  // what to answer the client (400, 414, 431, 501, 505; 502 for responses)
};

enum class Method : std::uint8_t {
  Other, Get, Head, Post, Put, Delete, Connect, Options, Trace, Patch,
};

enum class TargetForm : std::uint8_t { None, Origin, Absolute, Authority, Asterisk };

// How the body after the head is delimited (RFC 9112 section 6).
enum class Framing : std::uint8_t {
  None,           // no body (GET without CL/TE, 1xx/204/304, HEAD response)
  ContentLength,  // exactly content_length bytes
  Chunked,        // chunked transfer coding last
  CloseDelimited, // response body ends when the server closes
  Tunnel,         // 101 Switching Protocols, 2xx to CONNECT: bytes both ways after the head
};

// Per-message facts computed while parsing (bit flags in Head::flags).
namespace flag {
inline constexpr std::uint32_t kConnClose = 1u << 0;       // Connection: close
inline constexpr std::uint32_t kConnKeepAlive = 1u << 1;   // Connection: keep-alive
inline constexpr std::uint32_t kConnUpgrade = 1u << 2;     // Connection: upgrade
inline constexpr std::uint32_t kUpgrade = 1u << 3;         // Upgrade field present
inline constexpr std::uint32_t kUpgradeWebSocket = 1u << 4;  // Upgrade lists websocket
inline constexpr std::uint32_t kWebSocketKey = 1u << 5;    // Sec-WebSocket-Key present
inline constexpr std::uint32_t kExpectContinue = 1u << 6;  // Expect: 100-continue (HTTP/1.1)
inline constexpr std::uint32_t kHasContentLength = 1u << 7;
inline constexpr std::uint32_t kHasTransferEncoding = 1u << 8;
inline constexpr std::uint32_t kHasHost = 1u << 9;
inline constexpr std::uint32_t kInformational = 1u << 10;  // 1xx response: another head follows
// The connection must close after this message (framing was repaired, or the
// body is close-delimited): never reuse it for another message.
inline constexpr std::uint32_t kMustClose = 1u << 11;
}  // namespace flag

// One header field as offsets from the start of the message in the caller's
// buffer, so they survive the buffer growing or moving.
struct Field {
  std::uint32_t name_off = 0;
  std::uint32_t value_off = 0;
  std::uint32_t value_len = 0;
  std::uint16_t name_len = 0;
};

struct Slice {
  std::uint32_t off = 0;
  std::uint32_t len = 0;
};

// Parser limits; defaults follow HAProxy's (tune.bufsize 16384 - tune.maxrewrite
// 1024; tune.http.maxhdr 101, of which haproxy 2.6 accepts 100 fields).
struct Limits {
  std::uint32_t max_head = 16384 - 1024;
  std::uint16_t max_headers = 100;
  std::uint16_t max_chunk_line = 4096;  // chunk-size line including extensions
  // Strict by default: a request (or response) with both Content-Length and
  // Transfer-Encoding is rejected. When false, Content-Length is ignored, the
  // body is chunked and the message gets kMustClose (what haproxy 2.6 does).
  bool reject_cl_with_te = true;
  // Accept a bare LF as the end of a start line or header line (RFC 9112
  // section 2.2 allows it; haproxy 2.6 accepts it). Chunk framing always needs CRLF.
  bool allow_bare_lf = true;
};

}  // namespace sluice::http
