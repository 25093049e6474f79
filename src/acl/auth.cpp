#include "acl/auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "util/base64.h"

namespace sluice::acl {

namespace {

bool equal_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool same_bytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

using Digest = std::array<unsigned char, 32>;

// A per-process salt, so the cache holds no plain hash of a password.
const std::array<unsigned char, 16>& salt() {
  static const std::array<unsigned char, 16> s = [] {
    std::array<unsigned char, 16> v{};
    if (RAND_bytes(v.data(), static_cast<int>(v.size())) != 1) v.fill(0x5a);
    return v;
  }();
  return s;
}

bool digest_of(std::string_view password, Digest& out) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  unsigned len = 0;
  bool ok = EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, salt().data(), salt().size()) == 1 &&
            EVP_DigestUpdate(ctx, password.data(), password.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size();
  EVP_MD_CTX_free(ctx);
  return ok;
}

// Outcomes of crypt checks on this thread: successes and failures apart, so
// a stream of wrong passwords does not push out the users who log in.
struct Outcome {
  const config::UserDef* user = nullptr;
  Digest digest{};
};
template <std::size_t N>
struct OutcomeRing {
  std::array<Outcome, N> slots{};
  std::size_t next = 0;
  bool find(const config::UserDef* u, const Digest& d) const {
    for (const auto& o : slots)
      if (o.user == u && CRYPTO_memcmp(o.digest.data(), d.data(), d.size()) == 0) return true;
    return false;
  }
  void add(const config::UserDef* u, const Digest& d) {
    slots[next] = Outcome{u, d};
    next = (next + 1) % N;
  }
};
struct ThreadCache {
  OutcomeRing<16> good;
  OutcomeRing<4> bad;
  std::size_t crypt_calls = 0;
  std::unique_ptr<crypt_data> data;  // ~32 KiB: allocated on a thread's first crypt
};
thread_local ThreadCache t_cache;

bool crypt_matches(const config::UserDef& u, std::string_view password) {
  ThreadCache& c = t_cache;
  Digest d;
  const bool have_digest = digest_of(password, d);
  if (have_digest) {
    if (c.good.find(&u, d)) return true;
    if (c.bad.find(&u, d)) return false;
  }
  if (!c.data) c.data = std::make_unique<crypt_data>();  // zeroed: crypt_r's first call
  ++c.crypt_calls;
  const char* got = crypt_r(password.data(), u.password.c_str(), c.data.get());
  // A setting crypt cannot use gives NULL or a string starting with '*'.
  const bool ok = got != nullptr && got[0] != '*' && same_bytes(got, u.password);
  if (have_digest && ok) c.good.add(&u, d);
  if (have_digest && !ok) c.bad.add(&u, d);
  return ok;
}

}  // namespace

bool parse_basic(std::string_view field, char* buf, std::size_t cap, BasicCredentials& out) {
  std::size_t sp = field.find_first_of(" \t");
  if (sp == std::string_view::npos || !equal_ci(field.substr(0, sp), "basic")) return false;
  std::string_view b64 = field.substr(sp);
  while (!b64.empty() && (b64.front() == ' ' || b64.front() == '\t')) b64.remove_prefix(1);
  while (!b64.empty() && (b64.back() == ' ' || b64.back() == '\t')) b64.remove_suffix(1);
  if (cap == 0) return false;
  std::size_t n = 0;
  if (!util::base64_decode(b64, buf, cap - 1, n)) return false;
  buf[n] = '\0';
  std::string_view plain(buf, n);
  std::size_t colon = plain.find(':');
  if (colon == std::string_view::npos) return false;
  out.user = plain.substr(0, colon);
  out.password = plain.substr(colon + 1);
  return true;
}

const config::UserDef* check_user(const config::UserlistDef& list, std::string_view user,
                                  std::string_view password) {
  const config::UserDef* u = list.find_user(user);
  if (u == nullptr || !u->has_password) return nullptr;
  // crypt_r reads up to a NUL: a password with a NUL inside must not pass as its prefix.
  if (password.find('\0') != std::string_view::npos) return nullptr;
  if (u->insecure) return same_bytes(password, u->password) ? u : nullptr;
  return crypt_matches(*u, password) ? u : nullptr;
}

bool user_in_groups(const config::UserDef& user, const std::vector<std::size_t>& groups) {
  for (std::size_t g : groups)
    if (std::binary_search(user.groups.begin(), user.groups.end(), g)) return true;
  return false;
}

std::size_t crypt_calls_this_thread() {
  return t_cache.crypt_calls;
}

}  // namespace sluice::acl
