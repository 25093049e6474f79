#include "checks/protocols.h"

#include <array>

namespace sluice::checks {

using T = config::HealthCheckDef::Type;

const CheckProtocol* find_protocol(T type) {
  static const std::array<CheckProtocol, 9> kProtocols{{
      {T::Tcp, "check", compile_tcp_connect},
      {T::TcpCheck, "tcp-check", compile_tcp_check},
      {T::HttpChk, "httpchk", compile_httpchk},
      {T::Mysql, "mysql-check", compile_mysql},
      {T::Pgsql, "pgsql-check", compile_pgsql},
      {T::Redis, "redis-check", compile_redis},
      {T::Smtp, "smtpchk", compile_smtp},
      {T::SslHello, "ssl-hello-chk", compile_ssl_hello},
      {T::Ldap, "ldap-check", compile_ldap},
  }};
  for (const auto& p : kProtocols)
    if (p.type == type) return &p;
  return nullptr;
}

std::string compile_check(const config::HealthCheckDef& def, const config::ServerDef& server,
                          std::vector<CheckStep>& steps) {
  steps.clear();
  const CheckProtocol* p = find_protocol(def.type);
  if (p == nullptr) return "unknown check protocol";
  CompileInput in{def, server};
  return p->compile(in, steps);
}

std::string compile_tcp_connect(const CompileInput&, std::vector<CheckStep>& steps) {
  steps.push_back(CheckStep::connect());
  return {};
}

}  // namespace sluice::checks
