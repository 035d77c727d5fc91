// txnbench --retry-trace FILE: the engine's retry trace (client_options::on_retry, issue 16
// "deterministic retry trace") as JSON lines, one per failed attempt. With --jitter-seed and
// one worker, two runs against the same injected failures write the same lines but for
// elapsed_us.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "mongowire/events.hpp"

namespace txnbench {

// {"mode": "txn", "operation_id": 7, "attempt": 1, "command": "insert", "error": "...", "code": 112,
//  "codeName": "WriteConflict", "labels": ["TransientTransactionError"], "decision": "give_up",
//  "backoff_us": 0, "elapsed_us": 1234}
std::string retry_event_json(const mongowire::retry_event& e, std::string_view mode);

// Appends lines to one file; the clients of every thread share it.
class retry_trace_writer {
 public:
  retry_trace_writer() = default;
  retry_trace_writer(const retry_trace_writer&) = delete;
  retry_trace_writer& operator=(const retry_trace_writer&) = delete;
  ~retry_trace_writer();

  // Opens `path` for appending ("w": truncating first). Empty on success, else why not.
  std::string open(const std::string& path, const char* how = "a");
  bool is_open() const noexcept { return file_ != nullptr; }
  void write(const mongowire::retry_event& e, std::string_view mode);

 private:
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
};

}  // namespace txnbench
