// Fuzzes the runtime API's command language: any line, at admin level,
// against a small running configuration (servers are added, deleted,
// weighted, drained...) must give an answer, never a crash or a sanitizer
// report.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/load.h"
#include "proxy/backend.h"
#include "proxy/frontend.h"
#include "runtime/cli.h"

namespace {

struct World {
  sluice::config::Model model;
  std::vector<std::unique_ptr<sluice::proxy::Backend>> backends;
  std::vector<std::unique_ptr<sluice::proxy::Frontend>> frontends;
  sluice::runtime::CliEnv env;

  World() {
    sluice::config::LoadOptions o;
    o.resolve_hostnames = false;
    model = sluice::config::load_text(
                "defaults\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"
                "listen app\n  bind 127.0.0.1:1\n  server a 127.0.0.1:81 check\n"
                "  server b 127.0.0.1:82 backup agent-check agent-port 9\n"
                "backend st\n  balance static-rr\n  server s 127.0.0.1:83\n",
                "fuzz.cfg", o)
                .model;
    for (const auto& p : model.proxies) {
      sluice::runtime::CliEnv::Proxy e;
      if (p.has_backend()) {
        backends.push_back(std::make_unique<sluice::proxy::Backend>(
            p, static_cast<std::uint32_t>(backends.size()), nullptr));
        e.be = backends.back().get();
      }
      if (p.has_frontend()) {
        frontends.push_back(std::make_unique<sluice::proxy::Frontend>(
            p, static_cast<std::uint32_t>(frontends.size()), nullptr, 100));
        e.fe = frontends.back().get();
      }
      env.proxies.push_back(e);
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16 * 1024) return 0;  // the socket refuses longer lines
  static World world;
  std::string line(reinterpret_cast<const char*>(data), size);
  sluice::runtime::CliState st;
  st.level = sluice::runtime::CliLevel::Admin;
  for (const auto& words : sluice::runtime::split_commands(line)) {
    sluice::runtime::CliReply r = sluice::runtime::run_command(world.env, st, words);
    if (r.off_loop) (void)r.off_loop();  // what the stats thread would build
    if (st.quit) break;
  }
  return 0;
}
