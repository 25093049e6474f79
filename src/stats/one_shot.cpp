#include "stats/one_shot.h"

#include <unistd.h>

#include <cstring>

namespace sluice::stats {

bool OneShotExchange::open(const config::Address& to, core::Millis timeout,
                           std::string timeout_why, const std::string& connect_what) {
  int err = 0;
  fd_ = checks::open_outgoing(to, {}, err);
  if (fd_ < 0) {
    fail("cannot connect" + connect_what + ": " + std::strerror(err));
    return false;
  }
  if (!loop_.add(fd_, this)) {
    fail("cannot watch the socket");
    return false;
  }
  timeout_why_ = std::move(timeout_why);
  timer_.set_callback([this] { fail(timeout_why_); });
  loop_.arm(timer_, timeout);
  return true;
}

void OneShotExchange::fail(const std::string& why) {
  if (logger_.wants(log::Level::Warning))
    logger_.send(log::Level::Warning, failure_prefix() + ": " + why);
  close();
}

void OneShotExchange::close() {
  loop_.cancel(timer_);
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  done_ = true;
}

}  // namespace sluice::stats
