// Steady memory (issue 14): the process's resident set and the server's at the start of the
// measured window and at the end of the run. With the embedded test server the client and
// the server share the process, so the server's own figure is its store size instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace txnbench {

struct memory_sample {
  std::int64_t client_rss_kb = 0;             // this process, /proc/self/status VmRSS
  std::optional<std::int64_t> server_rss_kb;  // --uri: serverStatus mem.resident (MiB) * 1024
  // serverStatus wiredTiger.cache "bytes currently in the cache": the test server's store
  // (every version it keeps, and its oplog).
  std::optional<std::int64_t> server_store_bytes;
};

struct memory_figures {
  bool embedded_server = false;
  std::optional<memory_sample> start, end;
  std::string server_error;  // why the server's figures are missing, if they are
};

// VmRSS of this process in kB (0 where /proc is unavailable).
std::int64_t process_rss_kb();

class memory_probe {
 public:
  memory_probe(std::string uri, bool embedded_server);
  void window_started();  // the first call takes the start sample
  void run_ended();       // every call takes the end sample
  const memory_figures& figures() const noexcept { return figures_; }

 private:
  memory_sample sample();
  std::string uri_;
  memory_figures figures_;
};

// The JSON object `memory`: client_rss_start_kb, client_rss_end_kb, server_rss_start_kb,
// server_rss_end_kb (null with the embedded server), server_store_start_bytes and
// server_store_end_bytes (null where unknown), embedded_server.
std::string memory_json(const memory_figures& m);
void print_memory_text(const memory_figures& m);

}  // namespace txnbench
