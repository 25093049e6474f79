#include "stats/format.h"

#include <array>
#include <charconv>
#include <cstdio>

namespace sluice::stats {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x",
                        static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += b;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string_view tag_origin_name(char c) {
  switch (c) {
    case 'M':
      return "Metric";
    case 'S':
      return "Status";
    case 'K':
      return "Key";
    case 'C':
      return "Config";
    case 'P':
      return "Product";
  }
  return "Unknown";
}

std::string_view tag_nature_name(char c) {
  switch (c) {
    case 'A':
      return "Age";
    case 'a':
      return "Avg";
    case 'C':
      return "Counter";
    case 'D':
      return "Duration";
    case 'G':
      return "Gauge";
    case 'L':
      return "Limit";
    case 'M':
      return "Max";
    case 'N':
      return "Name";
    case 'O':
      return "Output";
    case 'R':
      return "Rate";
    case 'T':
      return "Time";
  }
  return "Unknown";
}

std::string_view tag_scope_name(char c) {
  switch (c) {
    case 'P':
      return "Process";
    case 'S':
      return "Service";
    case 's':
      return "System";
  }
  return "Unknown";
}

namespace {

void put_num(std::string& out, std::int64_t n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// CSV cell: quoted (quotes doubled) only when it holds a separator.
void put_csv_str(std::string& out, const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}


char kind_letter(Kind k) {
  return k == Kind::Frontend ? 'F' : k == Kind::Backend ? 'B' : 'S';
}
std::string_view kind_name(Kind k) {
  return k == Kind::Frontend ? "Frontend" : k == Kind::Backend ? "Backend" : "Server";
}


// The tags of column `c` for a row of kind `k` (falls back to any kind's).
std::string_view tags_of(const Column& col, Kind k) {
  std::string_view t = col.tags[static_cast<int>(k)];
  if (t.size() == 3) return t;
  for (auto x : col.tags)
    if (x.size() == 3) return x;
  return "MGP";
}

// What is the same in every field of one column and object kind, built once:
// the typed line between the server id and the value, and the JSON object
// around the ids and the value. A 1,000-server dump then appends a handful
// of ready pieces per field instead of formatting each tag name again.
struct Fragments {
  std::array<std::array<std::string, kColumnCount>, 3> typed;  // ".<pos>.<name>.1:<tags>:<type>:"
  std::array<std::array<std::string, kColumnCount>, 3> json;   // ',"field":...,"value":'
  std::array<std::string, 3> json_head;                        // '{"objType":"...","proxyId":'
};

const Fragments& fragments() {
  static const Fragments f = [] {
    Fragments x;
    const auto cols = columns();
    for (Kind k : {Kind::Frontend, Kind::Backend, Kind::Server}) {
      const auto ki = static_cast<std::size_t>(k);
      x.json_head[ki] =
          std::string("{\"objType\":\"") + std::string(kind_name(k)) + "\",\"proxyId\":";
      for (std::size_t i = 0; i < kColumnCount; ++i) {
        const std::string_view tags = tags_of(cols[i], k);
        std::string& t = x.typed[ki][i];
        t += '.';
        put_num(t, static_cast<std::int64_t>(i));
        t += '.';
        t += cols[i].name;
        t += ".1:";
        t += tags;
        t += ':';
        t += type_name(cols[i].type);
        t += ':';
        std::string& j = x.json[ki][i];
        j += ",\"field\":{\"pos\":";
        put_num(j, static_cast<std::int64_t>(i));
        j += ",\"name\":\"";
        j += cols[i].name;
        j += "\"},\"processNum\":1,\"tags\":{\"origin\":\"";
        j += tag_origin_name(tags[0]);
        j += "\",\"nature\":\"";
        j += tag_nature_name(tags[1]);
        j += "\",\"scope\":\"";
        j += tag_scope_name(tags[2]);
        j += "\"},\"value\":{\"type\":\"";
        j += type_name(cols[i].type);
        j += "\",\"value\":";
      }
    }
    return x;
  }();
  return f;
}

}  // namespace

std::string csv_header() {
  std::string h = "# ";
  for (const Column& c : columns()) {
    if (c.module && &c == &columns()[kProxyColumns]) h += "-,";
    h += c.name;
    h += ',';
  }
  h += '\n';
  return h;
}

void append_csv(std::string& out, const Row& r) {
  for (std::size_t i = 0; i < kColumnCount; ++i) {
    if (i == kProxyColumns) out += "-,";
    const Value& v = r.v[i];
    if (v.is == Value::Is::Num)
      put_num(out, v.num);
    else if (v.is == Value::Is::Str)
      put_csv_str(out, v.str);
    out += ',';
  }
  out += '\n';
}

std::string to_csv(const std::vector<Row>& rows) {
  std::string out = csv_header();
  out.reserve(out.size() + rows.size() * 400);
  for (const Row& r : rows) append_csv(out, r);
  return out;
}

void append_typed(std::string& out, const Row& r) {
  const auto& frag = fragments().typed[static_cast<std::size_t>(r.kind)];
  // "S.<iid>.<sid>": the same for every field of the row.
  std::string id(1, kind_letter(r.kind));
  id += '.';
  put_num(id, r.iid);
  id += '.';
  put_num(id, r.sid);
  out.reserve(out.size() + kColumnCount * 48);
  for (std::size_t i = 0; i < kColumnCount; ++i) {
    const Value& v = r.v[i];
    if (v.empty()) continue;
    out += id;
    out += frag[i];
    if (v.is == Value::Is::Num)
      put_num(out, v.num);
    else
      out += v.str;
    out += '\n';
  }
}

std::string to_json(const std::vector<Row>& rows) {
  std::string out;
  append_json(out, rows);
  return out;
}

void append_json(std::string& out, const std::vector<Row>& rows) {
  const Fragments& frag = fragments();
  // About 190 bytes per field and 80 fields per row; growth beyond is amortised.
  out.reserve(out.size() + 1 + rows.size() * 16 * 1024);
  out += '[';
  bool first_row = true;
  for (const Row& r : rows) {
    if (!first_row) out += ',';
    first_row = false;
    out += '[';
    const auto ki = static_cast<std::size_t>(r.kind);
    const std::string& head = frag.json_head[ki];
    // ',"id":<sid>' after the proxy id: the same for every field of the row.
    std::string id;
    put_num(id, r.iid);
    id += ",\"id\":";
    put_num(id, r.sid);
    bool first = true;
    for (std::size_t i = 0; i < kColumnCount; ++i) {
      const Value& v = r.v[i];
      if (v.empty()) continue;
      if (!first) out += ',';
      first = false;
      out += head;
      out += id;
      out += frag.json[ki][i];
      if (v.is == Value::Is::Num)
        put_num(out, v.num);
      else
        append_json_string(out, v.str);
      out += "}}";
    }
    out += ']';
  }
  out += ']';
}

}  // namespace sluice::stats
