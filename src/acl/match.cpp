#include "acl/match.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>

#include "acl/regex.h"

namespace sluice::acl {

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

bool equal_n(const char* a, const char* b, std::size_t n, bool icase) {
  if (!icase) return std::memcmp(a, b, n) == 0;
  for (std::size_t i = 0; i < n; ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string folded(std::string_view s, bool icase) {
  std::string out(s);
  if (icase)
    for (auto& c : out) c = lower(c);
  return out;
}

// ------------------------------------------------------------ parsing

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

Result<void> parse_int_pattern(std::string_view pat, PatternSet& set) {
  static constexpr std::array<std::string_view, 5> kOps{"eq", "ge", "gt", "le", "lt"};
  for (auto op : kOps) {
    if (pat == op) {
      set.pending_op = std::string(op);
      return {};
    }
  }
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  IntRange r{kMin, kMax};
  if (auto colon = pat.find(':'); colon != std::string_view::npos) {
    if (set.pending_op && *set.pending_op != "eq")
      return make_error("operator '" + *set.pending_op + "' cannot apply to range '" +
                        std::string(pat) + "'");
    auto lo = pat.substr(0, colon);
    auto hi = pat.substr(colon + 1);
    if (!lo.empty()) {
      auto v = parse_int(lo);
      if (!v) return make_error("'" + std::string(pat) + "' is not an integer range");
      r.min = *v;
    }
    if (!hi.empty()) {
      auto v = parse_int(hi);
      if (!v) return make_error("'" + std::string(pat) + "' is not an integer range");
      r.max = *v;
    }
    if (r.min > r.max) return make_error("empty integer range '" + std::string(pat) + "'");
  } else {
    auto v = parse_int(pat);
    if (!v) return make_error("'" + std::string(pat) + "' is not an integer");
    const std::string op = set.pending_op.value_or("eq");
    if (op == "eq") r = {*v, *v};
    if (op == "ge") r.min = *v;
    if (op == "gt") {
      if (*v == kMax) return make_error("'gt " + std::string(pat) + "' can never match");
      r.min = *v + 1;
    }
    if (op == "le") r.max = *v;
    if (op == "lt") {
      if (*v == kMin) return make_error("'lt " + std::string(pat) + "' can never match");
      r.max = *v - 1;
    }
  }
  set.ints.push_back(r);
  ++set.count;
  return {};
}

Result<void> parse_ip_pattern(std::string_view pat, PatternSet& set) {
  const std::string text(pat);
  const auto slash = text.find('/');
  const std::string addr = text.substr(0, slash);
  const std::string mask = slash == std::string::npos ? std::string() : text.substr(slash + 1);
  IpNet net;
  if (addr.find(':') != std::string::npos) {
    // IPv6: literal only, bit-count masks only.
    in6_addr a6{};
    if (inet_pton(AF_INET6, addr.c_str(), &a6) != 1)
      return make_error("'" + text + "' is not a valid IPv6 address");
    int bits = 128;
    if (slash != std::string::npos) {
      auto v = parse_int(mask);
      if (!v || *v < 0 || *v > 128) return make_error("invalid IPv6 mask in '" + text + "'");
      bits = int(*v);
    }
    net.addr.family = AF_INET6;
    for (int i = 0; i < 16; ++i) {
      const int b = std::clamp(bits - 8 * i, 0, 8);
      net.mask[i] = std::uint8_t(0xff00 >> b);
      net.addr.bytes[i] = a6.s6_addr[i] & net.mask[i];
    }
  } else {
    in_addr a4{};
    // inet_aton accepts HAProxy's abbreviated forms: 127.1, 10.12, 192.168.1.
    if (inet_aton(addr.c_str(), &a4) == 0) {
      if (set.opts.no_dns) return make_error("'" + text + "' is not a valid IPv4 or IPv6 address");
      addrinfo hints{};
      hints.ai_family = AF_INET;
      addrinfo* res = nullptr;
      if (getaddrinfo(addr.c_str(), nullptr, &hints, &res) != 0 || res == nullptr)
        return make_error("'" + text + "' is neither an IP address nor a resolvable host name");
      a4 = reinterpret_cast<const sockaddr_in*>(res->ai_addr)->sin_addr;
      freeaddrinfo(res);
    }
    std::uint32_t m = 0xffffffffU;
    if (slash != std::string::npos) {
      if (mask.find('.') != std::string::npos) {
        in_addr mk{};
        if (inet_pton(AF_INET, mask.c_str(), &mk) != 1)
          return make_error("invalid IPv4 mask in '" + text + "'");
        m = ntohl(mk.s_addr);
      } else {
        auto v = parse_int(mask);
        if (!v || *v < 0 || *v > 32) return make_error("invalid IPv4 mask in '" + text + "'");
        m = *v == 0 ? 0 : 0xffffffffU << (32 - *v);
      }
    }
    net.addr.family = AF_INET;
    const std::uint32_t host = ntohl(a4.s_addr);
    for (int i = 0; i < 4; ++i) {
      net.mask[i] = std::uint8_t(m >> (24 - 8 * i));
      net.addr.bytes[i] = std::uint8_t(host >> (24 - 8 * i)) & net.mask[i];
    }
  }
  set.ips.push_back(net);
  ++set.count;
  return {};
}

Result<void> parse_str_pattern(std::string_view pat, PatternSet& set) {
  set.strs.push_back(folded(pat, set.opts.ignore_case));
  ++set.count;
  return {};
}

Result<void> parse_exact_pattern(std::string_view pat, PatternSet& set) {
  set.exact.insert(std::string(pat));
  ++set.count;
  return {};
}

// dom / dir: leading and trailing delimiters of the pattern do not count.
template <bool (*IsDelim)(char)>
Result<void> parse_word_pattern(std::string_view pat, PatternSet& set) {
  while (!pat.empty() && IsDelim(pat.front())) pat.remove_prefix(1);
  while (!pat.empty() && IsDelim(pat.back())) pat.remove_suffix(1);
  return parse_str_pattern(pat, set);
}

Result<void> parse_reg_pattern(std::string_view pat, PatternSet& set) {
  auto re = Regex::compile(pat, set.opts.ignore_case);
  if (!re) return make_error(re.error());
  set.regexes.push_back(std::move(*re));
  ++set.count;
  return {};
}

Result<void> ignore_pattern(std::string_view, PatternSet&) {
  return {};
}

// ------------------------------------------------------------ matching

bool match_found(const Sample&, const PatternSet&) {
  return true;
}
bool match_bool(const Sample& s, const PatternSet&) {
  return s.boolean;
}

bool in_ranges(std::int64_t v, const PatternSet& set) {
  for (const auto& r : set.ints)
    if (v >= r.min && v <= r.max) return true;
  return false;
}

bool match_int(const Sample& s, const PatternSet& set) {
  return in_ranges(s.integer, set);
}
bool match_len(const Sample& s, const PatternSet& set) {
  return in_ranges(std::int64_t(s.str.size()), set);
}

// The IPv4 address an IPv6 sample carries: ::ffff:a.b.c.d, ::a.b.c.d or 2002:a.b.c.d::.
bool embedded_v4(const IpAddr& a, std::uint8_t (&v4)[4]) {
  const auto* b = a.bytes;
  auto zero = [b](int from, int to) {
    for (int i = from; i < to; ++i)
      if (b[i] != 0) return false;
    return true;
  };
  if (zero(0, 10) && ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0))) {
    std::memcpy(v4, b + 12, 4);
    return true;
  }
  if (b[0] == 0x20 && b[1] == 0x02 && zero(6, 16)) {
    std::memcpy(v4, b + 2, 4);
    return true;
  }
  return false;
}

bool net_contains(const IpNet& net, const std::uint8_t* bytes, int n) {
  for (int i = 0; i < n; ++i)
    if ((bytes[i] & net.mask[i]) != net.addr.bytes[i]) return false;
  return true;
}

bool match_ip(const Sample& s, const PatternSet& set) {
  std::uint8_t v4[4];
  const bool have_v4 =
      s.ip.family == AF_INET ? (std::memcpy(v4, s.ip.bytes, 4), true) : embedded_v4(s.ip, v4);
  std::uint8_t v6[16];
  if (s.ip.family == AF_INET6) {
    std::memcpy(v6, s.ip.bytes, 16);
  } else {  // IPv4 against IPv6 patterns: as ::ffff:a.b.c.d
    std::memset(v6, 0, 10);
    v6[10] = v6[11] = 0xff;
    std::memcpy(v6 + 12, s.ip.bytes, 4);
  }
  for (const auto& net : set.ips) {
    if (net.addr.family == AF_INET) {
      if (have_v4 && net_contains(net, v4, 4)) return true;
    } else if (net_contains(net, v6, 16)) {
      return true;
    }
  }
  return false;
}

bool match_str(const Sample& s, const PatternSet& set) {
  return set.exact.contains(s.str);
}

bool match_beg(const Sample& s, const PatternSet& set) {
  for (const auto& p : set.strs)
    if (p.size() <= s.str.size() && equal_n(s.str.data(), p.data(), p.size(), set.opts.ignore_case))
      return true;
  return false;
}

bool match_end(const Sample& s, const PatternSet& set) {
  for (const auto& p : set.strs)
    if (p.size() <= s.str.size() &&
        equal_n(s.str.data() + s.str.size() - p.size(), p.data(), p.size(), set.opts.ignore_case))
      return true;
  return false;
}

bool match_sub(const Sample& s, const PatternSet& set) {
  for (const auto& p : set.strs) {
    if (p.size() > s.str.size()) continue;
    for (std::size_t i = 0; i + p.size() <= s.str.size(); ++i)
      if (equal_n(s.str.data() + i, p.data(), p.size(), set.opts.ignore_case)) return true;
  }
  return false;
}

bool is_dom_delim(char c) {
  return c == '.' || c == ':' || c == '/' || c == '?';
}
bool is_dir_delim(char c) {
  return c == '/' || c == '?';
}

// The pattern appears between delimiters (or the ends) of the sample.
template <bool (*IsDelim)(char)>
bool match_word(const Sample& s, const PatternSet& set) {
  const auto str = s.str;
  for (const auto& p : set.strs) {
    if (p.size() > str.size()) continue;
    for (std::size_t i = 0; i + p.size() <= str.size(); ++i) {
      if (i > 0 && !IsDelim(str[i - 1])) continue;
      const std::size_t end = i + p.size();
      if (end < str.size() && !IsDelim(str[end])) continue;
      if (equal_n(str.data() + i, p.data(), p.size(), set.opts.ignore_case)) return true;
    }
  }
  return false;
}

bool match_reg(const Sample& s, const PatternSet& set) {
  for (const auto& re : set.regexes)
    if (re->matches(s.str)) return true;
  return false;
}

constexpr std::array kMatchers{
    MatcherDef{"found", MatchKind::Found, SampleType::Str, false, ignore_pattern, match_found},
    MatcherDef{"bool", MatchKind::Bool, SampleType::Bool, false, ignore_pattern, match_bool},
    MatcherDef{"int", MatchKind::Int, SampleType::Int, true, parse_int_pattern, match_int},
    MatcherDef{"ip", MatchKind::Ip, SampleType::Ip, true, parse_ip_pattern, match_ip},
    MatcherDef{"str", MatchKind::Str, SampleType::Str, true, parse_exact_pattern, match_str},
    MatcherDef{"beg", MatchKind::Beg, SampleType::Str, true, parse_str_pattern, match_beg},
    MatcherDef{"end", MatchKind::End, SampleType::Str, true, parse_str_pattern, match_end},
    MatcherDef{"sub", MatchKind::Sub, SampleType::Str, true, parse_str_pattern, match_sub},
    MatcherDef{"reg", MatchKind::Reg, SampleType::Str, true, parse_reg_pattern, match_reg},
    MatcherDef{"dom", MatchKind::Dom, SampleType::Str, true, parse_word_pattern<is_dom_delim>,
               match_word<is_dom_delim>},
    MatcherDef{"dir", MatchKind::Dir, SampleType::Str, true, parse_word_pattern<is_dir_delim>,
               match_word<is_dir_delim>},
    MatcherDef{"len", MatchKind::Len, SampleType::Str, true, parse_int_pattern, match_len},
};

}  // namespace

