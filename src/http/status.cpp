#include "http/status.h"

#include <array>
#include <string>

namespace sluice::http {

std::string_view reason_phrase(std::uint16_t status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

namespace {

struct Page {
  std::uint16_t status;
  std::string_view reason;  // as haproxy 2.6 spells it on its own pages
  std::string_view text;    // our words
  bool close;
};

constexpr std::array<Page, 22> kPages = {{
    {200, "OK", "Sluice is ready.", false},
    {400, "Bad request", "The request could not be understood.", true},
    {401, "Unauthorized", "Credentials are needed to reach this resource.", false},
    {403, "Forbidden", "Access to this resource is denied by policy.", false},
    {404, "Not Found", "Nothing was found at this address.", false},
    {405, "Method Not Allowed", "This method is not allowed on this resource.", false},
    {407, "Unauthorized", "Proxy credentials are needed to go further.", false},
    {408, "Request Time-out", "The request did not arrive completely in time.", true},
    {410, "Gone", "This resource has been removed for good.", false},
    {413, "Payload Too Large", "The request body is larger than allowed.", false},
    {414, "URI Too Long", "The request line is longer than allowed.", true},
    {421, "Misdirected Request", "This server does not answer for that host.", false},
    {422, "Unprocessable Content", "The request could not be processed as sent.", false},
    {425, "Too Early", "The request was sent as early data; please retry.", false},
    {429, "Too Many Requests", "Too many requests in a short time; slow down.", false},
    {431, "Request Header Fields Too Large", "The request headers are larger than allowed.", true},
    {500, "Internal Server Error", "Something went wrong inside the proxy.", false},
    {501, "Not Implemented", "The request asks for something not supported here.", false},
    {502, "Bad Gateway", "The server sent an invalid or incomplete response.", false},
    {503, "Service Unavailable", "No server is available for this request right now.", false},
    {504, "Gateway Time-out", "The server did not answer in time.", false},
    {505, "HTTP Version Not Supported", "This HTTP version is not supported.", true},
}};

// Built once, on first use (a function-local static: no start-up order issues).
const std::array<std::string, kPages.size()>& pages() {
  static const std::array<std::string, kPages.size()> built = [] {
    std::array<std::string, kPages.size()> out;
    for (std::size_t i = 0; i < kPages.size(); ++i) {
      const Page& p = kPages[i];
      std::string code = std::to_string(p.status);
      std::string body = "<html><body><h1>" + code + " " + std::string(p.reason) + "</h1>\n" +
                         std::string(p.text) + "\n</body></html>\n";
      std::string& r = out[i];
      r = "HTTP/1.1 " + code + " " + std::string(p.reason) + "\r\n";
      r += "content-length: " + std::to_string(body.size()) + "\r\n";
      r += "cache-control: no-cache\r\n";
      r += "content-type: text/html\r\n";
      if (p.close) r += "connection: close\r\n";
      r += "\r\n";
      r += body;
    }
    return out;
  }();
  return built;
}

int page_index(std::uint16_t status) {
  for (std::size_t i = 0; i < kPages.size(); ++i)
    if (kPages[i].status == status) return static_cast<int>(i);
  return -1;
}

}  // namespace

bool has_error_response(std::uint16_t status) { return page_index(status) >= 0; }

std::string_view error_response(std::uint16_t status) {
  int i = page_index(status);
  if (i < 0) i = page_index(500);
  return pages()[static_cast<std::size_t>(i)];
}

}  // namespace sluice::http
