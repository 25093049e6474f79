// `bind` lines and the table of bind keywords.

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <vector>

#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config {
namespace {

Result<void> b_name(Parser&, Bind& b, std::string_view a) { b.name = std::string(a); return {}; }
Result<void> b_maxconn(Parser&, Bind& b, std::string_view a) {
  auto v = parse_uint(a);
  if (!v) return with_context("maxconn", v.error());
  b.maxconn = *v;
  return {};
}
Result<void> b_backlog(Parser&, Bind& b, std::string_view a) {
  auto v = parse_uint(a);
  if (!v) return with_context("backlog", v.error());
  b.backlog = *v;
  return {};
}
Result<void> b_mode(Parser&, Bind& b, std::string_view a) {
  auto v = parse_octal(a);
  if (!v) return with_context("mode", v.error());
  b.unix_mode = *v;
  return {};
}
Result<void> b_uid(Parser&, Bind& b, std::string_view a) {
  auto v = parse_uint(a);
  if (!v) return with_context("uid", v.error());
  b.unix_uid = *v;
  return {};
}
Result<void> b_gid(Parser&, Bind& b, std::string_view a) {
  auto v = parse_uint(a);
  if (!v) return with_context("gid", v.error());
  b.unix_gid = *v;
  return {};
}
Result<void> b_user(Parser&, Bind& b, std::string_view a) {
  auto v = kw::lookup_user(std::string(a));
  if (!v) return Error{v.error()};
  b.unix_uid = *v;
  return {};
}
Result<void> b_group(Parser&, Bind& b, std::string_view a) {
  auto v = kw::lookup_group(std::string(a));
  if (!v) return Error{v.error()};
  b.unix_gid = *v;
  return {};
}
Result<void> b_v4v6(Parser&, Bind& b, std::string_view) { b.v4v6 = true; return {}; }
Result<void> b_v6only(Parser&, Bind& b, std::string_view) { b.v6only = true; return {}; }
Result<void> b_transparent(Parser&, Bind& b, std::string_view) { b.transparent = true; return {}; }
Result<void> b_interface(Parser&, Bind& b, std::string_view a) {
  if (a.empty() || a.size() >= 16) return make_error("interface: invalid interface name " + quote(a));
  b.interface = std::string(a);
  return {};
}

constexpr KwStatus I = KwStatus::Implemented;
constexpr KwStatus N = KwStatus::NotYet;

// clang-format off
constexpr BindKeyword kBindKeywords[] = {
    {"name", I, 1, "NAME", b_name, "listener name for stats"},
    {"maxconn", I, 1, "N", b_maxconn, "concurrent connection limit of this listener"},
    {"backlog", I, 1, "N", b_backlog, "listen queue length"},
    {"mode", I, 1, "OCTAL", b_mode, "UNIX socket permissions"},
    {"uid", I, 1, "N", b_uid, "UNIX socket owner"},
    {"gid", I, 1, "N", b_gid, "UNIX socket group"},
    {"user", I, 1, "NAME", b_user, "UNIX socket owner"},
    {"group", I, 1, "NAME", b_group, "UNIX socket group"},
    {"v4v6", I, 0, "", b_v4v6, "IPv6 socket also accepts IPv4"},
    {"v6only", I, 0, "", b_v6only, "IPv6 socket accepts IPv6 only"},
    {"transparent", I, 0, "", b_transparent, "binds non-local addresses (IP_TRANSPARENT)"},
    {"interface", I, 1, "NAME", b_interface, "binds to one network interface"},
    // not implemented yet
    {"accept-netscaler-cip", N, 1, "", nullptr, ""}, {"accept-proxy", N, 0, "", nullptr, ""},
    {"allow-0rtt", N, 0, "", nullptr, ""}, {"alpn", N, 1, "", nullptr, ""},
    {"ca-file", N, 1, "", nullptr, ""}, {"ca-ignore-err", N, 1, "", nullptr, ""},
    {"ca-sign-file", N, 1, "", nullptr, ""}, {"ca-sign-pass", N, 1, "", nullptr, ""},
    {"ca-verify-file", N, 1, "", nullptr, ""}, {"ciphers", N, 1, "", nullptr, ""},
    {"ciphersuites", N, 1, "", nullptr, ""}, {"crl-file", N, 1, "", nullptr, ""},
    {"crt", N, 1, "", nullptr, ""}, {"crt-ignore-err", N, 1, "", nullptr, ""},
    {"crt-list", N, 1, "", nullptr, ""}, {"curves", N, 1, "", nullptr, ""},
    {"defer-accept", N, 0, "", nullptr, ""}, {"ecdhe", N, 1, "", nullptr, ""},
    {"expose-fd", N, 1, "", nullptr, ""}, {"force-sslv3", N, 0, "", nullptr, ""},
    {"force-tlsv10", N, 0, "", nullptr, ""}, {"force-tlsv11", N, 0, "", nullptr, ""},
    {"force-tlsv12", N, 0, "", nullptr, ""}, {"force-tlsv13", N, 0, "", nullptr, ""},
    {"generate-certificates", N, 0, "", nullptr, ""}, {"id", N, 1, "", nullptr, ""},
    {"level", N, 1, "", nullptr, ""}, {"mss", N, 1, "", nullptr, ""},
    {"namespace", N, 1, "", nullptr, ""}, {"nice", N, 1, "", nullptr, ""},
    {"no-ca-names", N, 0, "", nullptr, ""}, {"no-sslv3", N, 0, "", nullptr, ""},
    {"no-tls-tickets", N, 0, "", nullptr, ""}, {"no-tlsv10", N, 0, "", nullptr, ""},
    {"no-tlsv11", N, 0, "", nullptr, ""}, {"no-tlsv12", N, 0, "", nullptr, ""},
    {"no-tlsv13", N, 0, "", nullptr, ""}, {"npn", N, 1, "", nullptr, ""},
    {"prefer-client-ciphers", N, 0, "", nullptr, ""}, {"process", N, 1, "", nullptr, ""},
    {"proto", N, 1, "", nullptr, ""}, {"quic-cc-algo", N, 1, "", nullptr, ""},
    {"quic-force-retry", N, 0, "", nullptr, ""}, {"severity-output", N, 1, "", nullptr, ""},
    {"shards", N, 1, "", nullptr, ""}, {"ssl", N, 0, "", nullptr, ""},
    {"ssl-max-ver", N, 1, "", nullptr, ""}, {"ssl-min-ver", N, 1, "", nullptr, ""},
    {"strict-sni", N, 0, "", nullptr, ""}, {"tcp-ut", N, 1, "", nullptr, ""},
    {"tfo", N, 0, "", nullptr, ""}, {"thread", N, 1, "", nullptr, ""},
    {"tls-ticket-keys", N, 1, "", nullptr, ""}, {"verify", N, 1, "", nullptr, ""},
    {"sigalgs", N, 1, "", nullptr, ""}, {"client-sigalgs", N, 1, "", nullptr, ""},
};
// clang-format on

}  // namespace

