// `option mysql-check [user NAME [post-41|pre-41|post-80]]`.
//
// Unlike HAProxy (which writes login and QUIT without waiting), the check
// talks like a client: read the greeting, log in, read the answer, QUIT.
// MariaDB counts every connection that ends before authentication as an
// aborted connect, and blocks the host after max_connect_errors of those
// that end *during the handshake* (measured on MariaDB 10.11: closing
// after the greeting blocks the host; a refused login does not). So:
//  - with a user: greeting, login, OK, QUIT: nothing counted at all;
//  - without one: greeting, login as the empty (anonymous) user, whatever
//    answer, QUIT: a refused login is counted in Aborted_connects but
//    never blocks the host. The greeting alone decides the result.

#include <memory>

#include "checks/protocols.h"

namespace sluice::checks {

namespace {

struct Packet {
  bool complete = false;
  std::size_t size = 0;  // header + payload
  std::string_view payload;
};

Packet read_packet(std::string_view in) {
  Packet p;
  if (in.size() < 4) return p;
  std::size_t len = static_cast<unsigned char>(in[0]) |
                    static_cast<std::size_t>(static_cast<unsigned char>(in[1])) << 8 |
                    static_cast<std::size_t>(static_cast<unsigned char>(in[2])) << 16;
  if (in.size() < 4 + len) return p;
  p.complete = true;
  p.size = 4 + len;
  p.payload = in.substr(4, len);
  return p;
}

// 0xFF error packet: L7STS with the error number as code and its message.
Verdict error_packet(std::string_view pl) {
  int code = 0;
  std::string_view msg;
  if (pl.size() >= 3) {
    code = static_cast<unsigned char>(pl[1]) | static_cast<unsigned char>(pl[2]) << 8;
    msg = pl.substr(3);
    if (!msg.empty() && msg[0] == '#' && msg.size() >= 6) msg = msg.substr(6);  // SQL state
  }
  return Verdict::fail(CheckStatus::L7Sts, std::string(msg), code);
}

class GreetingMatcher final : public Matcher {
 public:
  Verdict match(std::string_view in, bool eof) const override {
    Packet p = read_packet(in);
    if (!p.complete) {
      if (!eof) return Verdict::need_more();
      return Verdict::fail(CheckStatus::L7Rsp, in.empty() ? "" : "Truncated MySQL packet");
    }
    if (p.payload.empty()) return Verdict::fail(CheckStatus::L7Rsp, "Empty MySQL packet");
    if (static_cast<unsigned char>(p.payload[0]) == 0xFF) return error_packet(p.payload);
    // Protocol version byte, then the NUL-terminated server version.
    std::string_view rest = p.payload.substr(1);
    std::size_t nul = rest.find('\0');
    if (nul == std::string_view::npos)
      return Verdict::fail(CheckStatus::L7Rsp, "Invalid MySQL greeting");
    return Verdict::pass(CheckStatus::L7Ok, std::string(rest.substr(0, nul)));
  }
};

// The answer to the login: OK passes; an error fails unless `any_answer`.
class LoginAnswerMatcher final : public Matcher {
 public:
  explicit LoginAnswerMatcher(bool any_answer) : any_(any_answer) {}
  Verdict match(std::string_view in, bool eof) const override {
    Packet p = read_packet(in);
    if (!p.complete) {
      if (!eof) return Verdict::need_more();
      if (any_ && in.empty()) return Verdict::pass();  // the server just hung up: the greeting decided
      return Verdict::fail(CheckStatus::L7Rsp, in.empty() ? "" : "Truncated MySQL packet");
    }
    unsigned char first = p.payload.empty() ? 0xFF : static_cast<unsigned char>(p.payload[0]);
    if (any_) return Verdict::pass();
    if (first == 0x00) return Verdict::pass();
    if (first == 0xFF) return error_packet(p.payload);
    if (first == 0xFE)
      return Verdict::fail(CheckStatus::L7Rsp,
                           "the server asked for another authentication method; the check user "
                           "needs mysql_native_password and no password");
    return Verdict::fail(CheckStatus::L7Rsp, "Invalid MySQL answer to the login");
  }

 private:
  bool any_;
};

void put_le(std::string& s, std::uint32_t v, int n) {
  for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace

// The client authentication packet (sequence id 1) of haproxy-facts §4.
std::string mysql_login_packet(const std::string& user, std::string_view variant) {
  std::string body;
  if (variant == "pre-41") {
    body += std::string("\x00\x80", 2);
    body += std::string("\x00\x00\x01", 3);
    body += user;
    body += '\0';
    body += '\0';
  } else {
    bool post80 = variant == "post-80";
    body += post80 ? std::string("\x00\x82\x08\x00", 4) : std::string("\x00\x82\x00\x00", 4);
    body += std::string("\x00\x80\x00\x01", 4);
    body += '\x21';
    body += std::string(23, '\0');
    body += user;
    body += '\0';
    body += '\0';
    if (post80) body += std::string("mysql_native_password\0", 22);
  }
  std::string pkt;
  put_le(pkt, static_cast<std::uint32_t>(body.size()), 3);
  pkt += '\x01';
  return pkt + body;
}

std::string compile_mysql(const CompileInput& in, std::vector<CheckStep>& steps) {
  const auto& a = in.def.args;
  bool has_user = a.size() >= 2 && a[0] == "user";
  std::string user = has_user ? a[1] : std::string();
  std::string variant = a.size() >= 3 ? a[2] : "post-41";
  steps.push_back(CheckStep::connect(false));
  steps.push_back(CheckStep::expect(std::make_shared<GreetingMatcher>()));
  steps.push_back(CheckStep::send(mysql_login_packet(user, variant)));
  steps.push_back(CheckStep::expect(std::make_shared<LoginAnswerMatcher>(!has_user)));
  steps.push_back(CheckStep::send(std::string("\x01\x00\x00\x00\x01", 5)));  // COM_QUIT
  return {};
}

}  // namespace sluice::checks
