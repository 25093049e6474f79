#pragma once
// Output formats of a stats Snapshot: HAProxy's CSV (`show stat`), typed
// (`show stat typed`) and JSON (`show stat json`).

#include <string>
#include <string_view>
#include <vector>

#include "stats/snapshot.h"

namespace sluice::stats {

// "# pxname,svname,...,-,ssl_sess,...," and a newline.
std::string csv_header();
void append_csv(std::string& out, const Row& r);
std::string to_csv(const std::vector<Row>& rows);  // header, rows, no blank line
void append_typed(std::string& out, const Row& r);
std::string to_json(const std::vector<Row>& rows);  // one line, no newline
// The same, appended to `out` (e.g. after a response's head room): a 1,000-server
// dump is 13 MB, worth writing once rather than copying.
void append_json(std::string& out, const std::vector<Row>& rows);

// A JSON string literal, quotes included, escaped as every Sluice JSON
// output writes it (\" \\ \b \f \n \r \t, other control bytes as
// \u00XX, as nlohmann::json::dump() writes them).
void append_json_string(std::string& out, std::string_view s);

// The words of the typed outputs' tag letters in JSON (origin, nature and
// scope of a field: management.txt, "show info" and "show stat typed").
std::string_view tag_origin_name(char c);
std::string_view tag_nature_name(char c);
std::string_view tag_scope_name(char c);

}  // namespace sluice::stats
