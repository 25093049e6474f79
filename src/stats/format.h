#pragma once
// Output formats of a stats Snapshot: HAProxy's CSV (`show stat`), typed
// (`show stat typed`) and JSON (`show stat json`).

#include <string>
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

}  // namespace sluice::stats
