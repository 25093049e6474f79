// Fuzzes the HTTP/1.1 request codec (see http_message_fuzz.h).

#include "http_message_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return sluice::http::fuzz::fuzz_message(sluice::http::Side::Request, data, size);
}
