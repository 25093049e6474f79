#pragma once
// The sample fetch table: one row per ACL criterion name. A row gives the
// argument shape, the output type, the matcher used when no -m is given and
// the implementation. HTTP fetches (hdr, path, ...) are rows too: add a file
// with its rows and list it in fetch_registry.cpp. A row without an
// implementation is a fetch Sluice knows but does not implement yet.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "acl/match.h"
#include "acl/sample.h"
#include "config/model.h"
#include "util/result.h"

namespace sluice::acl {

enum class ArgShape : std::uint8_t {
  None,          // src
  OptProxy,      // be_conn, be_conn(app)
  Server,        // srv_conn(app/web1)
  OptStrOptInt,  // hdr, hdr(host), hdr(host,-1): for the HTTP fetches
  Userlist,      // http_auth(L): the name of a userlist section
};

// Fetch arguments, parsed once at compile time; owned by the compiled ACL.
struct FetchArgs {
  std::string proxy;  // OptProxy / Server
  int proxy_id = 0;
  std::string server;  // Server
  int server_id = 0;
  std::string str;  // OptStrOptInt
  std::int64_t num = 0;
  bool has_num = false;
  // Userlist: the section (resolved with CompileOptions::model) and, for
  // http_auth_group in an ACL, the groups its patterns name.
  const config::UserlistDef* userlist = nullptr;
  std::vector<std::size_t> groups;
  bool groups_bound = false;

  ProxyRef proxy_ref() const { return ProxyRef{proxy, proxy_id}; }
  ServerRef server_ref() const { return ServerRef{proxy_ref(), server, server_id}; }
};

// Fill `out`; false when the sample is not available (the ACL does not match).
using FetchFn = bool (*)(const SampleSource&, const FetchArgs&, Sample& out);

struct FetchDef {
  std::string_view name;
  ArgShape args;
  SampleType out;
  MatchKind default_match;
  FetchFn fetch;  // nullptr: known, not implemented yet
  std::string_view doc;
  // A fetch whose ACL patterns are not values to compare but part of its
  // question (http_auth_group's group names): bound into the arguments once
  // at compile time; the ACL then matches when the fetch returns a sample.
  Result<void> (*bind_patterns)(FetchArgs&, const std::vector<std::string>&) = nullptr;
};

// Row groups, one per file (fetch_l4.cpp, ...).
std::span<const FetchDef> l4_fetches();
std::span<const FetchDef> http_fetches();
std::span<const FetchDef> auth_fetches();
std::span<const FetchDef> planned_fetches();

// nullptr when no row has that name.
const FetchDef* find_fetch(std::string_view name);
// The known name closest to `name`, for "did you mean"; empty if none is close.
std::string_view closest_fetch(std::string_view name);

// Parse the words inside fetch(...) according to the row's shape.
Result<FetchArgs> parse_fetch_args(const FetchDef& def, const std::vector<std::string>& words);

}  // namespace sluice::acl
