#include "log/logformat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "log/logger.h"

namespace sluice::log {

namespace {

enum class V : std::uint8_t {
  ci, cp, fi, fp, fc, f, ft, b, s, si, sp, ST, r, HM, HP, HQ, HU, HV, Tt, Tq, TR, Tw, Tc, Tr,
  Ta, Th, Ti, Td, B, U, ac, bc, sc, rc, sq, bq, t, tr, trg, trl, T, Tl, Ts, ms, ts, tsc, pid,
  H, ID, hr, hs, CC, CS, rt,
};

struct VarDef {
  std::string_view name;
  V v;
};

constexpr std::array kVars{
    VarDef{"ci", V::ci},   VarDef{"cp", V::cp},   VarDef{"fi", V::fi},   VarDef{"fp", V::fp},
    VarDef{"fc", V::fc},   VarDef{"f", V::f},     VarDef{"ft", V::ft},   VarDef{"b", V::b},
    VarDef{"s", V::s},     VarDef{"si", V::si},   VarDef{"sp", V::sp},   VarDef{"ST", V::ST},
    VarDef{"r", V::r},     VarDef{"HM", V::HM},   VarDef{"HP", V::HP},   VarDef{"HQ", V::HQ},
    VarDef{"HU", V::HU},   VarDef{"HV", V::HV},   VarDef{"Tt", V::Tt},   VarDef{"Tq", V::Tq},
    VarDef{"TR", V::TR},   VarDef{"Tw", V::Tw},   VarDef{"Tc", V::Tc},   VarDef{"Tr", V::Tr},
    VarDef{"Ta", V::Ta},   VarDef{"Th", V::Th},   VarDef{"Ti", V::Ti},   VarDef{"Td", V::Td},
    VarDef{"B", V::B},     VarDef{"U", V::U},     VarDef{"ac", V::ac},   VarDef{"bc", V::bc},
    VarDef{"sc", V::sc},   VarDef{"rc", V::rc},   VarDef{"sq", V::sq},   VarDef{"bq", V::bq},
    VarDef{"t", V::t},     VarDef{"tr", V::tr},   VarDef{"trg", V::trg}, VarDef{"trl", V::trl},
    VarDef{"T", V::T},     VarDef{"Tl", V::Tl},   VarDef{"Ts", V::Ts},   VarDef{"ms", V::ms},
    VarDef{"ts", V::ts},   VarDef{"tsc", V::tsc}, VarDef{"pid", V::pid}, VarDef{"H", V::H},
    VarDef{"ID", V::ID},   VarDef{"hr", V::hr},   VarDef{"hs", V::hs},   VarDef{"CC", V::CC},
    VarDef{"CS", V::CS},   VarDef{"rt", V::rt},
};

// Variables that only an HTTP transaction has: an error in `mode tcp`, as in HAProxy.
constexpr std::array kHttpOnly{V::r,  V::HM, V::HP, V::HQ, V::HU,  V::HV,  V::Tq, V::TR,
                               V::Tr, V::Ta, V::Ti, V::tr, V::trg, V::trl, V::CC, V::CS};

// Known to HAProxy, not to Sluice yet.
constexpr std::array<std::string_view, 9> kPlannedVars{"hrl", "hsl", "sslc", "sslv", "lc",
                                                       "bi",  "bp",  "HPO",  "Tu"};

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void two(Line& l, int v) {
  l.put(static_cast<char>('0' + v / 10 % 10));
  l.put(static_cast<char>('0' + v % 10));
}

// "23/Nov/2026:08:36:03" + " +0000" (zone) for %T / %Tl / %trg / %trl.
void clf_date(Line& l, time_t sec, bool gmt) {
  tm t{};
  if (gmt)
    ::gmtime_r(&sec, &t);
  else
    ::localtime_r(&sec, &t);
  two(l, t.tm_mday);
  l.put('/');
  l.put(std::string_view(kMonths[t.tm_mon % 12], 3));
  l.put('/');
  l.num(t.tm_year + 1900);
  l.put(':');
  two(l, t.tm_hour);
  l.put(':');
  two(l, t.tm_min);
  l.put(':');
  two(l, t.tm_sec);
  l.put(' ');
  long off = gmt ? 0 : t.tm_gmtoff;
  l.put(off < 0 ? '-' : '+');
  if (off < 0) off = -off;
  two(l, static_cast<int>(off / 3600));
  two(l, static_cast<int>(off / 60 % 60));
}

// Text with HAProxy's '#XX' encoding of quotes, '#' and control bytes (%r).
void encoded(Line& l, std::string_view s) {
  for (unsigned char c : s) {
    if (c == '"' || c == '#' || c < 0x20 || c >= 0x7f) {
      l.put('#');
      l.put(kHex[c >> 4]);
      l.put(kHex[c & 15]);
    } else {
      l.put(static_cast<char>(c));
    }
  }
}

void escaped(Line& l, std::string_view s) {
  for (char c : s) {
    if (c == '"' || c == '\\' || c == ']') l.put('\\');
    l.put(c);
  }
}

// A string value with the piece's flags; empty or absent prints "-".
void str_out(Line& l, const LogFormat::Piece& p, std::string_view s, bool present = true) {
  if (!present || s.empty()) {
    if (p.quote && present) {
      l.put("\"\"");
      return;
    }
    l.put('-');
    return;
  }
  if (p.quote) l.put('"');
  if (p.escape)
    escaped(l, s);
  else
    l.put(s);
  if (p.quote) l.put('"');
}

void int_out(Line& l, const LogFormat::Piece& p, std::int64_t v) {
  if (p.hex && v >= 0) {
    char tmp[17];
    int n = 0;
    std::uint64_t u = static_cast<std::uint64_t>(v);
    do {
      tmp[16 - n++] = kHex[u & 15];
      u >>= 4;
    } while (u != 0);
    l.put(std::string_view(tmp + 17 - n, static_cast<std::size_t>(n)));
    return;
  }
  l.num(v);
}

// The parts of a request line "METHOD URI VERSION".
struct ReqLine {
  std::string_view method, uri, version;
};
ReqLine split_request_line(std::string_view r) {
  ReqLine out;
  auto sp1 = r.find(' ');
  if (sp1 == std::string_view::npos) return out;
  out.method = r.substr(0, sp1);
  std::string_view rest = r.substr(sp1 + 1);
  auto sp2 = rest.rfind(' ');
  if (sp2 == std::string_view::npos) {
    out.uri = rest;
    return out;
  }
  out.uri = rest.substr(0, sp2);
  out.version = rest.substr(sp2 + 1);
  return out;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Applies converters to `in`, writing into `buf`; returns the result view.
std::string_view convert(const std::vector<LogFormat::Converter>& convs, std::string_view in,
                         char* buf_a, char* buf_b, std::size_t cap) {
  std::string_view cur = in;
  char* bufs[2] = {buf_a, buf_b};
  int which = 0;
  for (const auto& c : convs) {
    char* o = bufs[which];
    which ^= 1;
    std::size_t n = 0;
    auto put = [&](char ch) {
      if (n < cap) o[n++] = ch;
    };
    switch (c.kind) {
      case LogFormat::Converter::Kind::Lower:
        for (char ch : cur) put(ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + 32) : ch);
        break;
      case LogFormat::Converter::Kind::Upper:
        for (char ch : cur) put(ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 32) : ch);
        break;
      case LogFormat::Converter::Kind::Hex:
        for (unsigned char ch : cur) {
          put(kHex[ch >> 4]);
          put(kHex[ch & 15]);
        }
        break;
      case LogFormat::Converter::Kind::Base64: {
        std::size_t i = 0;
        for (; i + 2 < cur.size(); i += 3) {
          unsigned v = (static_cast<unsigned char>(cur[i]) << 16) |
                       (static_cast<unsigned char>(cur[i + 1]) << 8) |
                       static_cast<unsigned char>(cur[i + 2]);
          put(kB64[v >> 18]);
          put(kB64[(v >> 12) & 63]);
          put(kB64[(v >> 6) & 63]);
          put(kB64[v & 63]);
        }
        if (i < cur.size()) {
          unsigned v = static_cast<unsigned char>(cur[i]) << 16;
          if (i + 1 < cur.size()) v |= static_cast<unsigned char>(cur[i + 1]) << 8;
          put(kB64[v >> 18]);
          put(kB64[(v >> 12) & 63]);
          put(i + 1 < cur.size() ? kB64[(v >> 6) & 63] : '=');
          put('=');
        }
        break;
      }
      case LogFormat::Converter::Kind::Json:
        for (unsigned char ch : cur) {
          if (ch == '"' || ch == '\\') {
            put('\\');
            put(static_cast<char>(ch));
          } else if (ch < 0x20) {
            put('\\');
            put('u');
            put('0');
            put('0');
            put(kHex[ch >> 4]);
            put(kHex[ch & 15]);
          } else {
            put(static_cast<char>(ch));
          }
        }
        break;
    }
    cur = std::string_view(o, n);
  }
  return cur;
}

void fetch_out(Line& l, const LogFormat::Piece& p, const LogContext& ctx) {
  acl::Sample s;
  if (!p.fetch || ctx.samples == nullptr || !p.fetch->fetch(*ctx.samples, s)) {
    if (!ctx.absent_is_empty) l.put('-');
    return;
  }
  char num[48];
  std::string_view text;
  switch (s.type) {
    case acl::SampleType::Bool:
      text = s.boolean ? "1" : "0";
      break;
    case acl::SampleType::Int: {
      auto r = std::to_chars(num, num + sizeof num, s.integer);
      text = std::string_view(num, static_cast<std::size_t>(r.ptr - num));
      break;
    }
    case acl::SampleType::Ip:
      if (::inet_ntop(s.ip.family, s.ip.bytes, num, sizeof num) == nullptr) {
        l.put('-');
        return;
      }
      text = num;
      break;
    case acl::SampleType::Str:
      text = s.str;
      break;
  }
  if (!p.converters.empty()) {
    char a[1024], b[1024];
    text = convert(p.converters, text, a, b, sizeof a);
    str_out(l, p, text);
    return;
  }
  str_out(l, p, text);
}

}  // namespace

