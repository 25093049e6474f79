// SMTP client for email alerts: EHLO, MAIL FROM, RCPT TO, DATA, QUIT, each
// reply checked for its code, as HAProxy's mailer checks do.

#include "stats/email_alert.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "stats/one_shot.h"

namespace sluice::stats {

std::string email_alert_data(const config::EmailAlert& e, const std::string& message,
                             std::int64_t unix_time) {
  char date[64];
  std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string body = message;
  if (!body.empty() && body[0] == '.') body.insert(0, ".");
  std::string d = "From: " + e.from + "\r\nTo: " + e.to + "\r\nDate: " + date +
                  "\r\nSubject: [HAproxy Alert] " + message + "\r\n\r\n" + body + "\r\n.\r\n";
  return d;
}

class EmailAlerts::Session final : public OneShotExchange {
 public:
  using OneShotExchange::OneShotExchange;

  void start(const config::MailersDef::Mailer& m, config::Millis timeout,
             const config::EmailAlert& e, const std::string& message) {
    mailer_ = m.name;
    std::string host = e.myhostname;
    if (host.empty()) {
      char h[256] = {};
      if (::gethostname(h, sizeof h - 1) != 0) std::strcpy(h, "localhost");
      host = h;
    }
    // Each step: the reply code that must come, then what to send.
    steps_ = {{220, "EHLO " + host + "\r\n"},
              {250, "MAIL FROM:<" + e.from + ">\r\n"},
              {250, "RCPT TO:<" + e.to + ">\r\n"},
              {250, "DATA\r\n"},
              {354, email_alert_data(e, message, static_cast<std::int64_t>(std::time(nullptr)))},
              {250, "QUIT\r\n"},
              {221, ""}};
    open(m.addr, timeout, "timeout", "");
  }

  void on_events(std::uint32_t ev) override {
    if (fd_ < 0) return;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      char b[2048];
      for (;;) {
        ssize_t n = ::recv(fd_, b, sizeof b, 0);
        if (n > 0) {
          in_.append(b, static_cast<std::size_t>(n));
          if (in_.size() > 65536) return fail("reply too long");
          continue;
        }
        if (n == 0 || errno != EAGAIN) {
          if (step_ < steps_.size()) return fail("connection closed by the mailer");
          return close();
        }
        break;
      }
      replies();
    }
    if (fd_ >= 0 && (ev & EPOLLOUT)) write();
  }

 private:
  void replies() {
    // A reply ends with a line "NNN text" (not "NNN-text").
    for (;;) {
      std::size_t eol = in_.find("\r\n");
      if (eol == std::string::npos) return;
      std::string line = in_.substr(0, eol);
      in_.erase(0, eol + 2);
      if (line.size() >= 4 && line[3] == '-') continue;
      if (step_ >= steps_.size()) continue;
      int code = line.size() >= 3 ? std::atoi(line.substr(0, 3).c_str()) : 0;
      if (code != steps_[step_].first) return fail("unexpected reply '" + line + "'");
      out_ += steps_[step_].second;
      ++step_;
      if (step_ == steps_.size()) {
        if (logger_.wants(log::Level::Info))
          logger_.send(log::Level::Info, "email alert sent through mailer " + mailer_);
        return close();
      }
      write();
      if (fd_ < 0) return;
    }
  }
  void write() {
    while (!out_.empty()) {
      ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n > 0) {
        out_.erase(0, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EAGAIN) return;
      return fail(std::string("send: ") + std::strerror(errno));
    }
  }
  std::string failure_prefix() const override {
    return "email alert through mailer " + mailer_ + " failed";
  }

  std::string mailer_;
  std::vector<std::pair<int, std::string>> steps_;
  std::size_t step_ = 0;
  std::string in_, out_;
};

EmailAlerts::EmailAlerts(const log::Logger& logger) : logger_(logger) {}
EmailAlerts::~EmailAlerts() = default;

void EmailAlerts::send(core::Loop& loop, const config::MailersDef& mailers,
                       const config::EmailAlert& e, const std::string& message) {
  std::erase_if(sessions_, [](const auto& s) { return s->done(); });
  for (const auto& m : mailers.mailers) {
    auto s = std::make_unique<Session>(loop, logger_);
    s->start(m, mailers.timeout, e, message);
    sessions_.push_back(std::move(s));
  }
}

void EmailAlerts::stop() {
  sessions_.clear();
}

}  // namespace sluice::stats