std::size_t StrHash::operator()(std::string_view s) const {
  // FNV-1a over the (folded) bytes.
  std::size_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(icase ? lower(c) : c);
    h *= 1099511628211ULL;
  }
  return h;
}

bool StrEq::operator()(std::string_view a, std::string_view b) const {
  return a.size() == b.size() && equal_n(a.data(), b.data(), a.size(), icase);
}

PatternSet::PatternSet() = default;
PatternSet::~PatternSet() = default;
PatternSet::PatternSet(PatternSet&&) noexcept = default;
PatternSet& PatternSet::operator=(PatternSet&&) noexcept = default;

const MatcherDef* find_matcher(std::string_view name) {
  for (const auto& m : kMatchers)
    if (m.name == name) return &m;
  return nullptr;
}

const MatcherDef& matcher_for(MatchKind kind) {
  for (const auto& m : kMatchers)
    if (m.kind == kind) return m;
  return kMatchers[0];
}

bool can_convert(SampleType from, SampleType to) {
  if (from == to || to == SampleType::Str) return true;
  switch (to) {
    case SampleType::Bool:
      return from == SampleType::Int;
    case SampleType::Int:
      return from == SampleType::Bool || from == SampleType::Str;
    case SampleType::Ip:
      return from == SampleType::Str;
    case SampleType::Str:
      return true;
  }
  return false;
}

