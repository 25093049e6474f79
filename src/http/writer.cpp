#include "http/writer.h"

#include <charconv>
#include <cstring>

#include "http/status.h"

namespace sluice::http {

HeadWriter& HeadWriter::put(std::string_view s) {
  if (!ok_) return *this;
  if (s.size() > cap_ - len_) {
    ok_ = false;
    return *this;
  }
  if (!s.empty()) std::memcpy(out_ + len_, s.data(), s.size());
  len_ += s.size();
  return *this;
}

HeadWriter& HeadWriter::request_line(std::string_view method, std::string_view target,
                                     std::uint8_t minor) {
  return put(method).put(" ").put(target).put(minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
}

HeadWriter& HeadWriter::status_line(std::uint16_t status, std::string_view reason,
                                    std::uint8_t minor) {
  char code[4] = {static_cast<char>('0' + status / 100 % 10),
                  static_cast<char>('0' + status / 10 % 10), static_cast<char>('0' + status % 10),
                  ' '};
  if (reason.empty()) reason = reason_phrase(status);
  return put(minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ").put({code, 4}).put(reason).put("\r\n");
}

HeadWriter& HeadWriter::field(std::string_view name, std::string_view value) {
  return put(name).put(": ").put(value).put("\r\n");
}

HeadWriter& HeadWriter::field(std::string_view name, std::uint64_t value) {
  char digits[24];
  auto r = std::to_chars(digits, digits + sizeof digits, value);
  return field(name, std::string_view(digits, static_cast<std::size_t>(r.ptr - digits)));
}

HeadWriter& HeadWriter::end() { return put("\r\n"); }

namespace {

// Whether an edit at or after `from` removes fields named `name`.
bool removed_later(std::span<const HeaderEdit> edits, std::size_t from, std::string_view name) {
  for (std::size_t k = from; k < edits.size(); ++k)
    if (edits[k].op != HeaderEdit::Op::Add && iequals(edits[k].name, name)) return true;
  return false;
}

}  // namespace

std::size_t write_head(const MessageView& msg, std::span<const HeaderEdit> edits, char* out,
                       std::size_t cap) {
  HeadWriter w(out, cap);
  const Head& h = msg.head();
  const std::uint8_t minor = h.version_minor == 0 ? 0 : 1;
  if (h.side == Side::Request) {
    w.request_line(msg.method(), msg.target(), minor);
  } else {
    w.status_line(h.status, msg.reason().empty() ? reason_phrase(h.status) : msg.reason(), minor);
  }
  for (auto f : msg) {
    if (!edits.empty() && removed_later(edits, 0, f.name)) continue;
    w.field(f.name, f.value);
  }
  for (std::size_t k = 0; k < edits.size(); ++k) {
    const HeaderEdit& e = edits[k];
    if (e.op == HeaderEdit::Op::Del) continue;
    if (removed_later(edits, k + 1, e.name)) continue;
    w.field(e.name, e.value);
  }
  w.end();
  return w.ok() ? w.size() : 0;
}

}  // namespace sluice::http
