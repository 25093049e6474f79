// Where fetch rows are found. A new group of fetches is one file with its
// rows plus one line in kGroups; implemented rows shadow planned ones.
#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <vector>

#include "acl/fetch.h"

namespace sluice::acl {

namespace {

using Group = std::span<const FetchDef> (*)();
constexpr std::array<Group, 4> kGroups{l4_fetches, http_fetches, auth_fetches, planned_fetches};

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

Result<void> split_proxy_server(const std::string& word, FetchArgs& out) {
  const auto slash = word.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == word.size())
    return make_error("expected <backend>/<server>, got '" + word + "'");
  out.proxy = word.substr(0, slash);
  out.server = word.substr(slash + 1);
  return {};
}

}  // namespace

const FetchDef* find_fetch(std::string_view name) {
  for (auto group : kGroups)
    for (const auto& def : group())
      if (def.name == name) return &def;
  return nullptr;
}

std::string_view closest_fetch(std::string_view name) {
  std::string_view best;
  std::size_t best_d = std::max<std::size_t>(2, name.size() / 3) + 1;
  for (auto group : kGroups) {
    for (const auto& def : group()) {
      const auto d = edit_distance(name, def.name);
      if (d < best_d) {
        best_d = d;
        best = def.name;
      }
    }
  }
  return best;
}

Result<FetchArgs> parse_fetch_args(const FetchDef& def, const std::vector<std::string>& words) {
  FetchArgs args;
  const std::string name(def.name);
  switch (def.args) {
    case ArgShape::None:
      if (!words.empty()) return make_error("fetch '" + name + "' takes no argument");
      break;
    case ArgShape::OptProxy:
      if (words.size() > 1) return make_error("fetch '" + name + "' takes at most one argument");
      if (!words.empty()) args.proxy = words[0];
      break;
    case ArgShape::Server: {
      if (words.size() != 1)
        return make_error("fetch '" + name + "' expects one argument <backend>/<server>");
      auto r = split_proxy_server(words[0], args);
      if (!r) return make_error("fetch '" + name + "': " + r.error());
      break;
    }
    case ArgShape::OptStrOptInt:
      if (words.size() > 2) return make_error("fetch '" + name + "' takes at most two arguments");
      if (!words.empty()) args.str = words[0];
      if (words.size() == 2) {
        auto [p, ec] =
            std::from_chars(words[1].data(), words[1].data() + words[1].size(), args.num);
        if (ec != std::errc() || p != words[1].data() + words[1].size())
          return make_error("fetch '" + name + "': '" + words[1] + "' is not an integer");
        args.has_num = true;
      }
      break;
    case ArgShape::Userlist:
      if (words.size() != 1 || words[0].empty())
        return make_error("fetch '" + name + "' expects the name of a userlist");
      args.str = words[0];
      break;
  }
  return args;
}

}  // namespace sluice::acl
