#pragma once
// Log-format expressions (`log-format`, and rule values such as
// `http-request set-header X %[src]`): compiled once at configuration load
// into a list of pieces (literal text, `%var` variables, `%[fetch,conv]`
// sample expressions), evaluated per transaction into a bounded buffer
// without allocating.
//
//   auto lf = LogFormat::compile("%ci:%cp %[req.hdr(host),lower]", &binder);
//   ... per request: lf->write(ctx, line)  (line: log::Line over a fixed buffer)
//
// Sample fetches are bound through a FetchBinder so this module needs no
// fetch registry: the configuration loader binds with a validating binder,
// the runtime with one over acl's fetch table.

#include <sys/socket.h>
#include <sys/time.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "acl/sample.h"
#include "log/httplog.h"
#include "log/line.h"
#include "util/result.h"

namespace sluice::log {

// A bound sample fetch: fills a sample from a source; false: no sample.
class FetchCall {
 public:
  virtual ~FetchCall() = default;
  virtual bool fetch(const acl::SampleSource& src, acl::Sample& out) const = 0;
};

class FetchBinder {
 public:
  virtual ~FetchBinder() = default;
  // nullptr with no error is allowed (validation only: the piece prints "-").
  virtual Result<std::shared_ptr<const FetchCall>> bind(std::string_view name,
                                                         const std::vector<std::string>& args) = 0;
};

// Everything a log line or a rule value can print. `http` carries the
// httplog fields; the rest are the extra variables of custom formats.
struct LogContext {
  const HttpLogFields* http = nullptr;
  const acl::SampleSource* samples = nullptr;
  std::string_view frontend_addr;  // %fi
  std::uint16_t frontend_port = 0;  // %fp
  std::string_view server_addr;  // %si; empty: no server ("-", and "-" for %sp)
  std::uint16_t server_port = 0;  // %sp
  timeval accept_time{};  // %t, %ms, %Ts (request time when not set)
  std::int64_t idle = -1;  // %Ti
  std::uint64_t bytes_uploaded = 0;  // %U
  std::uint64_t request_counter = 0;  // %rt
  std::string_view hostname;  // %H
  std::string_view unique_id;  // %ID
  std::string_view req_captures;  // %hr as written, e.g. "{a|b}"; empty: none
  std::string_view res_captures;  // %hs
  // Rule values (set-header...) print nothing for a missing sample; log
  // lines print "-".
  bool absent_is_empty = false;
  // A `mode tcp` session: %Td is the time after the connection was set up.
  bool tcp = false;
};

class LogFormat {
 public:
  LogFormat() = default;
  // `binder` may be null: then any %[...] is an error.
  static Result<LogFormat> compile(std::string_view text, FetchBinder* binder);

  // Appends the evaluated format to `out` (bounded, counts past the end).
  void write(const LogContext& ctx, Line& out) const;
  bool empty() const { return pieces_.empty(); }
  // True when the text had no '%' at all: the value is a constant.
  bool is_literal() const;
  std::string_view literal() const;
  // The first variable that only HTTP transactions have (%r, %HM, %TR, ...),
  // without its '%'; empty when the format suits `mode tcp` sessions too.
  std::string_view http_only_variable() const;

  struct Converter {
    enum class Kind : std::uint8_t { Lower, Upper, Hex, Base64, Json };
    Kind kind;
  };
  struct Piece {
    enum class Kind : std::uint8_t { Text, Var, Fetch };
    Kind kind = Kind::Text;
    std::uint8_t var = 0;  // Var: index in the variable table
    bool quote = false;  // +Q
    bool hex = false;  // +X
    bool escape = false;  // +E
    std::string text;  // Text
    std::shared_ptr<const FetchCall> fetch;
    std::vector<Converter> converters;
  };
  const std::vector<Piece>& pieces() const { return pieces_; }

 private:
  std::vector<Piece> pieces_;
};

// A `mode tcp` session's line in a custom format (log/tcp_custom.cpp): the
// tcplog fields plus what only custom formats print. Returns the full
// length (the line is cut at `cap`), like format_tcplog().
struct TcpLogFields;
struct TcpLogExtras {
  const sockaddr_storage* frontend = nullptr;  // %fi:%fp; null: "-"
  const sockaddr_storage* server = nullptr;    // %si:%sp; null: no server
  std::uint64_t bytes_uploaded = 0;            // %U
  std::uint64_t stream_id = 0;                 // %rt
  const acl::SampleSource* samples = nullptr;  // %[fetch]
};
// %rt: a process-wide count of TCP sessions and HTTP requests from 0, as
// HAProxy numbers its streams. Only those whose frontend has a log-format
// take a number.
std::uint64_t next_stream_id();
// %fi/%si and %fp/%sp: an IPv4/IPv6 address as text into `out` (at least
// INET6_ADDRSTRLEN bytes) and its port; null or another family: `out` empty.
void address_and_port(const sockaddr_storage* a, char* out, std::uint16_t& port);
// %H: this host's name, read once.
const std::string& log_host_name();
std::size_t format_tcp_custom(const LogFormat& lf, const TcpLogFields& f, const TcpLogExtras& x,
                              char* out, std::size_t cap);

// The variable names this module knows, for messages and docs.
std::vector<std::string_view> logformat_variables();

// HAProxy's encoding of captured header values in %hr/%hs: '"', '#', '{',
// '|', '}' and control bytes become #XX.
void encode_capture(Line& out, std::string_view value);

}  // namespace sluice::log
