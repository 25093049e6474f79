#pragma once
// The HTML stats page (`stats enable`): per proxy a table of its frontend,
// servers and backend with HAProxy's state colours, sessions, rates,
// bytes, errors, check status and duration, and a small SVG sparkline of
// each server's recent check durations; with `stats admin`, a form per
// backend to set selected servers ready, drain or maint.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "stats/snapshot.h"

namespace sluice::stats {

struct PageOptions {
  std::string uri;  // the stats uri: form action and links
  unsigned refresh_s = 0;  // 0: no refresh
  bool admin = false;
  bool hide_version = false;
  bool show_legends = false;
  std::string version;
  std::string message;  // result of the last admin action ("" for none)
  bool message_ok = true;
  std::int64_t now_wall_s = 0;
  std::int64_t start_wall_s = 0;
  std::int64_t current_connections = 0;
};

// Recent check durations (ms, oldest first) of server `sid` of proxy `iid`.
using HistoryFn = std::function<std::vector<std::int32_t>(int iid, int sid)>;

std::string render_page(const std::vector<Row>& rows, const PageOptions& o,
                        const HistoryFn& history);
void append_page(std::string& out, const std::vector<Row>& rows, const PageOptions& o,
                 const HistoryFn& history);

// The SVG sparkline alone (exposed for tests): "" for fewer than 2 points.
std::string sparkline(const std::vector<std::int32_t>& ms);

}  // namespace sluice::stats
