#pragma once
// Character classes of RFC 9110/9112, as lookup tables (one load per byte).

#include <array>
#include <cstdint>

namespace sluice::http::chars {

inline constexpr std::array<std::uint8_t, 256> kTable = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] |= 1;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= 1;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] |= 1;
  for (char c : {'!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~'})
    t[static_cast<unsigned char>(c)] |= 1;
  // Field value octets: HTAB, SP, VCHAR, obs-text.
  t['\t'] |= 2;
  for (int c = 0x20; c <= 0x7e; ++c) t[c] |= 2;
  for (int c = 0x80; c <= 0xff; ++c) t[c] |= 2;
  // Request-target octets: VCHAR except '#' (8-bit, CTL and fragments rejected).
  for (int c = 0x21; c <= 0x7e; ++c) t[c] |= 4;
  t['#'] &= static_cast<std::uint8_t>(~4);
  return t;
}();

inline bool tchar(char c) { return kTable[static_cast<unsigned char>(c)] & 1; }
inline bool field_vchar(char c) { return kTable[static_cast<unsigned char>(c)] & 2; }
inline bool target_char(char c) { return kTable[static_cast<unsigned char>(c)] & 4; }
inline bool ows(char c) { return c == ' ' || c == '\t'; }
inline bool digit(char c) { return c >= '0' && c <= '9'; }
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

}  // namespace sluice::http::chars
