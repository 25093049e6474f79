#pragma once
// Log targets (syslog over UDP or a UNIX datagram socket, stdout, stderr) and
// HAProxy-compatible line formats. Sending never blocks a worker: UDP and
// datagram sends are non-blocking and a full socket drops the line (counted).

#include <sys/time.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace sluice::log {

enum class Level { Emerg = 0, Alert, Crit, Err, Warning, Notice, Info, Debug };

class Logger {
 public:
  Logger() = default;
  Logger(std::vector<config::LogTarget> targets, std::string tag);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;
  Logger(Logger&&) noexcept;
  Logger& operator=(Logger&&) noexcept;

  // Send one line (no trailing newline) to every target whose level range
  // admits `level`. Thread-safe.
  void send(Level level, std::string_view line) const;
  bool empty() const { return targets_.empty(); }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Target;
  std::vector<Target*> targets_;
  std::string tag_;
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

// HAProxy's date format inside brackets: 23/Nov/2026:08:36:03.123
std::string format_accept_date(const timeval& tv);

}  // namespace sluice::log
