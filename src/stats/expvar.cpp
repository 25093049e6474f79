#include "stats/expvar.h"

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

namespace sluice::stats {
namespace {

nlohmann::json cmdline() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  nlohmann::json a = nlohmann::json::array();
  std::size_t at = 0;
  while (at < all.size()) {
    std::size_t end = all.find('\0', at);
    if (end == std::string::npos) end = all.size();
    a.push_back(all.substr(at, end - at));
    at = end + 1;
  }
  return a;
}

// Go's runtime.MemStats names, from what glibc and the kernel tell. The C
// heap has no collector: NumGC and the pause figures are 0. TotalAlloc is
// cumulative in Go; here it adds up every growth of the heap in use seen
// between two reads, so it never goes down.
nlohmann::json memstats() {
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
  nlohmann::json m;
  m["Alloc"] = in_use;
  m["TotalAlloc"] = total.load();
  m["Sys"] = resident_pages * page;
  m["HeapAlloc"] = in_use;
  m["HeapSys"] = heap_sys;
  m["HeapIdle"] = mi.fordblks;
  m["HeapInuse"] = in_use;
  m["HeapReleased"] = mi.keepcost;
  m["HeapObjects"] = 0;
  m["Mallocs"] = 0;
  m["Frees"] = 0;
  m["Lookups"] = 0;
  m["StackInuse"] = 0;
  m["StackSys"] = 0;
  m["OtherSys"] = size_pages * page > heap_sys ? size_pages * page - heap_sys : 0;
  m["NextGC"] = 0;
  m["LastGC"] = 0;
  m["PauseTotalNs"] = 0;
  m["NumGC"] = 0;
  m["NumForcedGC"] = 0;
  m["GCCPUFraction"] = 0.0;
  m["EnableGC"] = false;
  m["DebugGC"] = false;
  return m;
}

// The numeric columns of a row, by their CSV names.
nlohmann::json counters(const Row& r) {
  nlohmann::json o = nlohmann::json::object();
  auto cols = columns();
  for (std::size_t c = 0; c < cols.size(); ++c) {
    const Value& v = r.v[c];
    if (c == Pxname || c == Svname) continue;
    if (v.is == Value::Is::Num)
      o[std::string(cols[c].name)] = v.num;
    else if (v.is == Value::Is::Str && (c == Status || c == CheckStatus))
      o[std::string(cols[c].name)] = v.str;
  }
  return o;
}

}  // namespace

std::string expvar_json(const std::vector<Row>& rows, const ProcessInfo& p) {
  nlohmann::json doc;
  doc["cmdline"] = cmdline();
  doc["memstats"] = memstats();
  nlohmann::json s;
  s["version"] = p.version;
  s["uptime_seconds"] = p.now_wall_s - p.start_wall_s;
  s["start_time_seconds"] = p.start_wall_s;
  s["current_connections"] = p.current_connections;
  s["stopping"] = p.stopping;
  nlohmann::json proxies = nlohmann::json::object();
  for (const Row& r : rows) {
    nlohmann::json& px = proxies[r.v[Pxname].str];
    if (r.kind == Kind::Frontend)
      px["frontend"] = counters(r);
    else if (r.kind == Kind::Backend)
      px["backend"] = counters(r);
    else
      px["servers"][r.v[Svname].str] = counters(r);
  }
  s["proxies"] = std::move(proxies);
  doc["sluice"] = std::move(s);
  return doc.dump();
}

}  // namespace sluice::stats
