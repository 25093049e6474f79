#pragma once
// A short outgoing exchange run on a worker loop (an alert POST, an SMTP
// mail): connect without blocking, a deadline for the whole exchange, and
// one way to end it, cleanly or with a logged warning. Subclasses do the
// protocol in on_events().

#include <string>

#include "checks/outgoing.h"
#include "config/address.h"
#include "core/loop.h"
#include "log/logger.h"

namespace sluice::stats {

class OneShotExchange : public core::IoHandler {
 public:
  OneShotExchange(core::Loop& loop, const log::Logger& logger) : loop_(loop), logger_(logger) {}
  ~OneShotExchange() override { close(); }
  OneShotExchange(const OneShotExchange&) = delete;
  OneShotExchange& operator=(const OneShotExchange&) = delete;
  bool done() const { return done_; }

 protected:
  // Start connecting to `to`; `fail(timeout_why)` if not over within `timeout`.
  // False (and failed) when the connection cannot even start.
  bool open(const config::Address& to, core::Millis timeout, std::string timeout_why,
            const std::string& connect_what);
  // End with a warning "<prefix>: why" in the log.
  void fail(const std::string& why);
  void close();
  virtual std::string failure_prefix() const = 0;

  core::Loop& loop_;
  const log::Logger& logger_;
  core::Timer timer_;
  int fd_ = -1;

 private:
  std::string timeout_why_;
  bool done_ = false;
};

}  // namespace sluice::stats