std::span<const BindKeyword> bind_keywords() { return kBindKeywords; }

namespace kw {

Result<void> bind(Parser& p, const Stmt& st) {
  p.draft().bind_written = true;
  if (st.args.empty()) return make_error("'bind' expects an address like *:80");
  Bind b;
  b.loc = p.loc();
  auto addrs = parse_bind_addresses(st.args[0], p.addr_opts());
  if (!addrs) return Error{addrs.error()};
  constexpr std::size_t kMaxListenAddresses = 100000;
  p.listen_addresses += addrs->size();
  if (p.listen_addresses > kMaxListenAddresses)
    return make_error("too many listening addresses (more than " +
                      std::to_string(kMaxListenAddresses) + " in all binds)");
  b.addrs = std::move(*addrs);
  for (std::size_t i = 1; i < st.args.size();) {
    const std::string& w = st.args[i];
    const BindKeyword* k = find_keyword(bind_keywords(), w);
    if (!k) {
      std::vector<std::string_view> names;
      for (const auto& e : bind_keywords()) names.push_back(e.name);
      p.error("bind", "unknown bind keyword " + quote(w) + did_you_mean(w, names));
      break;
    }
    if (i + static_cast<std::size_t>(k->nargs) >= st.args.size()) {
      p.error("bind", quote(w) + " expects an argument" +
                          (k->args.empty() ? std::string() : " (" + std::string(k->args) + ")"));
      break;
    }
    std::string_view arg = k->nargs ? std::string_view(st.args[i + 1]) : std::string_view();
    if (k->status == KwStatus::NotYet || !k->parse)
      p.error(w, "bind keyword " + quote(w) + " is not implemented yet in Sluice");
    else if (auto r = k->parse(p, b, arg); !r)
      p.error(w, r.error());
    i += 1 + static_cast<std::size_t>(k->nargs);
  }
  p.proxy().binds.push_back(std::move(b));
  return {};
}

}  // namespace kw
}  // namespace sluice::config
