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

}  // namespace sluice::stats
