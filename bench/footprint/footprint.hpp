// bench/footprint: what one idle connection and one open session cost in heap bytes.
#pragma once

#include <cstdint>
#include <string>

namespace footprint {

// `uri` with `options` ("a=1&b=2") appended to its query.
std::string with_options(const std::string& uri, const std::string& options);

// Live heap bytes allocated through operator new and libbson's allocator (footprint.cpp).
std::int64_t heap_bytes();

struct figures {
  std::int64_t client_bytes = 0;          // a client with one idle connection, after a command
  std::int64_t per_connection_bytes = 0;  // each further idle connection
  std::int64_t per_session_bytes = 0;     // each further open, used session
};

// Each returns an empty string or what went wrong.
std::string measure_mongowire(const std::string& uri, int connections, int sessions, figures& out);
std::string measure_mongoc(const std::string& uri, int connections, int sessions, figures& out);

}  // namespace footprint
