#pragma once
// Requests Sluice answers itself, with no backend: `http-request
// use-service prometheus-exporter|expvar` and the stats page (`stats
// enable`, `stats uri`...). Each builds a complete HTTP/1.1 response into
// one string, from a stats Snapshot of every proxy.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "config/model.h"
#include "http/parser.h"
#include "proxy/directory.h"
#include "stats/snapshot.h"

namespace sluice::httpmode {

struct ServiceRequest {
  http::Method method = http::Method::Get;
  std::string_view target;  // as received: path and query
  const http::MessageView* head = nullptr;  // the request's header fields
  std::string_view body;  // POST body (the stats page's admin form)
  const proxy::Directory* directory = nullptr;
  bool keep_alive = true;  // false: answer with "connection: close"
  std::int64_t current_connections = 0;
};

// What a service wrote: the response is out[start..), so that a large body
// is built once, in place, with its head written in the room before it.
struct Served {
  int status = 200;
  std::size_t start = 0;
};

// A large answer's construction (a stats Snapshot and its rendering), to
// run away from the traffic loop (the session runs it on the stats thread,
// stats/offload.h): it fills `out` as the synchronous call would have. It
// holds copies of what it needs from the request, never views into it.
using ServiceJob = std::function<Served(std::string& out)>;

// What to answer: `served`, already written into `out`, when `job` is
// empty (errors, redirects, admin actions); else `job` writes it.
struct ServiceWork {
  Served served;
  ServiceJob job;
};

// The answer of a `use-service` service.
ServiceWork prepare_service(config::HttpRule::Service which, const ServiceRequest& rq,
                            std::string& out);
Served run_service(config::HttpRule::Service which, const ServiceRequest& rq, std::string& out);

// Does `target` ask for the stats page of `page` (its uri is a prefix)?
bool stats_uri_matches(const config::StatsPage& page, std::string_view target);

// The stats page of proxy `self`: HTML, ";csv", ";json", admin POSTs.
// `admin`: the `stats admin` condition holds for this request.
ServiceWork prepare_stats_page(const config::Proxy& self, bool admin, const ServiceRequest& rq,
                               std::string& out);
Served serve_stats_page(const config::Proxy& self, bool admin, const ServiceRequest& rq,
                        std::string& out);

// Every proxy in configuration order (a `listen` has both sides).
stats::Sources sources_of(const proxy::Directory& d);
// Wall-clock start of this process (Unix seconds).
std::int64_t process_start_wall_s();

// "HTTP/1.1 <status> <reason>" head with content-type and content-length,
// then the body.
void http_response(std::string& out, int status, std::string_view content_type,
                   std::string_view body, bool keep_alive,
                   std::string_view extra_headers = {});

// In place: begin_body() leaves room for a head at the start of `out`; the
// caller appends the body; finish_in_place() writes the head just before
// it (or, when it does not fit the room, inserts it) and returns the start.
constexpr std::size_t kHeadRoom = 512;
void begin_body(std::string& out);
Served finish_in_place(std::string& out, int status, std::string_view content_type,
                       bool keep_alive, std::string_view extra_headers = {});

}  // namespace sluice::httpmode