void encode_capture(Line& out, std::string_view value) {
  for (unsigned char c : value) {
    if (c == '"' || c == '#' || c == '{' || c == '|' || c == '}' || c < 0x20 || c >= 0x7f) {
      out.put('#');
      out.put(kHex[c >> 4]);
      out.put(kHex[c & 15]);
    } else {
      out.put(static_cast<char>(c));
    }
  }
}

std::vector<std::string_view> logformat_variables() {
  std::vector<std::string_view> v;
  for (const auto& d : kVars) v.push_back(d.name);
  return v;
}

namespace {

// Splits "a(b,c),d" at top-level commas.
std::vector<std::string_view> split_top(std::string_view s) {
  std::vector<std::string_view> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(') ++depth;
    else if (s[i] == ')') --depth;
    else if (s[i] == ',' && depth == 0) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

Result<void> parse_call(std::string_view s, std::string& name, std::vector<std::string>& args) {
  auto open = s.find('(');
  if (open == std::string_view::npos) {
    name = std::string(s);
    return {};
  }
  if (s.back() != ')') return make_error("missing ')' in " + std::string(s));
  name = std::string(s.substr(0, open));
  std::string_view inner = s.substr(open + 1, s.size() - open - 2);
  if (inner.empty()) return {};
  for (auto a : split_top(inner)) args.emplace_back(a);
  return {};
}

}  // namespace

Result<LogFormat> LogFormat::compile(std::string_view text, FetchBinder* binder) {
  LogFormat lf;
  std::string lit;
  bool g_quote = false, g_hex = false, g_escape = false;  // %o
  auto flush_lit = [&] {
    if (lit.empty()) return;
    Piece p;
    p.text = std::move(lit);
    lit.clear();
    lf.pieces_.push_back(std::move(p));
  };
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '%') {
      lit.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '%') {
      lit.push_back('%');
      i += 2;
      continue;
    }
    ++i;
    Piece p;
    p.quote = g_quote;
    p.hex = g_hex;
    p.escape = g_escape;
    if (i < text.size() && text[i] == '{') {
      auto close = text.find('}', i);
      if (close == std::string_view::npos)
        return make_error("missing '}' after '%{' in log-format");
      std::string_view flags = text.substr(i + 1, close - i - 1);
      std::size_t k = 0;
      while (k < flags.size()) {
        if (flags[k] == ',') {
          ++k;
          continue;
        }
        char sign = flags[k];
        if ((sign != '+' && sign != '-') || k + 1 >= flags.size())
          return make_error("invalid log-format flags '%{" + std::string(flags) +
                            "}' (expected +Q, -Q, +X, +E)");
        bool on = sign == '+';
        char f = flags[k + 1];
        if (f == 'Q') p.quote = on;
        else if (f == 'X') p.hex = on;
        else if (f == 'E') p.escape = on;
        else
          return make_error("unknown log-format flag '" + std::string(1, sign) +
                            std::string(1, f) + "' (expected Q, X or E)");
        k += 2;
      }
      i = close + 1;
    }
    if (i < text.size() && text[i] == '[') {
      // %[fetch(args),conv,...]: the closing ']' outside parentheses.
      int depth = 0;
      std::size_t j = i + 1;
      for (; j < text.size(); ++j) {
        if (text[j] == '(') ++depth;
        else if (text[j] == ')') --depth;
        else if (text[j] == ']' && depth == 0) break;
      }
      if (j >= text.size()) return make_error("missing ']' after '%[' in log-format");
      std::string_view expr = text.substr(i + 1, j - i - 1);
      if (expr.empty()) return make_error("empty sample expression '%[]' in log-format");
      auto parts = split_top(expr);
      std::string name;
      std::vector<std::string> args;
      if (auto r = parse_call(parts[0], name, args); !r) return Error{r.error()};
      if (binder == nullptr)
        return make_error("sample fetch '%[" + std::string(expr) + "]' not allowed here");
      auto bound = binder->bind(name, args);
      if (!bound) return Error{bound.error()};
      p.fetch = std::move(*bound);
      for (std::size_t k = 1; k < parts.size(); ++k) {
        std::string cname;
        std::vector<std::string> cargs;
        if (auto r = parse_call(parts[k], cname, cargs); !r) return Error{r.error()};
        Converter cv{};
        if (cname == "lower") cv.kind = Converter::Kind::Lower;
        else if (cname == "upper") cv.kind = Converter::Kind::Upper;
        else if (cname == "hex") cv.kind = Converter::Kind::Hex;
        else if (cname == "base64") cv.kind = Converter::Kind::Base64;
        else if (cname == "json") cv.kind = Converter::Kind::Json;
        else
          return make_error("converter '" + cname +
                            "' is not implemented yet in Sluice (lower, upper, hex, base64 and "
                            "json are)");
        if (!cargs.empty() && cname != "json")
          return make_error("converter '" + cname + "' takes no argument");
        p.converters.push_back(cv);
      }
      p.kind = Piece::Kind::Fetch;
      flush_lit();
      lf.pieces_.push_back(std::move(p));
      i = j + 1;
      continue;
    }
    std::size_t start = i;
    while (i < text.size() && is_alpha(text[i])) ++i;
    std::string_view name = text.substr(start, i - start);
    if (name.empty())
      return make_error("a log-format variable name must follow '%' (use '%%' for '%')");
    if (name == "o") {
      g_quote = p.quote;
      g_hex = p.hex;
      g_escape = p.escape;
      continue;
    }
    const VarDef* def = nullptr;
    for (const auto& d : kVars)
      if (d.name == name) def = &d;
    if (def == nullptr) {
      for (auto planned : kPlannedVars)
        if (planned == name)
          return make_error("log-format variable '%" + std::string(name) +
                            "' is not implemented yet in Sluice");
      return make_error("unknown log-format variable '%" + std::string(name) + "'");
    }
    p.kind = Piece::Kind::Var;
    p.var = static_cast<std::uint8_t>(def->v);
    flush_lit();
    lf.pieces_.push_back(std::move(p));
  }
  flush_lit();
  return lf;
}

