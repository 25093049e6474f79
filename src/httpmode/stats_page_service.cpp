// The stats page as a service: Basic auth, the URI's ";csv", ";json",
// ";norefresh" and ";st=" options, the admin form's POST (HAProxy's
// fields: b=#<proxy id>, s=<server>..., action=ready|drain|maint, answered
// with a 303 to "<uri>;st=DONE|NONE|DENY|ERRP"), scope, and the HTML page.

#include <algorithm>
#include <ctime>
#include <map>

#include "http/parser.h"
#include "httpmode/services.h"
#include "stats/format.h"
#include "stats/page.h"
#include "util/base64.h"

namespace sluice::httpmode {
namespace {

bool authorized(const config::StatsPage& page, const ServiceRequest& rq) {
  if (page.auth.empty()) return true;
  if (rq.head == nullptr) return false;
  std::string_view v = rq.head->value("authorization");
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  if (v.size() < 6 || !http::iequals(v.substr(0, 6), "basic ")) return false;
  v.remove_prefix(6);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  const std::optional<std::string> cred = util::base64_decode(v);
  if (!cred) return false;
  for (const auto& a : page.auth)
    if (a == *cred) return true;
  return false;
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      auto hex = [](char c) {
        return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
      };
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) {
        out += s[i];
        continue;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The admin form's POST: "DONE", "NONE" (nothing selected), "ERRP" (bad
// parameters).
std::string_view apply_admin(const proxy::Directory& d, std::string_view body,
                             const stats::Sources& shown) {
  std::string be_ref, action;
  std::vector<std::string> names;
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view kv = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string k = url_decode(kv.substr(0, eq)), v = url_decode(kv.substr(eq + 1));
    if (k == "b")
      be_ref = v;
    else if (k == "action")
      action = v;
    else if (k == "s")
      names.push_back(v);
  }
  proxy::Backend* be = nullptr;
  for (auto* b : d.backends)
    if ((!be_ref.empty() && be_ref[0] == '#' && be_ref.substr(1) == std::to_string(b->def().id)) ||
        b->name() == be_ref)
      be = b;
  // Only a backend the page shows (`stats scope`).
  if (be != nullptr &&
      std::none_of(shown.proxies.begin(), shown.proxies.end(),
                   [&](const stats::ProxyEntry& e) { return e.be == be; }))
    be = nullptr;
  if (be == nullptr || (action != "ready" && action != "drain" && action != "maint"))
    return "ERRP";
  bool changed = false;
  for (const auto& n : names) {
    proxy::Server* s = be->find_server(n);
    if (s == nullptr) continue;
    using A = proxy::Backend::AdminState;
    be->set_server_admin(*s, action == "ready" ? A::Ready : action == "drain" ? A::Drain : A::Maint);
    changed = true;
  }
  return changed ? "DONE" : "NONE";
}

}  // namespace

ServiceWork prepare_stats_page(const config::Proxy& self, bool admin, const ServiceRequest& rq,
                               std::string& out) {
  const config::StatsPage& page = self.stats_page;
  if (!authorized(page, rq)) {
    std::string hdr = "www-authenticate: Basic realm=\"" + page.realm + "\"\r\n";
    http_response(out, 401, "text/html",
                  "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password "
                  "to access this content.\n</body></html>\n",
                  rq.keep_alive, hdr);
    return {{401, 0}, {}};
  }
  std::string_view rest = rq.target.substr(std::min(page.uri.size(), rq.target.size()));
  bool csv = false, json = false, norefresh = false, only_up = false, no_maint = false;
  std::string st;
  while (!rest.empty()) {
    auto semi = rest.find(';');
    std::string_view opt = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    if (opt == "csv") csv = true;
    else if (opt == "json") json = true;
    else if (opt == "norefresh") norefresh = true;
    else if (opt == "up") only_up = true;
    else if (opt == "no-maint") no_maint = true;
    else if (opt.substr(0, 3) == "st=") st = std::string(opt.substr(3));
  }
  if (rq.directory == nullptr) {
    http_response(out, 503, "text/plain", "no proxies\n", rq.keep_alive);
    return {{503, 0}, {}};
  }
  stats::Sources src = sources_of(*rq.directory);
  if (!page.scope.empty()) {
    std::erase_if(src.proxies, [&](const stats::ProxyEntry& e) {
      const std::string& n = e.fe ? e.fe->name() : e.be->name();
      for (const auto& s : page.scope)
        if (s == n || (s == "." && n == self.name)) return false;
      return true;
    });
  }
  if (rq.method == http::Method::Post) {
    std::string_view result = "DENY";
    if (admin) result = apply_admin(*rq.directory, rq.body, src);
    std::string hdr = "location: " + page.uri + ";st=" + std::string(result) + "\r\n";
    http_response(out, 303, "text/plain", "", rq.keep_alive, hdr);
    return {{303, 0}, {}};
  }
  if (rq.method != http::Method::Get && rq.method != http::Method::Head) {
    http_response(out, 405, "text/plain", "Method not allowed.\n", rq.keep_alive);
    return {{405, 0}, {}};
  }
  // The page itself reads every proxy and server: milliseconds with 1,000 servers.
  const config::StatsPage* pg = &page;
  const bool keep_alive = rq.keep_alive;
  ServiceJob job = [pg, src = std::move(src), admin, keep_alive, csv, json, norefresh, only_up,
                    no_maint, st = std::move(st)](std::string& resp) -> Served {
    const config::StatsPage& cfg = *pg;
    std::vector<stats::Row> rows = stats::snapshot(src);
    // ";up": servers UP (or going down) only; ";no-maint": servers in maintenance left resp.
    std::erase_if(rows, [&](const stats::Row& r) {
      if (r.kind != stats::Kind::Server) return false;
      const std::string& s = r.v[stats::Status].str;
      if (only_up && s.rfind("UP", 0) != 0 && s != "no check") return true;
      return no_maint && s.rfind("MAINT", 0) == 0;
    });
    if (csv) {
      begin_body(resp);
      resp += stats::csv_header();
      for (const auto& r : rows) stats::append_csv(resp, r);
      return finish_in_place(resp, 200, "text/plain", keep_alive);
    }
    if (json) {
      begin_body(resp);
      stats::append_json(resp, rows);
      resp += '\n';
      return finish_in_place(resp, 200, "application/json", keep_alive);
    }
    stats::PageOptions o;
    o.uri = cfg.uri;
    o.refresh_s = norefresh ? 0 : cfg.refresh_s;
    o.admin = admin;
    o.hide_version = cfg.hide_version;
    o.show_legends = cfg.show_legends;
    o.version = SLUICE_VERSION;
    o.now_wall_s = std::time(nullptr);
    o.start_wall_s = src.start_wall_s;
    for (const auto& e : src.proxies)
      if (e.fe) o.current_connections += e.fe->counters().cur.load(std::memory_order_relaxed);
    if (st == "DONE") o.message = "Action processed successfully.";
    else if (st == "NONE") o.message = "Nothing has changed.";
    else if (st == "DENY") o.message = "Action denied.", o.message_ok = false;
    else if (st == "ERRP") o.message = "Action not processed: invalid parameters.", o.message_ok = false;
    std::map<std::pair<int, int>, const proxy::Server*> by_id;
    for (const auto& e : src.proxies)
      if (e.be)
        for (const auto& s : e.be->published_servers())
          by_id[{e.be->def().id, s->def().id}] = s.get();
    auto history = [&](int iid, int sid) -> std::vector<std::int32_t> {
      auto it = by_id.find({iid, sid});
      return it == by_id.end() ? std::vector<std::int32_t>{} : it->second->check_history().read();
    };
    begin_body(resp);
    stats::append_page(resp, rows, o, history);
    std::string hdr;
    if (o.refresh_s) hdr = "refresh: " + std::to_string(o.refresh_s) + "\r\n";
    return finish_in_place(resp, 200, "text/html; charset=utf-8", keep_alive, hdr);
  };
  return {{}, std::move(job)};
}

Served serve_stats_page(const config::Proxy& self, bool admin, const ServiceRequest& rq,
                        std::string& out) {
  ServiceWork w = prepare_stats_page(self, admin, rq, out);
  return w.job ? w.job(out) : w.served;
}

}  // namespace sluice::httpmode
