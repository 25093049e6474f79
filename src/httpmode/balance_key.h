#pragma once
// The key a hashing `balance` algorithm hashes for one HTTP request (source
// address, URI, URL parameter, header), copied so it outlives the request
// head's rewrite. No key: the balancer falls back to round robin.

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "config/model.h"
#include "http/parser.h"

namespace sluice::httpmode {

// `body`: what the buffer already holds of the request body (url_param
// check_post looks there when the query string lacks the parameter).
bool request_balance_key(const config::Balance& b, const http::MessageView& req,
                         std::string_view body, const sockaddr_storage& peer, std::string& out);

}  // namespace sluice::httpmode
