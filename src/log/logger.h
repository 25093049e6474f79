#pragma once
// Log targets (syslog over UDP or a UNIX datagram socket, stdout, stderr) and
// HAProxy-compatible line formats. Sending never blocks a worker: UDP and
// datagram sends are non-blocking and a full socket drops the line (counted).

#include <sys/time.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace sluice::log {

enum class Level { Emerg = 0, Alert, Crit, Err, Warning, Notice, Info, Debug };

class Logger {
 public:
  Logger();
  // `hostname` goes into rfc3164 and rfc5424 headers (global
  // log-send-hostname); empty leaves it out of rfc3164, as HAProxy's default
  // "local" format does, and writes "-" in rfc5424. Sockets that cannot be
  // created leave their target dropping every line (counted).
  Logger(std::vector<config::LogTarget> targets, std::string tag, std::string hostname = {});
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;
  Logger(Logger&&) noexcept;
  Logger& operator=(Logger&&) noexcept;

  // Send one line (no trailing newline) to every target whose max level
  // admits `level`. As in HAProxy, a level more severe than a target's min
  // level is sent as that min level (capped, not dropped). Thread-safe; one
  // sendto()/write() per target, no allocation.
  void send(Level level, std::string_view line) const;
  // Would any target take a line at `level`? (Skip formatting when not.)
  bool wants(Level level) const;
  bool empty() const { return targets_.empty(); }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Target;
  std::vector<Target*> targets_;  // views of owned_, in configuration order
  std::vector<std::unique_ptr<Target>> owned_;
  std::string tag_;
  std::string hostname_;
  mutable std::atomic<std::uint64_t> dropped_{0};
};

// The fields of HAProxy's `option tcplog` line:
//   %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
struct TcpLogFields {
  std::string client_addr;  // without port
  std::uint16_t client_port = 0;
  timeval accept_time{};
  std::string_view frontend;
  std::string_view backend;  // "<NOSRV>" rules apply to server, not backend
  std::string_view server;  // "<NOSRV>" when none was reached
  std::int64_t tw = -1;  // ms in queue, -1 if never queued to the end
  std::int64_t tc = -1;  // ms to connect, -1 if never connected
  std::int64_t tt = 0;  // total session ms
  std::uint64_t bytes_read = 0;  // bytes sent to the client
  char termination[2] = {'-', '-'};  // session state at disconnection
  unsigned actconn = 0, feconn = 0, beconn = 0, srv_conn = 0, retries = 0;
  bool redispatched = false;  // retries printed as "+N"
  unsigned srv_queue = 0, backend_queue = 0;
};

std::string format_tcplog(const TcpLogFields& f);
// The same into a caller's buffer (no allocation): returns the length the
// line has (it is cut at `cap` bytes when that is larger; no NUL added).
std::size_t format_tcplog(const TcpLogFields& f, char* out, std::size_t cap);

// HAProxy's date format inside brackets, local time: 23/Nov/2026:08:36:03.123
std::string format_accept_date(const timeval& tv);
// Into a buffer of at least kAcceptDateLen bytes; returns the length.
constexpr std::size_t kAcceptDateLen = 24;
std::size_t format_accept_date(const timeval& tv, char* out);

// "emerg" .. "debug"
std::string_view level_name(Level level);

}  // namespace sluice::log
