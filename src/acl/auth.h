#pragma once
// HTTP Basic credentials checked against a userlist (http_auth,
// http_auth_group). Passwords are clear text (`insecure-password`) or
// crypt(3) hashes, verified with libcrypt's crypt_r.
//
// A crypt hash costs milliseconds by design (SHA-512 crypt: 5000 rounds),
// and the check runs on the event loop of the request's thread. So each
// thread remembers its last few outcomes, keyed by the user and a salted
// SHA-256 of the password (never the password itself): a client sending the
// same credentials on every request pays for crypt once per thread, not per
// request. Userlists cannot change while the process runs, so an outcome
// never goes stale. HAProxy calls crypt() on every check instead.

#include <cstddef>
#include <string_view>

#include "config/model.h"

namespace sluice::acl {

struct BasicCredentials {
  std::string_view user;
  std::string_view password;
};

// Decodes the value of an Authorization field, "Basic <base64(user:pass)>"
// (scheme in any case, then blanks), into buf (NUL-terminated). False when
// the scheme is another one, the base64 is invalid, there is no ':' or it
// does not fit.
bool parse_basic(std::string_view field, char* buf, std::size_t cap, BasicCredentials& out);

// The user of `list` with that name whose password matches, or nullptr.
// `password` must be followed by a NUL (parse_basic's output is).
const config::UserDef* check_user(const config::UserlistDef& list, std::string_view user,
                                  std::string_view password);

// Whether `user` belongs to one of `groups` (indexes into the list's groups).
bool user_in_groups(const config::UserDef& user, const std::vector<std::size_t>& groups);

// How many crypt_r calls this thread made (tests check the cache with it).
std::size_t crypt_calls_this_thread();

}  // namespace sluice::acl
