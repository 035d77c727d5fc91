// Errors the test server raises while running a command, and MongoDB's error-code
// facts the server needs (names from src/mongo/base/error_codes.yml, categories used
// by src/mongo/db/error_labels.cpp).
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <memory>
#include <string>
#include <string_view>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"

namespace mongowire::testd {

// The server's error codes: the engine's one table (mongowire/server_codes.inc).
namespace code = ::mongowire::server_code;

// Thrown inside the server core; turned into an `ok: 0` reply (or a write error) at the
// command boundary. `extra` holds additional fields mongod puts next to code/errmsg
// (keyPattern/keyValue for duplicate keys). The document lives on the heap: exception
// objects are only 16-byte aligned, bson_t asks for 128.
class command_error : public std::exception {
 public:
  command_error(std::int32_t code, std::string message, bson::document extra = {})
      : code_(code),
        message_(std::move(message)),
        extra_(extra.get_view().empty() ? nullptr : std::make_shared<const bson::document>(std::move(extra))) {}
  std::int32_t code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  bson::view extra() const noexcept { return extra_ ? extra_->get_view() : bson::view(); }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::int32_t code_;
  std::string message_;
  std::shared_ptr<const bson::document> extra_;
};

// mongod's codeName for `code`; "Location<code>" for codes without a name, as mongod does.
std::string code_name(std::int32_t code);

// ErrorCodes::isRetriableError (category RetriableError in error_codes.yml).
bool is_retriable_error(std::int32_t code) noexcept;
// ErrorCodes::isShutdownError (category ShutdownError).
bool is_shutdown_error(std::int32_t code) noexcept;
// ErrorCodes::isNotPrimaryError (category NotPrimaryError).
bool is_not_primary_error(std::int32_t code) noexcept;
// mongo::isTransientTransactionError (error_labels.cpp).
bool is_transient_transaction_error(std::int32_t code, bool has_write_concern_error, bool is_commit_or_abort) noexcept;

}  // namespace mongowire::testd
