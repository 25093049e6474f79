#include "checks/agent_reply.h"

#include <strings.h>

#include <charconv>

namespace sluice::checks {

namespace {
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<unsigned> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

std::string_view agent_health_word(AgentReply::Health h) {
  switch (h) {
    case AgentReply::Health::Up: return "up";
    case AgentReply::Health::Down: return "down";
    case AgentReply::Health::Fail: return "fail";
    case AgentReply::Health::Stopped: return "stopped";
  }
  return "";
}

AgentReply parse_agent_reply(std::string_view answer) {
  AgentReply r;
  std::size_t eol = answer.find_first_of("\r\n");
  std::string_view line = answer.substr(0, eol);
  constexpr std::string_view kSep = " \t,";
  for (int guard = 0; !line.empty() && guard < 256; ++guard) {
    std::size_t b = line.find_first_not_of(kSep);
    if (b == std::string_view::npos) break;
    line.remove_prefix(b);
    std::size_t e = line.find_first_of(kSep);
    std::string_view word = line.substr(0, e);
    line.remove_prefix(e == std::string_view::npos ? line.size() : e);
    // A word starting with '#' begins the description, which runs to the
    // end of the line; a '#' inside a word makes it unknown (HAProxy 2.6).
    if (word.front() == '#') {
      std::string full(word.substr(1));
      full += line;
      std::size_t first = full.find_first_not_of(" \t");
      std::size_t last = full.find_last_not_of(" \t");
      r.description = first == std::string::npos ? "" : full.substr(first, last - first + 1);
      break;
    }
    if (word.find('#') != std::string_view::npos) continue;
    if (iequals(word, "up")) {
      r.health = AgentReply::Health::Up;
      continue;
    }
    if (iequals(word, "down")) {
      r.health = AgentReply::Health::Down;
      continue;
    }
    if (iequals(word, "fail")) {
      r.health = AgentReply::Health::Fail;
      continue;
    }
    if (iequals(word, "stopped")) {
      r.health = AgentReply::Health::Stopped;
      continue;
    }
    if (iequals(word, "ready"))
      r.admin = AgentReply::Admin::Ready;
    else if (iequals(word, "drain"))
      r.admin = AgentReply::Admin::Drain;
    else if (iequals(word, "maint"))
      r.admin = AgentReply::Admin::Maint;
    else if (word.size() > 1 && word.back() == '%') {
      if (auto v = parse_number(word.substr(0, word.size() - 1))) r.weight_percent = *v;
    } else if (word.size() > 8 && iequals(word.substr(0, 8), "maxconn:")) {
      if (auto v = parse_number(word.substr(8))) r.maxconn = *v;
    }
  }
  return r;
}

}  // namespace sluice::checks
