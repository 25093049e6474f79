#include "stats/expvar.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <string_view>
#include <utility>

#include "stats/format.h"

namespace sluice::stats {
namespace {

// The document is written directly, in the bytes nlohmann::json::dump() gave
// (object keys in byte order, no spaces, its string escapes): building a DOM
// of every field of 1,000 servers cost 10 ms of the loop.

void put_int(std::string& out, std::int64_t n) {
  char b[24];
  auto r = std::to_chars(b, b + sizeof b, n);
  out.append(b, static_cast<std::size_t>(r.ptr - b));
}


void put_key(std::string& out, std::string_view k) {
  append_json_string(out, k);
  out += ':';
}

void cmdline(std::string& out) {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  out += '[';
  std::size_t at = 0;
  while (at < all.size()) {
    std::size_t end = all.find('\0', at);
    if (end == std::string::npos) end = all.size();
    if (at != 0) out += ',';
    append_json_string(out, std::string_view(all).substr(at, end - at));
    at = end + 1;
  }
  out += ']';
}

// Go's runtime.MemStats names, from what glibc and the kernel tell. The C
// heap has no collector: NumGC and the pause figures are 0. TotalAlloc is
// cumulative in Go; here it adds up every growth of the heap in use seen
// between two reads, so it never goes down.
void memstats(std::string& out) {
  struct mallinfo2 mi = ::mallinfo2();
  std::uint64_t size_pages = 0, resident_pages = 0, data_pages = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long long a = 0, b = 0, shared = 0, text = 0, lib = 0, data = 0;
    if (std::fscanf(f, "%llu %llu %llu %llu %llu %llu", &a, &b, &shared, &text, &lib, &data) >= 2) {
      size_pages = a;
      resident_pages = b;
      data_pages = data;
    }
    std::fclose(f);
  }
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  std::uint64_t in_use = mi.uordblks + mi.hblkhd;
  std::uint64_t heap_sys = mi.arena + mi.hblkhd;
  // Another allocator in front of glibc's (a sanitizer, jemalloc) leaves
  // mallinfo2 empty: the data segment is the nearest figure then.
  if (in_use == 0) in_use = heap_sys = data_pages * page;
  static std::atomic<std::uint64_t> last_in_use{0}, total{0};
  const std::uint64_t prev = last_in_use.exchange(in_use);
  if (in_use > prev) total.fetch_add(in_use - prev);
  const std::uint64_t other = size_pages * page > heap_sys ? size_pages * page - heap_sys : 0;
  // Values as JSON text; written in key order.
  auto u = [](std::uint64_t v) { return std::to_string(v); };
  std::array<std::pair<std::string_view, std::string>, 23> m = {{
      {"Alloc", u(in_use)},
      {"TotalAlloc", u(total.load())},
      {"Sys", u(resident_pages * page)},
      {"HeapAlloc", u(in_use)},
      {"HeapSys", u(heap_sys)},
      {"HeapIdle", u(mi.fordblks)},
      {"HeapInuse", u(in_use)},
      {"HeapReleased", u(mi.keepcost)},
      {"HeapObjects", "0"},
      {"Mallocs", "0"},
      {"Frees", "0"},
      {"Lookups", "0"},
      {"StackInuse", "0"},
      {"StackSys", "0"},
      {"OtherSys", u(other)},
      {"NextGC", "0"},
      {"LastGC", "0"},
      {"PauseTotalNs", "0"},
      {"NumGC", "0"},
      {"NumForcedGC", "0"},
      {"GCCPUFraction", "0.0"},
      {"EnableGC", "false"},
      {"DebugGC", "false"},
  }};
  std::sort(m.begin(), m.end());
  out += '{';
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (i) out += ',';
    put_key(out, m[i].first);
    out += m[i].second;
  }
  out += '}';
}

// Column positions in the byte order of their names: the key order of a row's object.
const std::vector<std::size_t>& columns_by_name() {
  static const std::vector<std::size_t> order = [] {
    auto cols = columns();
    std::vector<std::size_t> o(cols.size());
    for (std::size_t i = 0; i < o.size(); ++i) o[i] = i;
    std::sort(o.begin(), o.end(),
              [&](std::size_t a, std::size_t b) { return cols[a].name < cols[b].name; });
    return o;
  }();
  return order;
}

// The numeric columns of a row, by their CSV names (and its status texts).
void counters(std::string& out, const Row& r) {
  auto cols = columns();
  out += '{';
  bool first = true;
  for (std::size_t c : columns_by_name()) {
    const Value& v = r.v[c];
    if (c == Pxname || c == Svname) continue;
    const bool num = v.is == Value::Is::Num;
    if (!num && !(v.is == Value::Is::Str && (c == Status || c == CheckStatus))) continue;
    if (!first) out += ',';
    first = false;
    put_key(out, cols[c].name);
    if (num)
      put_int(out, v.num);
    else
      append_json_string(out, v.str);
  }
  out += '}';
}

struct ProxyRows {
  const Row* frontend = nullptr;
  const Row* backend = nullptr;
  std::map<std::string_view, const Row*> servers;
};

}  // namespace

std::string expvar_json(const std::vector<Row>& rows, const ProcessInfo& p) {
  // A later row of the same name replaces an earlier one, as keys of a JSON object.
  std::map<std::string_view, ProxyRows> proxies;
  for (const Row& r : rows) {
    ProxyRows& px = proxies[r.v[Pxname].str];
    if (r.kind == Kind::Frontend)
      px.frontend = &r;
    else if (r.kind == Kind::Backend)
      px.backend = &r;
    else
      px.servers[r.v[Svname].str] = &r;
  }
  std::string out;
  out.reserve(4096 + rows.size() * 1024);
  out += "{\"cmdline\":";
  cmdline(out);
  out += ",\"memstats\":";
  memstats(out);
  out += ",\"sluice\":{\"current_connections\":";
  put_int(out, p.current_connections);
  out += ",\"proxies\":{";
  bool first_px = true;
  for (const auto& [name, px] : proxies) {
    if (!first_px) out += ',';
    first_px = false;
    put_key(out, name);
    out += '{';
    bool first = true;
    auto member = [&](std::string_view key) {
      if (!first) out += ',';
      first = false;
      put_key(out, key);
    };
    if (px.backend) {
      member("backend");
      counters(out, *px.backend);
    }
    if (px.frontend) {
      member("frontend");
      counters(out, *px.frontend);
    }
    if (!px.servers.empty()) {
      member("servers");
      out += '{';
      bool first_sv = true;
      for (const auto& [sv, row] : px.servers) {
        if (!first_sv) out += ',';
        first_sv = false;
        put_key(out, sv);
        counters(out, *row);
      }
      out += '}';
    }
    out += '}';
  }
  out += "},\"start_time_seconds\":";
  put_int(out, p.start_wall_s);
  out += ",\"stopping\":";
  out += p.stopping ? "true" : "false";
  out += ",\"uptime_seconds\":";
  put_int(out, p.now_wall_s - p.start_wall_s);
  out += ",\"version\":";
  append_json_string(out, p.version);
  out += "}}";
  return out;
}

}  // namespace sluice::stats
