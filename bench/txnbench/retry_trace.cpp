#include "retry_trace.hpp"

#include <cerrno>
#include <cstring>

#include "report.hpp"

namespace txnbench {

std::string retry_event_json(const mongowire::retry_event& e, std::string_view mode) {
  std::string j = "{\"mode\": " + json_string(mode);
  j += ", \"operation_id\": " + std::to_string(e.operation_id);
  j += ", \"attempt\": " + std::to_string(e.attempt);
  j += ", \"command\": " + json_string(e.command);
  j += ", \"error\": " + json_string(e.error.message());
  j += ", \"code\": " + std::to_string(e.server_code);
  j += ", \"codeName\": " + json_string(e.code_name);
  j += ", \"labels\": [";
  if (e.labels)
    for (std::size_t i = 0; i < e.labels->items().size(); ++i) j += (i ? ", " : "") + json_string(e.labels->items()[i]);
  j += "], \"decision\": " + json_string(to_string(e.decision));
  j += ", \"backoff_us\": " + std::to_string(e.backoff.count());
  j += ", \"elapsed_us\": " + std::to_string(e.elapsed.count()) + "}";
  return j;
}

retry_trace_writer::~retry_trace_writer() {
  if (file_) std::fclose(file_);
}

std::string retry_trace_writer::open(const std::string& path, const char* how) {
  file_ = std::fopen(path.c_str(), how);
  if (!file_) return "cannot write the retry trace " + path + ": " + std::strerror(errno);
  return {};
}

void retry_trace_writer::write(const mongowire::retry_event& e, std::string_view mode) {
  if (!file_) return;
  const std::string line = retry_event_json(e, mode);
  std::lock_guard lock(mutex_);
  std::fprintf(file_, "%s\n", line.c_str());
}

}  // namespace txnbench
