// http_auth(USERLIST) and http_auth_group(USERLIST): the request's Basic
// credentials checked against a userlist (acl/auth.h). Only the first
// Authorization field counts, as in HAProxy.
#include <array>
#include <string>
#include <vector>

#include "acl/auth.h"
#include "acl/fetch.h"

namespace sluice::acl {

namespace {

// The user the request's credentials authenticate in a.userlist, or nullptr.
const config::UserDef* authenticated(const SampleSource& s, const FetchArgs& a) {
  if (a.userlist == nullptr) return nullptr;
  std::string_view field;
  if (!s.http_req_field("authorization", 0, field)) return nullptr;
  // A field longer than this cannot carry credentials worth checking.
  thread_local std::array<char, 4096> buf;
  BasicCredentials c;
  if (!parse_basic(field, buf.data(), buf.size(), c)) return nullptr;
  return check_user(*a.userlist, c.user, c.password);
}

bool fetch_http_auth(const SampleSource& s, const FetchArgs& a, Sample& out) {
  if (!s.http_method()) return false;
  out.type = SampleType::Bool;
  out.boolean = authenticated(s, a) != nullptr;
  return true;
}

// The user's name; in an ACL, only when the user is in one of its groups.
bool fetch_http_auth_group(const SampleSource& s, const FetchArgs& a, Sample& out) {
  const config::UserDef* u = authenticated(s, a);
  if (u == nullptr) return false;
  if (a.groups_bound && !user_in_groups(*u, a.groups)) return false;
  out.type = SampleType::Str;
  out.str = u->name;
  return true;
}

Result<void> bind_groups(FetchArgs& a, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return make_error("http_auth_group expects one or more group names");
  a.groups_bound = true;
  if (a.userlist == nullptr) return {};  // compiled without a model: never matches
  for (const std::string& g : patterns) {
    int i = a.userlist->find_group(g);
    if (i < 0) return make_error("no group '" + g + "' in userlist '" + a.userlist->name + "'");
    a.groups.push_back(static_cast<std::size_t>(i));
  }
  return {};
}

using enum ArgShape;
using T = SampleType;
using M = MatchKind;

const std::array kAuthFetches{
    FetchDef{"http_auth", Userlist, T::Bool, M::Bool, fetch_http_auth,
             "whether the Basic credentials are valid in a userlist"},
    FetchDef{"http_auth_group", Userlist, T::Str, M::Str, fetch_http_auth_group,
             "the authenticated user (ACL: member of one of the groups)", bind_groups},
};

}  // namespace

std::span<const FetchDef> auth_fetches() {
  return kAuthFetches;
}

}  // namespace sluice::acl
