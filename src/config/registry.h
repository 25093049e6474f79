#pragma once
// Keyword descriptors. Everything the configuration language names comes from
// one of these tables: section keywords, `option` names, server and
// default-server keywords, bind keywords and ACL sample fetches. The parser's
// dispatch, the "not implemented yet" and legacy messages and "did you mean"
// suggestions are all driven from them.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "util/result.h"

namespace sluice::config {

class Parser;

enum class KwStatus {
  Implemented,
  Legacy,  // accepted with a warning naming the modern form (or refused, see `translate`)
  NotYet,  // an error: "not implemented yet in Sluice"
};

// Sections a keyword is valid in, as a bit mask.
enum SectionBits : unsigned {
  kSecGlobal = 1U << 0,
  kSecDefaults = 1U << 1,
  kSecFrontend = 1U << 2,
  kSecBackend = 1U << 3,
  kSecListen = 1U << 4,
  kSecHttpErrors = 1U << 5,
  kSecMailers = 1U << 6,
  kSecUserlist = 1U << 7,
  kSecProxy = kSecFrontend | kSecBackend | kSecListen,
  kSecAllProxy = kSecDefaults | kSecProxy,
  kSecFeSide = kSecDefaults | kSecFrontend | kSecListen,  // frontend capability
  kSecBeSide = kSecDefaults | kSecBackend | kSecListen,   // backend capability
  kSecFeBeOnly = kSecFrontend | kSecBackend | kSecListen,
};

std::string_view section_name(unsigned section_bit);

// The arguments of one statement: the words after its keyword.
struct Args {
  const std::vector<std::string>* words = nullptr;
  std::size_t first = 0;

  std::size_t size() const { return words && words->size() > first ? words->size() - first : 0; }
  bool empty() const { return size() == 0; }
  const std::string& operator[](std::size_t i) const { return (*words)[first + i]; }
  Args from(std::size_t n) const { return Args{words, first + n}; }
};

struct Stmt {
  std::string_view keyword;  // as in the table, e.g. "timeout connect"
  Args args;
  bool negated = false;  // written with the "no" prefix
};

using KeywordFn = Result<void> (*)(Parser&, const Stmt&);

// A section keyword (one or two words, e.g. "timeout connect") or an option
// name (the word after `option`).
struct SectionKeyword {
  std::string_view name;
  unsigned sections;
  KwStatus status;
  std::string_view args;  // argument shape, for docs
  KeywordFn parse;  // Implemented, or Legacy with custom translation; else nullptr
  std::string_view doc;
  std::string_view modern = {};  // Legacy: the replacement ("timeout connect")
  bool negatable = false;  // accepts the "no" prefix
  bool translate = true;  // Legacy: rewrite into `modern`; false: refuse, naming it
};
using OptionKeyword = SectionKeyword;

// A keyword on a server or default-server line.
using ServerFn = Result<void> (*)(Parser&, ServerDef&, std::string_view arg);
struct ServerKeyword {
  std::string_view name;
  KwStatus status;
  int nargs;  // words consumed after the keyword
  bool default_server_ok;  // also valid on default-server lines
  std::string_view args;
  ServerFn parse;
  std::string_view doc;
};

// A keyword on a bind line.
using BindFn = Result<void> (*)(Parser&, Bind&, std::string_view arg);
struct BindKeyword {
  std::string_view name;
  KwStatus status;
  int nargs;
  std::string_view args;
  BindFn parse;
  std::string_view doc;
};

// A sample fetch usable in ACLs.
using FetchArgsFn = Result<void> (*)(const std::vector<std::string>& args);
struct FetchKeyword {
  std::string_view name;
  KwStatus status;
  std::uint8_t min_args;
  std::uint8_t max_args;
  std::string_view matcher;  // implied match method ("ip", "int", "bool", "str", ...)
  std::string_view args;
  FetchArgsFn check;  // extra validation of the arguments, or nullptr
  std::string_view doc;
};

std::span<const SectionKeyword> section_keywords();
std::span<const OptionKeyword> option_keywords();
std::span<const ServerKeyword> server_keywords();
std::span<const BindKeyword> bind_keywords();
std::span<const FetchKeyword> fetch_keywords();
// Sections not implemented yet (userlist, peers, ...).
std::span<const std::string_view> unsupported_sections();

template <class Table>
const typename Table::value_type* find_keyword(const Table& table, std::string_view name) {
  for (const auto& k : table)
    if (k.name == name) return &k;
  return nullptr;
}

// Levenshtein distance, for suggestions; any value above `bound` comes back as bound + 1.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t bound = ~std::size_t{0} - 1);
// " (did you mean 'X'?)" for the closest candidate, or "" when none is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace sluice::config
