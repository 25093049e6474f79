#include "util/base64.h"

namespace sluice::util {

namespace {

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

bool base64_decode(std::string_view in, char* out, std::size_t cap, std::size_t& n) {
  n = 0;
  if (in.size() % 4 != 0) return false;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + k];
      if (c == '=') {
        // Padding only at the end: "xx==" or "xxx=".
        if (i + 4 != in.size() || k < 2) return false;
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;
      v[k] = b64_value(c);
      if (v[k] < 0) return false;
    }
    const unsigned bits =
        (unsigned(v[0]) << 18) | (unsigned(v[1]) << 12) | (unsigned(v[2]) << 6) | unsigned(v[3]);
    const int bytes = 3 - pad;
    if (n + static_cast<std::size_t>(bytes) > cap) return false;
    for (int k = 0; k < bytes; ++k) out[n++] = static_cast<char>((bits >> (16 - 8 * k)) & 0xff);
  }
  return true;
}

std::optional<std::string> base64_decode(std::string_view in) {
  std::string out(in.size() / 4 * 3, '\0');
  std::size_t n = 0;
  if (!base64_decode(in, out.data(), out.size(), n)) return std::nullopt;
  out.resize(n);
  return out;
}

}  // namespace sluice::util
