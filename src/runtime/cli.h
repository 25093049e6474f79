#pragma once
// The runtime API's command language (HAProxy's stats socket CLI): a line
// holds commands separated by ';', words separated by blanks, '\' escapes.
// Commands come from one table (cli_commands.cpp) with the level they need;
// the socket side (cli_server.h) only moves lines and answers.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/backend.h"
#include "proxy/frontend.h"
#include "stats/snapshot.h"

namespace sluice::proxy {
class ServerChecks;
}

namespace sluice::runtime {

enum class CliLevel : std::uint8_t { User = 0, Operator = 1, Admin = 2 };

// What commands reach of the running process. Filled by the engine; tests
// fill it with objects of their own.
struct CliEnv {
  struct Proxy {
    proxy::Frontend* fe = nullptr;
    proxy::Backend* be = nullptr;
  };
  std::vector<Proxy> proxies;  // configuration order
  std::int64_t start_wall_s = 0;
  unsigned nbthread = 1;
  unsigned maxconn = 0;
  std::string node;
  std::function<unsigned()> current_conns;  // may be empty
  std::function<bool()> stopping;           // may be empty
  // A dynamic server's checks: created (not started) on `add server ...
  // check`, started/stopped by `enable|disable health|agent`, dropped on `del server`.
  std::function<void(proxy::Backend&, proxy::Server&)> create_checks;
  std::function<void(proxy::Server&, bool run)> run_checks;
  std::function<void(proxy::Server&)> drop_checks;
  // Runs `fn` where `s`'s checks run (the worker thread of its ServerChecks,
  // passed to it; null when the server has none) and hands its answer to
  // `done` on the CLI's thread (`done` may be empty: nothing to answer).
  // Empty: `fn` runs at once with null (tests without threads).
  using ChecksFn = std::function<std::string(proxy::ServerChecks*)>;
  std::function<void(proxy::Server&, ChecksFn fn, std::function<void(std::string)> done)>
      with_checks;
  // `set maxconn global N`: the limit the workers now accept up to (1 to
  // hard_maxconn). Empty: the command changes only what `show info` says.
  unsigned hard_maxconn = 0;  // the configured (or default) global maxconn
  std::function<void(unsigned)> set_global_maxconn;
  // Set a frontend's maxconn and pause or resume its listeners at once.
  std::function<void(proxy::Frontend&, unsigned)> set_frontend_maxconn;
  // `show sess`: one line per live session, gathered from every thread;
  // calls `done` on the CLI's thread. Empty: no sessions reported.
  std::function<void(std::function<void(std::string)> done)> list_sessions;
  // `shutdown sessions server B/S`: close every session of the server (on
  // their threads). Empty: the command answers "not implemented yet".
  std::function<void(proxy::Server&)> shutdown_sessions;
  // `_getsocks` (expose-fd listeners): every listening socket with its key
  // (ListenInventory::key). Empty: none to give.
  std::function<std::vector<std::pair<std::string, int>>()> listening_fds;
  // `_handoff` (runtime/fd_passing.h): keep `fd` as the channel to the
  // process replacing this one (replacing an earlier one); false (fd not
  // taken) once the soft stop has begun. Empty: refused.
  std::function<bool(int)> take_handoff_channel;

  stats::Sources sources() const;
  proxy::Backend* backend(std::string_view name) const;  // name or #id
  proxy::Frontend* frontend(std::string_view name) const;
};

// One connection's state.
struct CliState {
  CliLevel level = CliLevel::Operator;
  bool prompt = false;  // interactive mode: "> " after each answer, stays open
  bool quit = false;
  std::int64_t timeout_ms = 10000;
  bool expose_fd = false;  // the socket has `expose-fd listeners`
};

// Splits a line into commands (';') and words; '\' escapes the next char.
std::vector<std::vector<std::string>> split_commands(std::string_view line);

// The answer to one command. `async` is set for commands that answer later
// (show sess): the caller runs it and waits for the callback.
struct CliReply {
  std::string text;  // including its final blank line
  std::function<void(std::function<void(std::string)>)> async;
  // An answer that takes milliseconds to build (`show stat` with 1,000
  // servers): the caller runs it away from its loop (cli_server: on the
  // stats thread, stats/offload.h) and appends its text, blank line included.
  // It reads only what it captured and the runtime objects' shared state.
  std::function<std::string()> off_loop;
};

CliReply run_command(CliEnv& env, CliState& st, const std::vector<std::string>& words);

// `help` text for a level (also the tail of "Unknown command" answers).
std::string help_text(CliLevel level);

// One line of `show servers state` (server-state-file format 1, 25 fields,
// no newline), for the state file written at reload.
std::string server_state_line(const proxy::Backend& be, const proxy::Server& s,
                              std::int64_t now_wall_s);

}  // namespace sluice::runtime
