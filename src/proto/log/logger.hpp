// A client's structured logger (logging.md): the user's handler and per-component levels.
// Callers ask enabled() before building a message, so that a component that is off costs a
// branch and nothing else. The shapes shared by every component's messages live here too:
// documents as truncated relaxed extended JSON, errors, server addresses.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"
#include "mongowire/logging.hpp"

namespace mongowire::detail {

// logging.md "Configurable Max Document Length": the default.
inline constexpr std::size_t default_max_document_length = 1000;

class logger {
 public:
  logger() = default;
  logger(log_handler handler, component_log_levels levels,
         std::size_t max_document_length = default_max_document_length)
      : handler_(std::move(handler)), levels_(levels), max_document_length_(max_document_length) {}

  bool enabled(log_component c, log_level l) const noexcept { return handler_ && levels_.allows(c, l); }
  // Delivers `data` (made by log_data()) unless the component's level excludes `l`.
  void emit(log_component c, log_level l, const bson::document& data) const;
  // Relaxed extended JSON of `doc`, cut after max_document_length bytes.
  std::string document_json(bson::view doc) const;

  // The client wraps the handler (it must not be called once the client is gone).
  log_handler& handler() noexcept { return handler_; }

 private:
  log_handler handler_;
  component_log_levels levels_;
  std::size_t max_document_length_ = default_max_document_length;
};

// A message's data, started with its "message" field (unified-test-format.md matches it there).
bson::document log_data(std::string_view message);

// logging.md "Configurable Max Document Length": cut naively after `max` bytes, backing up to
// the start of a UTF-8 sequence, and append "..." (not counted).
std::string truncate_json(std::string json, std::size_t max);

// logging.md "Representing Errors in Log Messages": {error: "<category>: <message>", message:
// what the client and the server said, code, codeName, errorLabels}. `message` overrides the
// diagnostics' text. Redacted (command-logging-and-monitoring.md "Security"): only code,
// codeName and errorLabels.
bson::document failure_document(error_code ec, const diagnostics* diag, std::string_view message, bool redacted);

// serverHost and serverPort of "host:port" (or "[v6]:port"); a Unix domain socket path has no port.
void append_server_address(bson::document& data, std::string_view address);

}  // namespace mongowire::detail
