// `userlist` sections: `user NAME [password HASH | insecure-password PASS]
// [groups G,...]` and `group NAME [users U,...]`, their cross references, and
// the userlists named by http_auth / http_auth_group ACLs.

#include <crypt.h>

#include <algorithm>
#include <string>
#include <vector>

#include "config/kw_util.h"
#include "config/parser.h"

namespace sluice::config {
namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t c = s.find(',', start);
    if (c == std::string::npos) c = s.size();
    if (c > start) out.push_back(s.substr(start, c - start));  // "a,,b": empty items skipped
    start = c + 1;
  }
  return out;
}

std::string where(const SourceLoc& l) {
  return l.file + ":" + std::to_string(l.line);
}

bool is_auth_fetch(const std::string& f) {
  return f == "http_auth" || f == "http_auth_group";
}

}  // namespace

namespace kw {

Result<void> userlist_user(Parser& p, const Stmt& st) {
  if (st.args.empty()) return make_error("'user' expects a user name");
  UserlistDef& ul = p.userlist_section();
  UserDef u;
  u.name = st.args[0];
  u.loc = p.loc();
  for (std::size_t i = 1; i < st.args.size(); i += 2) {
    const std::string& opt = st.args[i];
    if (opt != "password" && opt != "insecure-password" && opt != "groups")
      return make_error("unknown option " + quote(opt) +
                        " (expected 'password', 'insecure-password' or 'groups')");
    if (i + 1 >= st.args.size()) return make_error(quote(opt) + " expects a value");
    const std::string& v = st.args[i + 1];
    if (opt == "groups") {
      for (auto& g : split_commas(v)) u.group_names.push_back(std::move(g));
      continue;
    }
    if (u.has_password)
      p.warn("user", "user " + quote(u.name) + " has two passwords; the last one is used");
    u.has_password = true;
    u.insecure = opt == "insecure-password";
    u.password = v;
    if (!u.insecure) {
      // crypt(3) fails on a setting it cannot use; the user could never log in.
      int ok = crypt_checksalt(v.c_str());
      if (ok == CRYPT_SALT_INVALID || ok == CRYPT_SALT_METHOD_DISABLED)
        p.warn("user", "the password of user " + quote(u.name) +
                           " is not a crypt(3) hash this system supports; it can never match");
    }
  }
  if (!u.has_password)
    p.warn("user", "user " + quote(u.name) + " has no password and can never authenticate");
  if (ul.find_user(u.name) != nullptr) {
    // HAProxy keeps the first definition and warns.
    p.warn("user", "user " + quote(u.name) + " is already defined in userlist " + quote(ul.name) +
                       " at " + where(ul.find_user(u.name)->loc) + "; this one is ignored");
    return {};
  }
  ul.users.push_back(std::move(u));
  return {};
}

Result<void> userlist_group(Parser& p, const Stmt& st) {
  if (st.args.empty()) return make_error("'group' expects a group name");
  if (st.args.size() > 1 && st.args[1] != "users")
    return make_error("unknown option " + quote(st.args[1]) + " (expected 'users')");
  if (st.args.size() > 3)
    return make_error("unexpected argument " + quote(st.args[3]) +
                      " (the user names are one comma-separated word)");
  UserlistDef& ul = p.userlist_section();
  GroupDef g;
  g.name = st.args[0];
  g.loc = p.loc();
  if (st.args.size() == 3) g.user_names = split_commas(st.args[2]);
  int dup = ul.find_group(g.name);
  if (dup >= 0) {
    p.warn("group", "group " + quote(g.name) + " is already defined in userlist " + quote(ul.name) +
                        " at " + where(ul.groups[dup].loc) + "; this one is ignored");
    return {};
  }
  ul.groups.push_back(std::move(g));
  return {};
}

}  // namespace kw

void resolve_userlists(Model& m, std::vector<Diagnostic>& errors) {
  for (UserlistDef& ul : m.userlists) {
    auto names = [](const auto& items) {
      std::vector<std::string_view> out;
      for (const auto& it : items) out.push_back(it.name);
      return out;
    };
    for (UserDef& u : ul.users) {
      for (const std::string& gn : u.group_names) {
        int gi = ul.find_group(gn);
        if (gi < 0) {
          errors.push_back(Diagnostic{u.loc, "user",
                                      "userlist " + quote(ul.name) + ": user " + quote(u.name) +
                                          " names unknown group " + quote(gn) +
                                          did_you_mean(gn, names(ul.groups))});
          continue;
        }
        u.groups.push_back(static_cast<std::size_t>(gi));
      }
    }
    for (std::size_t gi = 0; gi < ul.groups.size(); ++gi) {
      const GroupDef& g = ul.groups[gi];
      for (const std::string& un : g.user_names) {
        auto it = std::find_if(ul.users.begin(), ul.users.end(),
                               [&](const UserDef& u) { return u.name == un; });
        if (it == ul.users.end()) {
          errors.push_back(Diagnostic{g.loc, "group",
                                      "userlist " + quote(ul.name) + ": group " + quote(g.name) +
                                          " names unknown user " + quote(un) +
                                          did_you_mean(un, names(ul.users))});
          continue;
        }
        it->groups.push_back(gi);
      }
    }
    for (UserDef& u : ul.users) {
      std::sort(u.groups.begin(), u.groups.end());
      u.groups.erase(std::unique(u.groups.begin(), u.groups.end()), u.groups.end());
    }
  }
}

void check_auth_acls(const Proxy& p, const Model& m, std::vector<Diagnostic>& errors) {
  auto check = [&](const AclDef& d) {
    if (!is_auth_fetch(d.fetch) || d.fetch_args.size() != 1) return;
    const std::string& name = d.fetch_args[0];
    const UserlistDef* ul = m.find_userlist(name);
    if (ul == nullptr) {
      std::vector<std::string_view> names;
      for (const auto& u : m.userlists) names.push_back(u.name);
      errors.push_back(Diagnostic{d.loc, d.fetch,
                                  "unknown userlist " + quote(name) + did_you_mean(name, names)});
      return;
    }
    if (d.fetch != "http_auth_group") return;
    for (const std::string& g : d.patterns) {
      if (ul->find_group(g) >= 0) continue;
      std::vector<std::string_view> names;
      for (const auto& gr : ul->groups) names.push_back(gr.name);
      errors.push_back(Diagnostic{
          d.loc, d.fetch,
          "unknown group " + quote(g) + " in userlist " + quote(name) + did_you_mean(g, names)});
    }
  };
  for (const auto& named : p.acls)
    for (const auto& d : named.defs) check(d);
  for (const auto& d : p.anonymous_acls) check(d);
}

}  // namespace sluice::config
