#include "http/parser.h"

#include <algorithm>
#include <cstring>

#include "http/chars.h"

namespace sluice::http {

namespace {

using chars::ows;

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls fn(element) for each comma-separated element, OWS trimmed, empty
// elements included (callers decide whether those are errors). Stops early
// when fn returns false; returns false then.
template <class Fn>
bool for_each_element(std::string_view list, Fn&& fn) {
  while (true) {
    std::size_t comma = list.find(',');
    if (!fn(trim_ows(list.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

bool all_tchar(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!chars::tchar(c)) return false;
  return true;
}

Method method_from(std::string_view m) {
  // Methods are case-sensitive (RFC 9110 section 9.1): "get" is an unknown method.
  switch (m.size()) {
    case 3:
      if (m == "GET") return Method::Get;
      if (m == "PUT") return Method::Put;
      break;
    case 4:
      if (m == "HEAD") return Method::Head;
      if (m == "POST") return Method::Post;
      break;
    case 5:
      if (m == "TRACE") return Method::Trace;
      if (m == "PATCH") return Method::Patch;
      break;
    case 6:
      if (m == "DELETE") return Method::Delete;
      break;
    case 7:
      if (m == "CONNECT") return Method::Connect;
      if (m == "OPTIONS") return Method::Options;
      break;
    default:
      break;
  }
  return Method::Other;
}

// "HTTP/" DIGIT "." DIGIT, exactly.
bool parse_version(std::string_view v, std::uint8_t& major, std::uint8_t& minor) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !chars::digit(v[5]) || v[6] != '.' ||
      !chars::digit(v[7]))
    return false;
  major = static_cast<std::uint8_t>(v[5] - '0');
  minor = static_cast<std::uint8_t>(v[7] - '0');
  return true;
}

bool valid_authority_form(std::string_view t) {
  // host ":" port; the host may be a bracketed IPv6 literal.
  std::size_t colon = t.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == t.size()) return false;
  std::string_view port = t.substr(colon + 1);
  if (port.size() > 5) return false;
  for (char c : port)
    if (!chars::digit(c)) return false;
  for (char c : t.substr(0, colon))
    if (c == '/' || c == '?' || c == '@') return false;
  return true;
}

bool valid_absolute_form(std::string_view t) {
  // scheme ":" hier-part; scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  std::size_t colon = t.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    char c = chars::lower(t[i]);
    bool alpha = c >= 'a' && c <= 'z';
    if (i == 0 ? !alpha : !(alpha || chars::digit(c) || c == '+' || c == '-' || c == '.'))
      return false;
  }
  return true;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (chars::lower(a[i]) != chars::lower(b[i])) return false;
  return true;
}

// ---- MessageView ------------------------------------------------------------

std::string_view MessageView::start_line() const {
  std::string_view rest = buf_.substr(h_->start);
  std::size_t lf = rest.find('\n');
  std::string_view line = rest.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::size_t MessageView::find(std::string_view name, std::size_t from) const {
  for (std::size_t i = from; i < h_->fields.size(); ++i) {
    const Field& f = h_->fields[i];
    if (f.name_len == name.size() && iequals(buf_.substr(f.name_off, f.name_len), name)) return i;
  }
  return npos;
}

std::string_view MessageView::value(std::string_view name) const {
  std::size_t i = find(name);
  return i == npos ? std::string_view{} : field(i).value;
}

std::size_t MessageView::count(std::string_view name) const {
  std::size_t n = 0;
  for (std::size_t i = find(name); i != npos; i = find(name, i + 1)) ++n;
  return n;
}

// ---- HeadParser -------------------------------------------------------------

HeadParser::HeadParser(Side side, const Limits& limits) : limits_(limits) {
  head_.side = side;
  head_.fields.reserve(limits_.max_headers);
}

void HeadParser::reset() {
  Side side = head_.side;
  head_.fields.clear();  // keeps capacity
  std::vector<Field> keep = std::move(head_.fields);
  head_ = Head{};
  head_.side = side;
  head_.fields = std::move(keep);
  stage_ = Stage::StartLine;
  line_start_ = 0;
  scan_ = 0;
  te_chunked_count_ = 0;
  te_last_chunked_ = false;
  te_other_before_ = false;
  te_bad_ = false;
  early_done_ = false;
  result_ = HeadResult{};
}

HeadResult HeadParser::fail(ParseError e) {
  stage_ = Stage::Failed;
  result_.state = ParseState::Error;
  result_.failure = {e, status_for(e, head_.side)};
  return result_;
}

// Rejects an obviously wrong start line before its end arrives (a TLS hello
// on a clear port, binary junk), so the client is not left waiting for 15 kB.
// It only looks at bytes that the full-line parse checks first, so every
// split of the same input gives the same answer.
ParseError HeadParser::early_start_line_check(std::string_view avail) {
  if (head_.side == Side::Request) {
    // Bytes before scan_ were checked by an earlier call.
    for (std::size_t i = scan_ - line_start_; i < avail.size(); ++i) {
      char c = avail[i];
      if (c == ' ') {
        early_done_ = true;
        return i == 0 ? ParseError::BadMethod : ParseError::None;
      }
      if (c == '\r' || c == '\n') {
        early_done_ = true;  // the line parse decides
        return ParseError::None;
      }
      if (!chars::tchar(c)) return ParseError::BadMethod;
    }
    return ParseError::None;
  }
  std::string_view http = "HTTP/";
  std::size_t n = std::min(avail.size(), http.size());
  if (avail.substr(0, n) != http.substr(0, n)) return ParseError::BadStatusLine;
  if (n == http.size()) early_done_ = true;
  return ParseError::None;
}

HeadResult HeadParser::parse(std::string_view buf) {
  if (stage_ == Stage::Done || stage_ == Stage::Failed) return result_;
  // Only the first max_head bytes can hold the head: deciding on them alone
  // gives the same answer whatever the caller has read beyond.
  const std::size_t limit = std::min<std::size_t>(buf.size(), limits_.max_head);
  const bool full = buf.size() >= limits_.max_head;

  while (true) {
    if (stage_ == Stage::StartLine) {
      if (scan_ == line_start_) {
        // Empty lines before a start line are ignored (RFC 9112 section 2.2).
        while (line_start_ < limit) {
          char c = buf[line_start_];
          if (c == '\n') {
            if (!limits_.allow_bare_lf) return fail(ParseError::BareLF);
            ++line_start_;
          } else if (c == '\r' && line_start_ + 1 < limit) {
            if (buf[line_start_ + 1] != '\n') return fail(ParseError::BareCR);
            line_start_ += 2;
          } else {
            break;
          }
        }
        scan_ = line_start_;
        if (line_start_ >= limit || buf[line_start_] == '\r') {
          if (full) return fail(ParseError::StartLineTooLong);
          return result_;  // NeedMore
        }
      }
      if (!early_done_) {
        ParseError e = early_start_line_check(buf.substr(line_start_, limit - line_start_));
        if (e != ParseError::None) return fail(e);
      }
    }

    const void* lf_ptr = scan_ < limit ? std::memchr(buf.data() + scan_, '\n', limit - scan_) : nullptr;
    if (lf_ptr == nullptr) {
      scan_ = static_cast<std::uint32_t>(limit);
      if (full)
        return fail(stage_ == Stage::StartLine ? ParseError::StartLineTooLong
                                               : ParseError::HeadTooLarge);
      return result_;  // NeedMore
    }
    const auto lf = static_cast<std::uint32_t>(static_cast<const char*>(lf_ptr) - buf.data());
    std::string_view line = buf.substr(line_start_, lf - line_start_);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    } else if (!limits_.allow_bare_lf) {
      return fail(ParseError::BareLF);
    }
    // A CR inside a start line fails its grammar; inside a field line, name it.
    if (stage_ == Stage::Fields && std::memchr(line.data(), '\r', line.size()) != nullptr)
      return fail(ParseError::BareCR);
    const std::uint32_t off = line_start_;
    line_start_ = scan_ = lf + 1;

    ParseError e = ParseError::None;
    if (stage_ == Stage::StartLine) {
      head_.start = off;
      e = head_.side == Side::Request ? parse_request_line(line, off) : parse_status_line(line, off);
      stage_ = Stage::Fields;
    } else if (line.empty()) {
      head_.length = lf + 1;
      e = finish_head();
      if (e != ParseError::None) return fail(e);
      stage_ = Stage::Done;
      result_.state = ParseState::Done;
      result_.head_length = head_.length;
      return result_;
    } else {
      e = parse_field_line(line, off);
    }
    if (e != ParseError::None) return fail(e);
  }
}

ParseError HeadParser::parse_request_line(std::string_view line, std::uint32_t off) {
  std::size_t sp1 = line.find(' ');
  if (sp1 == 0) return ParseError::BadMethod;
  std::string_view method = line.substr(0, sp1);
  if (!all_tchar(method)) return ParseError::BadMethod;
  if (sp1 == std::string_view::npos) return ParseError::BadRequestLine;
  std::size_t sp2 = line.find(' ', sp1 + 1);
  // No version: an HTTP/0.9 simple request, which we do not speak.
  if (sp2 == std::string_view::npos) return ParseError::BadRequestLine;
  // Exactly one SP between parts (stricter than haproxy 2.6, which accepts runs).
  if (sp2 == sp1 + 1) return ParseError::BadRequestLine;
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (char c : target)
    if (!chars::target_char(c)) return ParseError::BadTarget;
  std::string_view version = line.substr(sp2 + 1);
  if (!version.empty() && version.front() == ' ') return ParseError::BadRequestLine;
  if (!parse_version(version, head_.version_major, head_.version_minor))
    return ParseError::BadVersion;
  if (head_.version_major == 0) return ParseError::BadVersion;
  if (head_.version_major > 1) return ParseError::VersionNotSupported;

  head_.method = method_from(method);
  head_.method_text = {off, static_cast<std::uint32_t>(sp1)};
  head_.target = {off + static_cast<std::uint32_t>(sp1 + 1), static_cast<std::uint32_t>(target.size())};
  if (head_.method == Method::Connect) {
    if (!valid_authority_form(target)) return ParseError::BadTarget;
    head_.target_form = TargetForm::Authority;
  } else if (target == "*") {
    if (head_.method != Method::Options) return ParseError::BadTarget;
    head_.target_form = TargetForm::Asterisk;
  } else if (target.front() == '/') {
    head_.target_form = TargetForm::Origin;
  } else if (valid_absolute_form(target)) {
    head_.target_form = TargetForm::Absolute;
  } else {
    return ParseError::BadTarget;
  }
  return ParseError::None;
}

ParseError HeadParser::parse_status_line(std::string_view line, std::uint32_t off) {
  // HTTP-version SP 3DIGIT SP [reason]; a missing SP before an empty reason is tolerated.
  if (line.size() < 12 || line[8] != ' ') return ParseError::BadStatusLine;
  if (!parse_version(line.substr(0, 8), head_.version_major, head_.version_minor) ||
      head_.version_major != 1)
    return ParseError::BadStatusLine;
  if (!chars::digit(line[9]) || !chars::digit(line[10]) || !chars::digit(line[11]) ||
      line[9] == '0')
    return ParseError::BadStatusLine;
  head_.status = static_cast<std::uint16_t>((line[9] - '0') * 100 + (line[10] - '0') * 10 +
                                            (line[11] - '0'));
  if (line.size() > 12) {
    if (line[12] != ' ') return ParseError::BadStatusLine;
    std::string_view reason = line.substr(13);
    for (char c : reason)
      if (!chars::field_vchar(c)) return ParseError::BadStatusLine;
    head_.reason = {off + 13, static_cast<std::uint32_t>(reason.size())};
  } else {
    head_.reason = {off + 12, 0};
  }
  return ParseError::None;
}

ParseError split_field_line(std::string_view line, std::string_view& name,
                            std::string_view& value) {
  if (line.empty() || ows(line.front())) return ParseError::ObsFold;
  std::size_t i = 0;
  while (i < line.size() && chars::tchar(line[i])) ++i;
  if (i == line.size()) return ParseError::BadHeaderName;  // no colon
  if (line[i] != ':') return ows(line[i]) && i > 0 ? ParseError::SpaceBeforeColon
                                                   : ParseError::BadHeaderName;
  if (i == 0) return ParseError::BadHeaderName;
  name = line.substr(0, i);
  std::size_t vb = i + 1;
  while (vb < line.size() && ows(line[vb])) ++vb;
  std::size_t ve = line.size();
  while (ve > vb && ows(line[ve - 1])) --ve;
  value = line.substr(vb, ve - vb);
  for (char c : value)
    if (!chars::field_vchar(c)) return ParseError::BadHeaderValue;
  return ParseError::None;
}

ParseError HeadParser::parse_field_line(std::string_view line, std::uint32_t off) {
  std::string_view name;
  std::string_view value;
  ParseError e = split_field_line(line, name, value);
  if (e != ParseError::None) return e;
  if (name.size() > 0xffff) return ParseError::BadHeaderName;
  if (head_.fields.size() >= limits_.max_headers) return ParseError::TooManyHeaders;
  Field f;
  f.name_off = off;
  f.name_len = static_cast<std::uint16_t>(name.size());
  f.value_off = off + static_cast<std::uint32_t>(value.data() - line.data());
  f.value_len = static_cast<std::uint32_t>(value.size());
  head_.fields.push_back(f);
  return note_field(name, value);
}

// Reads the fields that decide framing and connection handling, once, as they arrive.
ParseError HeadParser::note_field(std::string_view name, std::string_view value) {
  switch (name.size()) {
    case 4:
      if (iequals(name, "host")) {
        if (head_.has(flag::kHasHost)) return ParseError::DuplicateHost;
        head_.flags |= flag::kHasHost;
      }
      break;
    case 6:
      if (iequals(name, "expect") && iequals(value, "100-continue"))
        head_.flags |= flag::kExpectContinue;
      break;
    case 7:
      if (iequals(name, "upgrade")) {
        head_.flags |= flag::kUpgrade;
        for_each_element(value, [&](std::string_view p) {
          // protocol-name ["/" protocol-version]
          if (iequals(p.substr(0, p.find('/')), "websocket")) head_.flags |= flag::kUpgradeWebSocket;
          return true;
        });
      }
      break;
    case 10:
      if (iequals(name, "connection")) {
        for_each_element(value, [&](std::string_view t) {
          if (iequals(t, "close")) head_.flags |= flag::kConnClose;
          else if (iequals(t, "keep-alive")) head_.flags |= flag::kConnKeepAlive;
          else if (iequals(t, "upgrade")) head_.flags |= flag::kConnUpgrade;
          return true;
        });
      }
      break;
    case 14:
      if (iequals(name, "content-length")) {
        bool ok = for_each_element(value, [&](std::string_view n) {
          if (n.empty() || n.size() > 19) return false;  // 19 digits fit in 63 bits
          std::uint64_t v = 0;
          for (char c : n) {
            if (!chars::digit(c)) return false;
            v = v * 10 + static_cast<std::uint64_t>(c - '0');
          }
          if (v > (std::uint64_t{1} << 62)) return false;
          if (head_.has(flag::kHasContentLength) && v != head_.content_length) {
            head_.content_length = ~std::uint64_t{0};  // marks the conflict
            return false;
          }
          head_.content_length = v;
          head_.flags |= flag::kHasContentLength;
          return true;
        });
        if (!ok)
          return head_.content_length == ~std::uint64_t{0} ? ParseError::ConflictingContentLength
                                                           : ParseError::BadContentLength;
      }
      break;
    case 17:
      if (iequals(name, "transfer-encoding")) {
        head_.flags |= flag::kHasTransferEncoding;
        for_each_element(value, [&](std::string_view coding) {
          std::size_t semi = coding.find(';');
          std::string_view cname = trim_ows(coding.substr(0, semi));
          if (!all_tchar(cname)) {
            te_bad_ = true;  // empty element or junk
          } else if (iequals(cname, "chunked")) {
            if (semi != std::string_view::npos) te_bad_ = true;  // chunked takes no parameters
            ++te_chunked_count_;
            te_last_chunked_ = true;
          } else {
            if (te_chunked_count_ == 0) te_other_before_ = true;
            te_last_chunked_ = false;
          }
          return true;
        });
      } else if (iequals(name, "sec-websocket-key")) {
        head_.flags |= flag::kWebSocketKey;
      }
      break;
    default:
      break;
  }
  return ParseError::None;
}

ParseError HeadParser::finish_head() {
  const bool request = head_.side == Side::Request;
  if (!head_.http11()) head_.flags &= ~flag::kExpectContinue;
  if (!request) {
    head_.flags &= ~flag::kExpectContinue;
    if (head_.status < 200) {
      if (head_.status == 101) {
        head_.framing = Framing::Tunnel;
      } else {
        head_.flags |= flag::kInformational;
        head_.framing = Framing::None;
      }
      return ParseError::None;
    }
    if (request_method_ == Method::Head || head_.status == 204 || head_.status == 304) {
      head_.framing = Framing::None;
      return ParseError::None;
    }
    if (request_method_ == Method::Connect && head_.status < 300) {
      head_.framing = Framing::Tunnel;
      return ParseError::None;
    }
  }

  if (head_.has(flag::kHasTransferEncoding)) {
    // RFC 9112 section 6.1: TE in HTTP/1.0 means the framing cannot be trusted.
    if (!head_.http11()) return ParseError::TransferEncodingInHttp10;
    if (te_bad_ || te_chunked_count_ > 1) return ParseError::BadTransferEncoding;
    if (request) {
      if (!te_last_chunked_) return ParseError::BadTransferEncoding;
      if (te_other_before_) return ParseError::UnsupportedTransferCoding;
    }
    if (head_.has(flag::kHasContentLength)) {
      if (limits_.reject_cl_with_te) return ParseError::ContentLengthWithTransferEncoding;
      head_.flags &= ~flag::kHasContentLength;
      head_.content_length = 0;
      head_.flags |= flag::kMustClose;
    }
    if (te_last_chunked_) {
      head_.framing = Framing::Chunked;
    } else {
      head_.framing = Framing::CloseDelimited;  // response only (RFC 9112 section 6.3 rule 4)
      head_.flags |= flag::kMustClose;
    }
  } else if (head_.has(flag::kHasContentLength)) {
    head_.framing = Framing::ContentLength;
  } else if (request) {
    head_.framing = Framing::None;
  } else {
    head_.framing = Framing::CloseDelimited;
    head_.flags |= flag::kMustClose;
  }

  if (request && head_.has(flag::kConnUpgrade) && head_.has(flag::kUpgradeWebSocket) &&
      !head_.has(flag::kWebSocketKey))
    return ParseError::WebSocketWithoutKey;
  return ParseError::None;
}

// ---- errors -----------------------------------------------------------------

std::uint16_t status_for(ParseError e, Side side) {
  if (e == ParseError::None) return 0;
  if (side == Side::Response) return 502;
  switch (e) {
    case ParseError::StartLineTooLong: return 414;
    case ParseError::HeadTooLarge:
    case ParseError::TooManyHeaders:
    case ParseError::TrailersTooLarge: return 431;
    case ParseError::UnsupportedTransferCoding: return 501;
    case ParseError::VersionNotSupported: return 505;
    default: return 400;
  }
}

std::string_view describe(ParseError e) {
  switch (e) {
    case ParseError::None: return "no error";
    case ParseError::BadMethod: return "invalid character in method";
    case ParseError::BadRequestLine: return "malformed request line";
    case ParseError::BadTarget: return "invalid request target";
    case ParseError::BadVersion: return "invalid HTTP version";
    case ParseError::VersionNotSupported: return "HTTP version not supported";
    case ParseError::StartLineTooLong: return "start line too long";
    case ParseError::HeadTooLarge: return "header section too large";
    case ParseError::TooManyHeaders: return "too many header fields";
    case ParseError::BadHeaderName: return "invalid header field name";
    case ParseError::SpaceBeforeColon: return "whitespace between field name and colon";
    case ParseError::ObsFold: return "obsolete line folding";
    case ParseError::BadHeaderValue: return "invalid character in header field value";
    case ParseError::BareCR: return "CR not followed by LF";
    case ParseError::BareLF: return "LF without CR";
    case ParseError::DuplicateHost: return "more than one Host field";
    case ParseError::BadContentLength: return "invalid Content-Length";
    case ParseError::ConflictingContentLength: return "differing Content-Length values";
    case ParseError::ContentLengthWithTransferEncoding:
      return "Content-Length together with Transfer-Encoding";
    case ParseError::BadTransferEncoding: return "invalid Transfer-Encoding";
    case ParseError::UnsupportedTransferCoding: return "unsupported transfer coding";
    case ParseError::TransferEncodingInHttp10: return "Transfer-Encoding in an HTTP/1.0 message";
    case ParseError::WebSocketWithoutKey: return "WebSocket upgrade without Sec-WebSocket-Key";
    case ParseError::BadStatusLine: return "malformed status line";
    case ParseError::BadChunkSize: return "invalid chunk size";
    case ParseError::ChunkSizeOverflow: return "chunk size too large";
    case ParseError::BadChunkExtension: return "invalid chunk extension";
    case ParseError::ChunkLineTooLong: return "chunk size line too long";
    case ParseError::BadChunkEnd: return "chunk data not followed by CRLF";
    case ParseError::BadTrailer: return "invalid trailer field";
    case ParseError::TrailersTooLarge: return "trailer section too large";
    case ParseError::Truncated: return "message truncated";
  }
  return "unknown";
}

}  // namespace sluice::http
