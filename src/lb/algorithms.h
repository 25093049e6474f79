#pragma once
// Constructors of the individual balance algorithms, one file each. Callers
// normally go through make_algorithm(); these exist so the factory table and
// the tests can name an algorithm directly.

#include <cstdint>
#include <span>
#include <vector>

#include "lb/algorithm.h"
#include "lb/hash.h"

namespace sluice::lb {

AlgorithmPtr make_roundrobin();
AlgorithmPtr make_static_rr();
AlgorithmPtr make_leastconn();
AlgorithmPtr make_first();
// source / uri / url_param / hdr: the caller extracts PickInput::key; these
// only differ in what the key is.
// `balance_factor` (hash-balance-factor, consistent only): a member may take
// at most factor% of the average load (weighted); else the ring is walked on.
AlgorithmPtr make_key_hash(config::HashType type, KeyHasher hasher,
                           unsigned balance_factor = 0);
// random(draws): `draws` weighted random choices, least loaded wins.
AlgorithmPtr make_random(std::uint32_t draws, std::uint64_t seed);

// Members an algorithm may ever pick: weight > 0 (callers normally filter).
std::vector<Member> pickable(std::span<const Member> members);

// Load order used by leastconn and random: (conns + 1) / weight, compared by
// cross-multiplication so no division or rounding is involved. The +1 makes
// idle servers of higher weight win, as HAProxy's leastconn does.
inline bool less_loaded(std::uint32_t conns_a, std::uint32_t weight_a, std::uint32_t conns_b,
                        std::uint32_t weight_b) {
  return (std::uint64_t{conns_a} + 1) * weight_b < (std::uint64_t{conns_b} + 1) * weight_a;
}

}  // namespace sluice::lb
