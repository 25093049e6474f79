// `option ssl-hello-chk` (a TLS ClientHello; any TLS record back is L6OK)
// and `option ldap-check` (an anonymous bind; result code 0 is L7OK).

#include <memory>

#include "checks/protocols.h"

namespace sluice::checks {

namespace {
class TlsRecordMatcher final : public Matcher {
 public:
  Verdict match(std::string_view in, bool eof) const override {
    if (in.size() < 5) {
      if (!eof) return Verdict::need_more();
      return Verdict::fail(CheckStatus::L6Rsp, "");
    }
    auto t = static_cast<unsigned char>(in[0]);
    if ((t == 0x15 || t == 0x16) && in[1] == 0x03) return Verdict::pass(CheckStatus::L6Ok);
    return Verdict::fail(CheckStatus::L6Rsp, "not a TLS answer");
  }
  CheckStatus timeout_status() const override { return CheckStatus::L6Tout; }
};

class LdapBindMatcher final : public Matcher {
 public:
  Verdict match(std::string_view in, bool eof) const override {
    // SEQUENCE { messageID, BindResponse [APPLICATION 1] { resultCode ... } }
    if (in.size() < 2) {
      if (!eof) return Verdict::need_more();
      return Verdict::fail(CheckStatus::L7Rsp, "");
    }
    if (static_cast<unsigned char>(in[0]) != 0x30)
      return Verdict::fail(CheckStatus::L7Rsp, "Not LDAPv3 protocol");
    std::size_t bind = in.find('\x61');
    std::size_t rc = bind == std::string_view::npos ? bind : in.find("\x0a\x01", bind);
    if (rc == std::string_view::npos || rc + 2 >= in.size()) {
      if (!eof) return Verdict::need_more();
      return Verdict::fail(CheckStatus::L7Rsp, "Not LDAPv3 protocol");
    }
    int code = static_cast<unsigned char>(in[rc + 2]);
    if (code == 0) return Verdict::pass(CheckStatus::L7Ok, "Success");
    return Verdict::fail(CheckStatus::L7Sts, "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9", code);
  }
};

std::string client_hello() {
  std::string hs;
  hs += std::string("\x03\x03", 2);  // TLS 1.2
  for (int i = 0; i < 32; ++i) hs += static_cast<char>(0x5a ^ i);  // random
  hs += '\0';  // no session id
  const unsigned char suites[] = {0xc0, 0x2f, 0xc0, 0x2b, 0xc0, 0x30, 0xc0, 0x2c, 0x00, 0x9e,
                                  0x00, 0x9c, 0x00, 0x2f, 0x00, 0x35, 0x00, 0x0a, 0x00, 0xff};
  hs += static_cast<char>(0);
  hs += static_cast<char>(sizeof suites);
  hs.append(reinterpret_cast<const char*>(suites), sizeof suites);
  hs += std::string("\x01\x00", 2);  // null compression
  std::string msg;
  msg += '\x01';
  msg += '\0';
  msg += static_cast<char>((hs.size() >> 8) & 0xFF);
  msg += static_cast<char>(hs.size() & 0xFF);
  msg += hs;
  std::string rec("\x16\x03\x01", 3);
  rec += static_cast<char>((msg.size() >> 8) & 0xFF);
  rec += static_cast<char>(msg.size() & 0xFF);
  return rec + msg;
}
}  // namespace

std::string compile_ssl_hello(const CompileInput&, std::vector<CheckStep>& steps) {
  steps.push_back(CheckStep::connect(true));
  steps.push_back(CheckStep::send(client_hello()));
  steps.push_back(CheckStep::expect(std::make_shared<TlsRecordMatcher>()));
  return {};
}

std::string compile_ldap(const CompileInput&, std::vector<CheckStep>& steps) {
  steps.push_back(CheckStep::connect(false));
  steps.push_back(CheckStep::send(std::string("\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00", 14)));
  steps.push_back(CheckStep::expect(std::make_shared<LdapBindMatcher>()));
  steps.push_back(CheckStep::send(std::string("\x30\x05\x02\x01\x02\x42\x00", 7)));  // unbind
  return {};
}

}  // namespace sluice::checks
