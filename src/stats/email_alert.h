#pragma once
// HAProxy's email alerts (`mailers` + `email-alert`): a server state change
// at or above the proxy's level is mailed to `to` through every mailer of
// the section, over SMTP, from one worker loop (never blocking traffic).

#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "core/loop.h"
#include "log/logger.h"

namespace sluice::stats {

// The message (headers and body, CRLF lines, dot-stuffed, ending "\r\n.\r\n").
std::string email_alert_data(const config::EmailAlert& e, const std::string& message,
                             std::int64_t unix_time);

class EmailAlerts {
 public:
  explicit EmailAlerts(const log::Logger& logger);
  ~EmailAlerts();
  // On the loop's thread: one SMTP session per mailer of the section.
  void send(core::Loop& loop, const config::MailersDef& mailers, const config::EmailAlert& e,
            const std::string& message);
  void stop();

 private:
  class Session;
  const log::Logger& logger_;
  std::vector<std::unique_ptr<Session>> sessions_;
};

}  // namespace sluice::stats
