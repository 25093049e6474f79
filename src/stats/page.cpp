#include "stats/page.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace sluice::stats {
namespace {

void esc(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

std::string num(const Value& v) {
  if (v.is == Value::Is::Num) return std::to_string(v.num);
  if (v.is == Value::Is::Str) return v.str;
  return "";
}

// Bytes as an operator reads them: 1234567 -> "1.2 MB".
std::string bytes(const Value& v) {
  if (v.is != Value::Is::Num) return "";
  double b = static_cast<double>(v.num);
  const char* unit[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  char t[32];
  std::snprintf(t, sizeof t, u == 0 ? "%.0f %s" : "%.1f %s", b, unit[u]);
  return t;
}

std::string duration(std::int64_t s) {
  char t[48];
  if (s < 0) return "";
  if (s >= 86400)
    std::snprintf(t, sizeof t, "%lldd%lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  else if (s >= 3600)
    std::snprintf(t, sizeof t, "%lldh%lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  else if (s >= 60)
    std::snprintf(t, sizeof t, "%lldm%llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  else
    std::snprintf(t, sizeof t, "%llds", static_cast<long long>(s));
  return t;
}

// The CSS class of a row from its status text (HAProxy's legend colours).
std::string_view state_class(const Row& r) {
  std::string_view s = r.v[Status].str;
  if (r.kind == Kind::Frontend) return s == "OPEN" ? "up" : "down";
  if (s.substr(0, 5) == "MAINT") return "maint";
  if (s.substr(0, 5) == "DRAIN") return "drain";
  if (s.substr(0, 4) == "NOLB") return "nolb";
  if (s == "no check") return "nocheck";
  if (s.substr(0, 3) == "UP ") return "goingdown";
  if (s.substr(0, 5) == "DOWN ") return "goingup";
  if (s.substr(0, 2) == "UP") return "up";
  return "down";
}

constexpr std::string_view kStyle = R"(<style>
body{font-family:Arial,Helvetica,sans-serif;font-size:13px;margin:12px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px 0;color:#234}
h2{font-size:15px;margin:18px 0 4px 0;padding:3px 8px;background:#234;color:#fff;border-radius:3px 3px 0 0;display:inline-block}
.info{display:flex;gap:24px;flex-wrap:wrap;margin:6px 0 10px 0}
.info div{background:#f3f5f8;padding:6px 10px;border-radius:4px}
table.px{border-collapse:collapse;width:100%;margin-bottom:6px}
table.px th{background:#dde3ea;font-weight:normal;padding:3px 5px;border:1px solid #bbc;font-size:12px}
table.px td{padding:3px 5px;border:1px solid #ccd;text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.px td.name{text-align:left;font-weight:bold}
tr.frontend td{background:#e8eefc}tr.backend td{background:#dfe4ee;font-weight:bold}
tr.up td,.legend .up{background:#c0f0c0}tr.down td,.legend .down{background:#ff9f9f}tr.drain td,.legend .drain{background:#9fd0ff}
tr.maint td,.legend .maint{background:#d8b27a}tr.nolb td,.legend .nolb{background:#ffd98f}tr.goingdown td,.legend .goingdown{background:#ffe08f}
tr.goingup td,.legend .goingup{background:#f3ff9f}tr.nocheck td,.legend .nocheck{background:#e8e8e8}
span.st{padding:1px 5px;border-radius:3px;font-weight:bold}
.legend span{display:inline-block;padding:2px 8px;margin:2px;border:1px solid #aaa;border-radius:3px}
.msg{padding:6px 10px;margin:6px 0;border-radius:4px}.ok{background:#c0f0c0}.err{background:#ff9f9f}
form.admin{margin:4px 0 10px 0}
a{color:#235}
</style>)";

void legend(std::string& out, bool explain) {
  out += "<div class=\"legend\">";
  for (auto [cls, text] : {std::pair{"up", "UP"}, {"goingdown", "UP, going down"},
                           {"goingup", "DOWN, going up"}, {"down", "DOWN"},
                           {"nolb", "NOLB"}, {"drain", "DRAIN"},
                           {"maint", "MAINT (maintenance)"}, {"nocheck", "no check"}}) {
    out += "<span class=\"";
    out += cls;
    out += "\">";
    out += text;
    out += "</span>";
  }
  out += "</div>";
  if (explain)
    out += "<p class=\"explain\">Queue: requests waiting for a server (cur/max/limit). "
           "Sessions: cur/max/limit/total; LbTot: times the balancer picked the server. "
           "Errors: Req (bad requests), Conn (failed connects), Resp (bad responses). "
           "Warnings: Retr (retries), Redis (redispatches). Check: last status, its code "
           "and duration; History: the last check durations, oldest on the left. "
           "Chk/Dwn: failed checks and UP&rarr;DOWN transitions.</p>";
}

void cell(std::string& out, const std::string& v, const char* cls = nullptr) {
  out += cls ? "<td class=\"" : "<td";
  if (cls) {
    out += cls;
    out += '"';
  }
  out += '>';
  esc(out, v);
  out += "</td>";
}

void header_row(std::string& out, bool admin) {
  out += "<thead><tr>";
  if (admin) out += "<th rowspan=\"2\"></th>";
  out += "<th rowspan=\"2\">Name</th><th colspan=\"3\">Queue</th><th colspan=\"2\">Session "
         "rate</th><th colspan=\"5\">Sessions</th><th colspan=\"2\">Bytes</th><th "
         "colspan=\"2\">Denied</th><th colspan=\"3\">Errors</th><th "
         "colspan=\"2\">Warnings</th><th colspan=\"9\">Server</th></tr><tr>"
         "<th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th>"
         "<th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th>"
         "<th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th>"
         "<th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Check ms</th>"
         "<th>History</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th></tr>"
         "</thead>";
}

void data_row(std::string& out, const Row& r, const PageOptions& o, const HistoryFn& history,
              bool admin_col) {
  const auto& v = r.v;
  std::string_view cls = r.kind == Kind::Frontend  ? "frontend"
                         : r.kind == Kind::Backend ? "backend"
                                                   : state_class(r);
  out += "<tr class=\"";
  out += cls;
  out += "\" data-name=\"";
  esc(out, v[Svname].str);
  out += "\">";
  if (admin_col) {
    if (r.kind == Kind::Server) {
      out += "<td><input type=\"checkbox\" name=\"s\" value=\"";
      esc(out, v[Svname].str);
      out += "\"></td>";
    } else {
      out += "<td></td>";
    }
  }
  cell(out, v[Svname].str, "name");
  for (Col c : {Qcur, Qmax, Qlimit, Rate, RateMax, Scur, Smax, Slim, Stot, Lbtot}) cell(out, num(v[c]));
  cell(out, bytes(v[Bin]));
  cell(out, bytes(v[Bout]));
  for (Col c : {Dreq, Dresp, Ereq, Econ, Eresp, Wretr, Wredis}) cell(out, num(v[c]));
  // Status, with how long it has been so for servers and backends.
  std::string st = v[Status].str;
  if (r.kind != Kind::Frontend && v[Lastchg].is == Value::Is::Num)
    st = duration(v[Lastchg].num) + " " + st;
  cell(out, st);
  std::string chk = v[CheckStatus].str;
  if (v[CheckCode].is == Value::Is::Num) chk += " " + std::to_string(v[CheckCode].num);
  out += "<td title=\"";
  esc(out, v[LastChk].str);
  out += "\">";
  esc(out, chk);
  out += "</td>";
  cell(out, num(v[CheckDuration]));
  out += "<td>";
  if (r.kind == Kind::Server) out += sparkline(history(r.iid, r.sid));
  out += "</td>";
  for (Col c : {Weight, Act, Bck, Chkfail, Chkdown}) cell(out, num(v[c]));
  out += "</tr>";
  (void)o;
}

}  // namespace

std::string sparkline(const std::vector<std::int32_t>& ms) {
  if (ms.size() < 2) return "";
  const int w = 80, h = 18;
  std::int32_t hi = *std::max_element(ms.begin(), ms.end());
  if (hi <= 0) hi = 1;
  std::string pts;
  char t[32];
  for (std::size_t i = 0; i < ms.size(); ++i) {
    const double x = static_cast<double>(i) * (w - 2) / static_cast<double>(ms.size() - 1) + 1;
    const double y = h - 1 - static_cast<double>(std::max(0, ms[i])) * (h - 2) / hi;
    std::snprintf(t, sizeof t, "%s%.1f,%.1f", i ? " " : "", x, y);
    pts += t;
  }
  std::string out = "<svg class=\"spark\" width=\"80\" height=\"18\" viewBox=\"0 0 80 18\">";
  out += "<title>last " + std::to_string(ms.size()) + " checks, max " + std::to_string(hi) +
         " ms</title>";
  out += "<polyline fill=\"none\" stroke=\"#234\" stroke-width=\"1.2\" points=\"" + pts + "\"/>";
  out += "</svg>";
  return out;
}

std::string render_page(const std::vector<Row>& rows, const PageOptions& o,
                        const HistoryFn& history) {
  std::string out;
  append_page(out, rows, o, history);
  return out;
}

void append_page(std::string& out, const std::vector<Row>& rows, const PageOptions& o,
                 const HistoryFn& history) {
  out.reserve(out.size() + 4096 + rows.size() * 1024);
  out += "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Statistics Report</title>";
  out += kStyle;
  out += "</head><body><h1>Statistics Report";
  if (!o.hide_version) {
    out += " &mdash; Sluice ";
    esc(out, o.version);
  }
  out += "</h1><div class=\"info\"><div>uptime ";
  out += duration(o.now_wall_s - o.start_wall_s);
  out += "</div><div>current connections ";
  out += std::to_string(o.current_connections);
  out += "</div><div>";
  if (o.refresh_s)
    out += "refresh every " + std::to_string(o.refresh_s) + " s &middot; <a href=\"" + o.uri +
           ";norefresh\">stop refreshing</a>";
  else
    out += "<a href=\"" + o.uri + "\">refresh now</a>";
  out += "</div><div><a href=\"";
  esc(out, o.uri);
  out += ";csv\">CSV export</a> &middot; <a href=\"";
  esc(out, o.uri);
  out += ";json\">JSON export</a></div></div>";
  if (!o.message.empty()) {
    out += o.message_ok ? "<div class=\"msg ok\">" : "<div class=\"msg err\">";
    esc(out, o.message);
    out += "</div>";
  }
  legend(out, o.show_legends);
  // Proxies in snapshot order, each row with its proxy's id.
  std::size_t i = 0;
  while (i < rows.size()) {
    const int iid = rows[i].iid;
    std::size_t j = i;
    bool has_backend = false;
    while (j < rows.size() && rows[j].iid == iid) {
      has_backend = has_backend || rows[j].kind == Kind::Backend;
      ++j;
    }
    const bool admin = o.admin && has_backend;
    out += "<h2 id=\"";
    esc(out, rows[i].v[Pxname].str);
    out += "\">";
    esc(out, rows[i].v[Pxname].str);
    out += "</h2>";
    if (admin) {
      out += "<form class=\"admin\" method=\"post\" action=\"";
      esc(out, o.uri);
      out += "\">";
    }
    out += "<table class=\"px\">";
    header_row(out, admin);
    out += "<tbody>";
    for (std::size_t k = i; k < j; ++k) data_row(out, rows[k], o, history, admin);
    out += "</tbody></table>";
    if (admin) {
      out += "Selected servers: <select name=\"action\"><option value=\"\">choose an action"
             "</option><option value=\"ready\">set state to READY</option><option "
             "value=\"drain\">set state to DRAIN</option><option value=\"maint\">set state to "
             "MAINT</option></select><input type=\"hidden\" name=\"b\" value=\"#";
      out += std::to_string(iid);
      out += "\"> <input type=\"submit\" value=\"Apply\"></form>";
    }
    i = j;
  }
  out += "</body></html>\n";
}

}  // namespace sluice::stats
