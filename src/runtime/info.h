#pragma once
// `show info`: the process's fields, one table (position, name, tags, type)
// in HAProxy 2.6's order, written three ways: "Name: value" lines, typed
// lines ("15.Maxconn.1:CLP:u32:100") and JSON objects, as haproxy does.

#include <string>
#include <string_view>
#include <vector>

#include "runtime/cli.h"

namespace sluice::runtime {

struct InfoField {
  int pos;  // haproxy's field number (gaps: fields haproxy leaves out when empty)
  std::string_view name;
  std::string_view tags;  // origin, nature, scope letters: "CLP" = Config, Limit, Process
  std::string_view type;  // "str", "u32", "u64"
  std::string value;
};

std::vector<InfoField> info_fields(const CliEnv& env);

std::string info_plain(const std::vector<InfoField>& fields);
std::string info_typed(const std::vector<InfoField>& fields);
std::string info_json(const std::vector<InfoField>& fields);  // one line, no newline

}  // namespace sluice::runtime
