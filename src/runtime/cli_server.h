#pragma once
// The stats sockets (`stats socket`): listeners and connections of the
// runtime API, served on one worker loop. A connection reads a line, runs
// its ';'-separated commands (runtime/cli.h), writes the answers and closes,
// or, in `prompt` mode, answers with "> " and waits for the next line.

#include <memory>
#include <vector>

#include "config/model.h"
#include "core/loop.h"
#include "runtime/cli.h"
#include "util/result.h"

namespace sluice::runtime {

class CliServer {
 public:
  static constexpr std::size_t kMaxLine = 16384;  // longer command lines are refused

  // Open every `stats socket` now, so errors surface before daemonising.
  static Result<std::unique_ptr<CliServer>> open(const config::Global& g);
  ~CliServer();
  CliServer(const CliServer&) = delete;
  CliServer& operator=(const CliServer&) = delete;

  // On `loop`'s thread: start serving.
  void start(core::Loop& loop, CliEnv& env);
  // On the loop's thread: close the listeners and every connection.
  void stop();

  struct Conn;

 private:
  CliServer() = default;
  struct Socket;
  void accept(int fd, CliLevel level, bool expose_fd);
  void forget(Conn* c);

  std::vector<std::unique_ptr<Socket>> sockets_;
  std::vector<std::unique_ptr<Conn>> conns_;
  core::Loop* loop_ = nullptr;
  CliEnv* env_ = nullptr;
  std::int64_t timeout_ms_ = 10000;
};

}  // namespace sluice::runtime
