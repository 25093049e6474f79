#include "ctl.h"

#include <algorithm>
#include <charconv>

namespace sluicectl {

namespace {
const std::string kEmpty;

std::vector<std::string> split_csv_line(std::string_view line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      out.emplace_back(line.substr(start));
      break;
    }
    out.emplace_back(line.substr(start, comma - start));
    start = comma + 1;
  }
  // Every line ends with a comma: drop the empty last field it makes.
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}
}  // namespace

const std::string& StatRow::get(const std::string& name) const {
  auto it = field.find(name);
  return it == field.end() ? kEmpty : it->second;
}

long StatRow::num(const std::string& name) const {
  const std::string& v = get(name);
  long n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  return ec == std::errc() ? n : 0;
}

std::optional<std::vector<StatRow>> parse_stat_csv(std::string_view text) {
  std::vector<std::string> names;
  std::vector<StatRow> rows;
  bool header = false;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.starts_with("# ")) {
      names = split_csv_line(line.substr(2));
      header = true;
      continue;
    }
    if (!header) continue;
    auto values = split_csv_line(line);
    StatRow r;
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i)
      r.field[names[i]] = values[i];
    rows.push_back(std::move(r));
  }
  if (!header) return std::nullopt;
  return rows;
}

bool server_up(const StatRow& r) {
  const std::string& s = r.get("status");
  return s == "UP" || s == "no check";
}

bool server_ready(const StatRow& r) {
  if (!server_up(r)) return false;
  // The effective weight reaches the configured (user) weight once a
  // slowstart ramp is over; uweight is absent in old outputs.
  if (r.get("uweight").empty()) return true;
  return r.num("weight") >= r.num("uweight");
}

std::vector<std::string> mark_unchecked_commands(const StatRow& r, const std::string& backend,
                                                 const std::string& server) {
  std::vector<std::string> out;
  const std::string target = "set server " + backend + "/" + server;
  if (!r.get("check_status").empty()) out.push_back(target + " health down");
  if (!r.get("agent_status").empty()) out.push_back(target + " agent down");
  return out;
}

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += '\'';
  return out;
}

std::string substitute(std::string_view tmpl, const std::string& backend, const std::string& server,
                       const std::string& addr, const std::string& port) {
  static const std::pair<std::string_view, int> keys[] = {
      {"{backend}", 0}, {"{server}", 1}, {"{addr}", 2}, {"{port}", 3}};
  const std::string* values[] = {&backend, &server, &addr, &port};
  std::string out;
  std::size_t i = 0;
  while (i < tmpl.size()) {
    bool done = false;
    if (tmpl[i] == '{') {
      for (auto& [key, idx] : keys) {
        if (tmpl.substr(i).starts_with(key)) {
          out += shell_quote(*values[idx]);
          i += key.size();
          done = true;
          break;
        }
      }
    }
    if (!done) out += tmpl[i++];
  }
  return out;
}

std::pair<std::string, std::string> split_addr(std::string_view addr) {
  if (addr.starts_with('[')) {
    std::size_t close = addr.find(']');
    if (close != std::string_view::npos) {
      std::string host(addr.substr(1, close - 1));
      std::string port;
      if (close + 1 < addr.size() && addr[close + 1] == ':') port = addr.substr(close + 2);
      return {host, port};
    }
  }
  std::size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos || addr.find(':') != colon) return {std::string(addr), ""};
  return {std::string(addr.substr(0, colon)), std::string(addr.substr(colon + 1))};
}

std::vector<std::string> split_list(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    std::size_t p = s.find(sep);
    std::string_view item = s.substr(0, p);
    if (!item.empty()) out.emplace_back(item);
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

Plan build_plan(const std::vector<StatRow>& rows, const std::string& backend,
                const std::vector<std::string>& only, int batch, int min_up) {
  Plan p;
  p.backend = backend;
  std::vector<PlanServer> all;
  bool found = false;
  for (const auto& r : rows) {
    if (r.get("pxname") != backend) continue;
    if (r.is_backend()) found = true;
    if (!r.is_server()) continue;
    PlanServer s;
    s.name = r.get("svname");
    auto [a, port] = split_addr(r.get("addr"));
    s.addr = a;
    s.port = port;
    s.status = r.get("status");
    s.up = server_up(r);
    if (s.up) ++p.up_now;
    all.push_back(std::move(s));
  }
  if (!found && all.empty()) {
    p.error = "no such backend '" + backend + "'";
    return p;
  }
  if (batch < 1) {
    p.error = "--batch must be at least 1";
    return p;
  }
  std::vector<PlanServer> chosen;
  if (only.empty()) {
    chosen = all;
  } else {
    for (const auto& name : only) {
      auto it =
          std::find_if(all.begin(), all.end(), [&](const PlanServer& s) { return s.name == name; });
      if (it == all.end()) {
        p.error = "no such server '" + backend + "/" + name + "'";
        return p;
      }
      chosen.push_back(*it);
    }
  }
  if (chosen.empty()) {
    p.error = "backend '" + backend + "' has no servers";
    return p;
  }
  p.min_up_during = p.up_now;
  for (std::size_t i = 0; i < chosen.size(); i += static_cast<std::size_t>(batch)) {
    std::vector<PlanServer> b(
        chosen.begin() + static_cast<long>(i),
        chosen.begin() +
            static_cast<long>(std::min(chosen.size(), i + static_cast<std::size_t>(batch))));
    int out = static_cast<int>(
        std::count_if(b.begin(), b.end(), [](const PlanServer& s) { return s.up; }));
    p.min_up_during = std::min(p.min_up_during, p.up_now - out);
    p.batches.push_back(std::move(b));
  }
  if (p.min_up_during < min_up) {
    p.error = "refusing to roll: only " + std::to_string(p.min_up_during) + " server(s) of '" +
              backend + "' would stay UP during a batch (" + std::to_string(p.up_now) +
              " UP now), --min-up is " + std::to_string(min_up);
  }
  return p;
}

std::string describe_plan(const Plan& p, std::string_view exec_tmpl) {
  std::string out = "plan for backend " + p.backend + ": " + std::to_string(p.batches.size()) +
                    " batch(es), " + std::to_string(p.up_now) + " server(s) UP now, at least " +
                    std::to_string(p.min_up_during) + " UP during the roll\n";
  int n = 1;
  for (const auto& b : p.batches) {
    out += "batch " + std::to_string(n++) + ":\n";
    for (const auto& s : b) {
      out += "  " + p.backend + "/" + s.name + " (" + s.addr + ":" + s.port + ", " + s.status +
             "): drain, wait for 0 sessions, maint, exec: " +
             substitute(exec_tmpl, p.backend, s.name, s.addr, s.port) + ", ready, wait for UP\n";
    }
  }
  return out;
}

}  // namespace sluicectl
