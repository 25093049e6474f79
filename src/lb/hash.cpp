#include "lb/hash.h"

#include <array>
#include <bit>

namespace sluice::lb {

namespace {

constexpr std::array<std::uint32_t, 256> make_crc32_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1U) ? (0xEDB88320U ^ (c >> 1)) : (c >> 1);
    table[i] = c;
  }
  return table;
}

constexpr auto kCrc32Table = make_crc32_table();

}  // namespace

std::uint32_t hash_sdbm(std::string_view key) {
  std::uint32_t h = 0;
  for (unsigned char c : key) h = c + (h << 6) + (h << 16) - h;
  return h;
}

std::uint32_t hash_djb2(std::string_view key) {
  std::uint32_t h = 5381;
  for (unsigned char c : key) h = h * 33U + c;
  return h;
}

std::uint32_t hash_wt6(std::string_view key) {
  // Two words mixed with complement/add, then swapped through rotations whose
  // amounts depend on the state itself. std::rotl handles a 0 rotation, which
  // is what the original gets on x86 for a "shift by 32".
  std::uint32_t h0 = 0xa53c965aU;
  std::uint32_t h1 = 0x5ca6953aU;
  int rot0 = 6;
  int rot1 = 18;
  for (unsigned char c : key) {
    h0 = ~(h0 ^ c);
    h1 = ~(h1 + c);
    const std::uint32_t next0 = std::rotl(h1, rot0);
    h1 = std::rotl(h0, rot1);
    h0 = next0;
    const std::uint32_t t = ((h0 >> 16) ^ h1) & 0xffffU;
    rot0 = static_cast<int>(t & 0x1fU);
    rot1 = static_cast<int>(t >> 11);
  }
  return h0 ^ h1;
}

std::uint32_t hash_crc32(std::string_view key) {
  std::uint32_t c = 0xffffffffU;
  for (unsigned char b : key) c = kCrc32Table[(c ^ b) & 0xffU] ^ (c >> 8);
  return ~c;
}

std::uint32_t hash_none(std::string_view key) {
  std::size_t i = 0;
  bool negative = false;
  if (i < key.size() && (key[i] == '-' || key[i] == '+')) negative = key[i++] == '-';
  std::uint64_t v = 0;
  for (; i < key.size() && key[i] >= '0' && key[i] <= '9'; ++i)
    v = v * 10 + static_cast<std::uint64_t>(key[i] - '0');
  if (negative) v = ~v + 1;  // two's complement, as a signed integer cast would give
  return static_cast<std::uint32_t>(v);
}

std::uint32_t KeyHasher::operator()(std::string_view key) const {
  std::uint32_t h = 0;
  switch (function) {
    case config::HashFunction::Sdbm:
      h = hash_sdbm(key);
      break;
    case config::HashFunction::Djb2:
      h = hash_djb2(key);
      break;
    case config::HashFunction::Wt6:
      h = hash_wt6(key);
      break;
    case config::HashFunction::Crc32:
      h = hash_crc32(key);
      break;
    case config::HashFunction::None:
      h = hash_none(key);
      break;
  }
  return avalanche ? full_avalanche(h) : h;
}

}  // namespace sluice::lb