bool convert(const Sample& in, SampleType to, Sample& out, char (&buf)[64]) {
  out = in;
  out.type = to;
  if (in.type == to) return true;
  switch (to) {
    case SampleType::Bool:
      out.boolean = in.integer != 0;
      return true;
    case SampleType::Int:
      if (in.type == SampleType::Bool) {
        out.integer = in.boolean ? 1 : 0;
        return true;
      }
      if (in.type == SampleType::Str) {
        auto [p, ec] = std::from_chars(in.str.data(), in.str.data() + in.str.size(), out.integer);
        return ec == std::errc() && p == in.str.data() + in.str.size();
      }
      return false;
    case SampleType::Ip: {
      if (in.type != SampleType::Str || in.str.size() >= sizeof buf) return false;
      std::memcpy(buf, in.str.data(), in.str.size());
      buf[in.str.size()] = '\0';
      if (inet_pton(AF_INET, buf, out.ip.bytes) == 1) {
        out.ip.family = AF_INET;
        return true;
      }
      if (inet_pton(AF_INET6, buf, out.ip.bytes) == 1) {
        out.ip.family = AF_INET6;
        return true;
      }
      return false;
    }
    case SampleType::Str:
      if (in.type == SampleType::Bool) {
        out.str = in.boolean ? "1" : "0";
        return true;
      }
      if (in.type == SampleType::Int) {
        auto [p, ec] = std::to_chars(buf, buf + sizeof buf, in.integer);
        out.str = std::string_view(buf, std::size_t(p - buf));
        return ec == std::errc();
      }
      if (in.type == SampleType::Ip) {
        if (inet_ntop(in.ip.family, in.ip.bytes, buf, sizeof buf) == nullptr) return false;
        out.str = std::string_view(buf);
        return true;
      }
      return false;
  }
  return false;
}

Result<std::vector<std::string>> read_pattern_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("cannot open pattern file '" + path + "': " + std::strerror(errno));
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    out.push_back(line.substr(start));
  }
  return out;
}

std::string_view sample_type_name(SampleType t) {
  switch (t) {
    case SampleType::Bool:
      return "boolean";
    case SampleType::Int:
      return "integer";
    case SampleType::Ip:
      return "ip";
    case SampleType::Str:
      return "string";
  }
  return "?";
}

}  // namespace sluice::acl
