#pragma once
// Runtime objects built from configuration text, for stats and CLI tests.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "config/load.h"
#include "proxy/backend.h"
#include "proxy/frontend.h"
#include "stats/snapshot.h"

namespace sluice::testing {

struct Objects {
  config::Model model;
  std::vector<std::unique_ptr<proxy::Backend>> backends;
  std::vector<std::unique_ptr<proxy::Frontend>> frontends;
  std::vector<stats::ProxyEntry> entries;

  explicit Objects(const std::string& text) {
    config::LoadOptions o;
    o.resolve_hostnames = false;
    auto r = config::load_text(text, "t.cfg", o);
    for (const auto& e : r.errors) ADD_FAILURE() << config::format_diagnostic(e);
    model = std::move(r.model);
    for (const auto& p : model.proxies) {
      stats::ProxyEntry e;
      if (p.has_backend()) {
        backends.push_back(std::make_unique<proxy::Backend>(
            p, static_cast<std::uint32_t>(backends.size()), nullptr));
        e.be = backends.back().get();
      }
      if (p.has_frontend()) {
        frontends.push_back(std::make_unique<proxy::Frontend>(
            p, static_cast<std::uint32_t>(frontends.size()), nullptr, 1000));
        if (e.be) frontends.back()->set_default_backend(backends.back().get());
        e.fe = frontends.back().get();
      }
      entries.push_back(e);
    }
  }
  stats::Sources sources() const {
    stats::Sources s;
    s.proxies = entries;
    s.start_wall_s = 1;
    return s;
  }
};

}  // namespace sluice::testing
