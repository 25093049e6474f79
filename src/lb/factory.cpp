// make_algorithm: one table row per `balance` algorithm.
#include <array>
#include <charconv>
#include <random>

#include "lb/algorithms.h"

namespace sluice::lb {

namespace {

KeyHasher hasher_for(const config::Balance& b) {
  return KeyHasher{b.hash_function, b.avalanche};
}

AlgorithmPtr build_roundrobin(const config::Balance&) {
  return make_roundrobin();
}
AlgorithmPtr build_static_rr(const config::Balance&) {
  return make_static_rr();
}
AlgorithmPtr build_leastconn(const config::Balance&) {
  return make_leastconn();
}
AlgorithmPtr build_first(const config::Balance&) {
  return make_first();
}
AlgorithmPtr build_key_hash(const config::Balance& b) {
  return make_key_hash(b.hash_type, hasher_for(b), b.hash_balance_factor);
}
AlgorithmPtr build_random(const config::Balance& b) {
  std::uint32_t draws = 2;
  if (!b.args.empty()) {
    const auto& a = b.args[0];
    std::uint32_t v = 0;
    auto [p, ec] = std::from_chars(a.data(), a.data() + a.size(), v);
    if (ec == std::errc() && p == a.data() + a.size() && v > 0) draws = v;
  }
  // Different seeds per instance (per thread) so threads do not draw in step.
  std::random_device rd;
  const std::uint64_t seed = (std::uint64_t{rd()} << 32) | rd();
  return make_random(draws, seed);
}

struct AlgorithmDef {
  config::BalanceAlgo algo;
  const char* name;
  AlgorithmPtr (*build)(const config::Balance&);
};

constexpr std::array kAlgorithms{
    AlgorithmDef{config::BalanceAlgo::RoundRobin, "roundrobin", build_roundrobin},
    AlgorithmDef{config::BalanceAlgo::StaticRr, "static-rr", build_static_rr},
    AlgorithmDef{config::BalanceAlgo::LeastConn, "leastconn", build_leastconn},
    AlgorithmDef{config::BalanceAlgo::First, "first", build_first},
    AlgorithmDef{config::BalanceAlgo::Source, "source", build_key_hash},
    AlgorithmDef{config::BalanceAlgo::Uri, "uri", build_key_hash},
    AlgorithmDef{config::BalanceAlgo::UrlParam, "url_param", build_key_hash},
    AlgorithmDef{config::BalanceAlgo::Hdr, "hdr", build_key_hash},
    AlgorithmDef{config::BalanceAlgo::Random, "random", build_random},
};

}  // namespace

AlgorithmPtr make_algorithm(const config::Balance& balance) {
  for (const auto& def : kAlgorithms)
    if (def.algo == balance.algo) return def.build(balance);
  return make_roundrobin();  // unreachable while the table covers BalanceAlgo
}

std::string_view algorithm_name(config::BalanceAlgo algo) {
  for (const auto& def : kAlgorithms)
    if (def.algo == algo) return def.name;
  return "?";
}

}  // namespace sluice::lb
