#pragma once
// Graphite push (global `graphite ...`, config::GraphiteDef): at each
// interval a stats Snapshot becomes carbon plaintext lines
// "<prefix>.<proxy>.<svname>.<metric> <value> <unix-time>\n", sent over TCP
// from one worker loop. While carbon is away the lines wait in a bounded
// buffer (oldest dropped and counted); reconnects back off exponentially.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "core/loop.h"
#include "log/logger.h"
#include "stats/snapshot.h"

namespace sluice::stats {

// A path component: every byte outside [A-Za-z0-9_-] becomes '_' (carbon
// splits on '.', and spaces end the path).
std::string graphite_sanitize(std::string_view s);

// The prefix with "<host>" replaced by the host name, its dots as '_'.
std::string graphite_prefix(std::string_view prefix, std::string_view hostname);

// The columns pushed: `names` as written (empty: every numeric column, and
// status). Unknown names are returned in `unknown`.
std::vector<std::size_t> graphite_columns(const std::vector<std::string>& names,
                                          std::vector<std::string>& unknown);

// status as a number: 1 up (UP, UP n/m, OPEN, no check), 0 otherwise.
int graphite_status_value(std::string_view status);

// The lines for one snapshot, appended to `out` one line per element.
// Empty values are skipped; check_duration is in ms, as in the CSV.
void graphite_lines(const std::vector<Row>& rows, std::string_view prefix,
                    const std::vector<std::size_t>& cols, std::int64_t unix_time,
                    std::vector<std::string>& out);

// Lines waiting for carbon, at most `max_lines`; the oldest beyond it are
// dropped and counted. The front line may be partly sent (`sent` bytes).
class LineBuffer {
 public:
  explicit LineBuffer(std::size_t max_lines) : max_(max_lines ? max_lines : 1) {}
  void push(std::string line);
  bool empty() const { return lines_.empty(); }
  std::size_t size() const { return lines_.size(); }
  std::uint64_t dropped() const { return dropped_; }
  const std::string& front() const { return lines_.front(); }
  std::size_t sent() const { return sent_; }
  // Append the unsent bytes of the first lines to `out`, up to about `max_bytes`.
  void peek(std::string& out, std::size_t max_bytes) const;
  // `n` bytes of the front line(s) went out.
  void consume(std::size_t n);
  // Start the front line again (the connection that had part of it is gone).
  void rewind() { sent_ = 0; }

 private:
  std::deque<std::string> lines_;
  std::size_t max_;
  std::size_t sent_ = 0;
  std::uint64_t dropped_ = 0;
};

// Reconnect delays: first, doubled after each failure up to `max`;
// reset() after a connection that worked.
class Backoff {
 public:
  Backoff(std::int64_t first_ms, std::int64_t max_ms)
      : first_(first_ms), max_(max_ms), next_(first_ms) {}
  std::int64_t next() {
    std::int64_t d = next_;
    next_ = next_ * 2 > max_ ? max_ : next_ * 2;
    return d;
  }
  void reset() { next_ = first_; }

 private:
  std::int64_t first_, max_, next_;
};

// Lines dropped by every pusher of this process (`show info`: GraphiteDropped,
// shown only when a pusher exists, so that `show info` stays haproxy's otherwise).
std::uint64_t graphite_dropped_total();
bool graphite_configured();

class GraphitePusher final : public core::IoHandler {
 public:
  GraphitePusher(const config::GraphiteDef& def, std::function<Sources()> sources,
                 const log::Logger& logger);
  ~GraphitePusher() override;
  // On the loop's thread.
  void start(core::Loop& loop);
  void stop();
  void on_events(std::uint32_t events) override;

  // Format one interval's lines into the buffer now (tests, and the timer).
  void collect(std::int64_t unix_time);
  const LineBuffer& buffer() const { return buf_; }

 private:
  void tick();
  void connect();
  void flush();
  void lost(const char* why, int err);
  void log(log::Level level, const std::string& msg) const;

  config::GraphiteDef def_;
  std::function<Sources()> sources_;
  const log::Logger& logger_;
  std::string prefix_;
  std::vector<std::size_t> cols_;
  LineBuffer buf_;
  Backoff backoff_{200, 30000};
  core::Loop* loop_ = nullptr;
  core::Timer interval_timer_;
  core::Timer retry_timer_;
  int fd_ = -1;
  bool connected_ = false;
  bool was_down_logged_ = false;
  std::uint64_t dropped_at_loss_ = 0;
  std::vector<std::string> scratch_;
};

}  // namespace sluice::stats
