#pragma once
// Protocol checks compile into connect / send / expect steps. Each protocol
// lives in its own proto_*.cpp and has one entry in the table of
// protocols.cpp; the engine (check_run.cpp) knows none of them.

#include <string>
#include <vector>

#include "checks/check_run.h"
#include "config/model.h"

namespace sluice::checks {

struct CompileInput {
  const config::HealthCheckDef& def;
  const config::ServerDef& server;
};

// Fills `steps`; returns an error text (empty on success).
using CompileFn = std::string (*)(const CompileInput& in, std::vector<CheckStep>& steps);

struct CheckProtocol {
  config::HealthCheckDef::Type type;
  std::string_view name;  // the option's name ("httpchk", "mysql-check"...)
  CompileFn compile;
};

const CheckProtocol* find_protocol(config::HealthCheckDef::Type type);

// The step sequence of a backend's check for one server.
std::string compile_check(const config::HealthCheckDef& def, const config::ServerDef& server,
                          std::vector<CheckStep>& steps);

// The protocols (one file each).
std::string compile_tcp_connect(const CompileInput&, std::vector<CheckStep>&);
std::string compile_tcp_check(const CompileInput&, std::vector<CheckStep>&);
std::string compile_httpchk(const CompileInput&, std::vector<CheckStep>&);
std::string compile_mysql(const CompileInput&, std::vector<CheckStep>&);
std::string compile_pgsql(const CompileInput&, std::vector<CheckStep>&);
std::string compile_redis(const CompileInput&, std::vector<CheckStep>&);
std::string compile_smtp(const CompileInput&, std::vector<CheckStep>&);
std::string compile_ssl_hello(const CompileInput&, std::vector<CheckStep>&);
std::string compile_ldap(const CompileInput&, std::vector<CheckStep>&);

// MySQL client authentication packet (sequence id 1), haproxy-facts §4.
std::string mysql_login_packet(const std::string& user, std::string_view variant);

// Agent check (`agent-check`): connect, send agent-send, read one line.
std::vector<CheckStep> compile_agent(const config::ServerDef& server);

}  // namespace sluice::checks
