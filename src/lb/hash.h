#pragma once
// Key hash functions named by `hash-type <method> <function> [avalanche]`.
// Shared by every hash-based balance algorithm (source, uri, url_param, hdr)
// and usable by converters. All are pure, allocation-free and 32-bit.

#include <cstdint>
#include <string_view>

#include "config/model.h"

namespace sluice::lb {

// sdbm: h = c + (h << 6) + (h << 16) - h, from 0.
std::uint32_t hash_sdbm(std::string_view key);
// djb2: h = h * 33 + c, from 5381.
std::uint32_t hash_djb2(std::string_view key);
// wt6: HAProxy's own rotating two-word hash (keeps results identical for operators).
std::uint32_t hash_wt6(std::string_view key);
// crc32: IEEE 802.3 (reflected 0xEDB88320, init and final xor ~0), as zlib/gzip/PNG.
std::uint32_t hash_crc32(std::string_view key);
// none: the key already is a hash, written as a decimal integer (e.g. the output
// of a converter); leading decimal digits are read, truncated to 32 bits.
std::uint32_t hash_none(std::string_view key);

// The `avalanche` modifier: Bob Jenkins' 32-bit full-avalanche integer hash,
// then a multiplication by 3221225473 so the results equal HAProxy's (checked
// against its sdbm(1)/djb2(1)/wt6(1) converters), keeping mappings identical.
constexpr std::uint32_t full_avalanche(std::uint32_t a) {
  a = (a + 0x7ed55d16U) + (a << 12);
  a = (a ^ 0xc761c23cU) ^ (a >> 19);
  a = (a + 0x165667b1U) + (a << 5);
  a = (a + 0xd3a2646cU) ^ (a << 9);
  a = (a + 0xfd7046c5U) + (a << 3);
  a = (a ^ 0xb55a4f09U) ^ (a >> 16);
  return a * 3221225473U;
}

// A configured key hash: function + optional avalanche.
struct KeyHasher {
  config::HashFunction function = config::HashFunction::Sdbm;
  bool avalanche = false;

  std::uint32_t operator()(std::string_view key) const;
};

}  // namespace sluice::lb