bool LogFormat::is_literal() const {
  for (const auto& p : pieces_)
    if (p.kind != Piece::Kind::Text) return false;
  return true;
}

std::string_view LogFormat::literal() const {
  return pieces_.size() == 1 && pieces_[0].kind == Piece::Kind::Text ? pieces_[0].text
                                                                     : std::string_view();
}

std::string_view LogFormat::http_only_variable() const {
  for (const auto& p : pieces_) {
    if (p.kind != Piece::Kind::Var) continue;
    const V v = static_cast<V>(p.var);
    if (std::find(kHttpOnly.begin(), kHttpOnly.end(), v) == kHttpOnly.end()) continue;
    for (const auto& d : kVars)
      if (d.v == v) return d.name;
  }
  return {};
}

void LogFormat::write(const LogContext& ctx, Line& l) const {
  static const HttpLogFields kNone{};
  const HttpLogFields& f = ctx.http != nullptr ? *ctx.http : kNone;
  const timeval accept = ctx.accept_time.tv_sec != 0 ? ctx.accept_time : f.request_time;
  for (const Piece& p : pieces_) {
    if (p.kind == Piece::Kind::Text) {
      l.put(p.text);
      continue;
    }
    if (p.kind == Piece::Kind::Fetch) {
      fetch_out(l, p, ctx);
      continue;
    }
    const ReqLine rl = split_request_line(f.request_line);
    auto total = [&]() -> std::int64_t { return f.ta + std::max<std::int64_t>(ctx.idle, 0); };
    auto tq = [&]() -> std::int64_t {
      return f.treq < 0 ? -1 : f.treq + std::max<std::int64_t>(ctx.idle, 0);
    };
    switch (static_cast<V>(p.var)) {
      case V::ci: str_out(l, p, f.client_addr); break;
      case V::cp: int_out(l, p, f.client_port); break;
      case V::fi: str_out(l, p, ctx.frontend_addr); break;
      case V::fp:  // no address (UNIX socket): "-"
        if (ctx.frontend_addr.empty()) l.put('-');
        else int_out(l, p, ctx.frontend_port);
        break;
      case V::fc: int_out(l, p, f.feconn); break;
      case V::f:
      case V::ft: str_out(l, p, f.frontend); break;
      case V::b: str_out(l, p, f.backend); break;
      case V::s: str_out(l, p, f.server.empty() ? std::string_view("<NOSRV>") : f.server); break;
      case V::si: str_out(l, p, ctx.server_addr); break;
      case V::sp:
        if (ctx.server_addr.empty()) l.put('-');
        else int_out(l, p, ctx.server_port);
        break;
      case V::ST: int_out(l, p, f.status); break;
      case V::r:
        if (p.quote) l.put('"');
        encoded(l, f.request_line.empty() ? std::string_view("<BADREQ>") : f.request_line);
        if (p.quote) l.put('"');
        break;
      case V::HM: str_out(l, p, rl.method); break;
      case V::HU: str_out(l, p, rl.uri); break;
      case V::HP: str_out(l, p, rl.uri.substr(0, rl.uri.find('?'))); break;
      case V::HQ: {
        auto q = rl.uri.find('?');
        if (q != std::string_view::npos) str_out(l, p, rl.uri.substr(q));  // none: nothing
        break;
      }
      case V::HV: str_out(l, p, rl.version); break;
      case V::Tt: int_out(l, p, total()); break;
      case V::Tq: int_out(l, p, tq()); break;
      case V::TR: int_out(l, p, f.treq); break;
      case V::Tw: int_out(l, p, f.tw); break;
      case V::Tc: int_out(l, p, f.tc); break;
      case V::Tr: int_out(l, p, f.tr); break;
      case V::Ta: int_out(l, p, f.ta); break;
      case V::Th: int_out(l, p, 0); break;
      case V::Ti: int_out(l, p, ctx.idle); break;
      case V::Td: {
        std::int64_t d = -1;
        if (ctx.tcp) {  // the data phase: after the connection was set up
          if (f.tc >= 0) d = total() - std::max<std::int64_t>(f.tw, 0) - f.tc;
        } else if (tq() >= 0 && f.tw >= 0 && f.tc >= 0 && f.tr >= 0)
          d = total() - (tq() + f.tw + f.tc + f.tr);
        int_out(l, p, d);
        break;
      }
      case V::B: int_out(l, p, static_cast<std::int64_t>(f.bytes_read)); break;
      case V::U: int_out(l, p, static_cast<std::int64_t>(ctx.bytes_uploaded)); break;
      case V::ac: int_out(l, p, f.actconn); break;
      case V::bc: int_out(l, p, f.beconn); break;
      case V::sc: int_out(l, p, f.srv_conn); break;
      case V::rc:
        if (f.redispatched) l.put('+');
        int_out(l, p, f.retries);
        break;
      case V::sq: int_out(l, p, f.srv_queue); break;
      case V::bq: int_out(l, p, f.backend_queue); break;
      case V::t:
      case V::tr: {
        char date[kAcceptDateLen];
        const timeval& tv = static_cast<V>(p.var) == V::t ? accept : f.request_time;
        if (p.quote) l.put('"');
        l.put(std::string_view(date, format_accept_date(tv, date)));
        if (p.quote) l.put('"');
        break;
      }
      case V::T:
      case V::Tl:
      case V::trg:
      case V::trl: {
        V v = static_cast<V>(p.var);
        const timeval& tv = v == V::T || v == V::Tl ? accept : f.request_time;
        if (p.quote) l.put('"');
        clf_date(l, tv.tv_sec, v == V::T || v == V::trg);
        if (p.quote) l.put('"');
        break;
      }
      case V::Ts: int_out(l, p, accept.tv_sec); break;
      case V::ms: {
        int ms = static_cast<int>(accept.tv_usec / 1000);
        l.put(static_cast<char>('0' + ms / 100 % 10));
        two(l, ms % 100);
        break;
      }
      case V::ts: str_out(l, p, std::string_view(f.termination, 2)); break;
      case V::tsc: str_out(l, p, std::string_view(f.termination, 4)); break;
      case V::pid: {
        static const pid_t pid = ::getpid();  // after daemonising: the first line
        int_out(l, p, pid);
        break;
      }
      case V::H: str_out(l, p, ctx.hostname); break;
      case V::ID: str_out(l, p, ctx.unique_id); break;
      case V::hr:
        if (p.quote) l.put('"');
        l.put(ctx.req_captures);
        if (p.quote) l.put('"');
        break;
      case V::hs:
        if (p.quote) l.put('"');
        l.put(ctx.res_captures);
        if (p.quote) l.put('"');
        break;
      case V::CC:
      case V::CS: str_out(l, p, {}, false); break;
      case V::rt: int_out(l, p, static_cast<std::int64_t>(ctx.request_counter)); break;
    }
  }
}

}  // namespace sluice::log
