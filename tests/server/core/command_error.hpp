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

namespace mongowire::testd {

namespace code {
inline constexpr std::int32_t internal_error = 1;
inline constexpr std::int32_t bad_value = 2;
inline constexpr std::int32_t failed_to_parse = 9;
inline constexpr std::int32_t user_not_found = 11;
inline constexpr std::int32_t unauthorized = 13;
inline constexpr std::int32_t protocol_error = 17;
inline constexpr std::int32_t authentication_failed = 18;
inline constexpr std::int32_t type_mismatch = 14;
inline constexpr std::int32_t invalid_length = 16;
inline constexpr std::int32_t illegal_operation = 20;
inline constexpr std::int32_t max_time_ms_expired = 50;
inline constexpr std::int32_t namespace_not_found = 26;
inline constexpr std::int32_t cursor_not_found = 43;
inline constexpr std::int32_t namespace_exists = 48;
inline constexpr std::int32_t command_not_found = 59;
inline constexpr std::int32_t invalid_options = 72;
inline constexpr std::int32_t invalid_namespace = 73;
inline constexpr std::int32_t unknown_repl_write_concern = 79;
inline constexpr std::int32_t index_options_conflict = 85;
inline constexpr std::int32_t index_key_specs_conflict = 86;
inline constexpr std::int32_t unsatisfiable_write_concern = 100;
inline constexpr std::int32_t not_a_replica_set = 123;
inline constexpr std::int32_t write_conflict = 112;
inline constexpr std::int32_t conflicting_operation_in_progress = 117;
inline constexpr std::int32_t client_metadata_cannot_be_mutated = 186;
inline constexpr std::int32_t incomplete_transaction_history = 217;
inline constexpr std::int32_t transaction_too_old = 225;
inline constexpr std::int32_t no_such_transaction = 251;
inline constexpr std::int32_t transaction_committed = 256;
inline constexpr std::int32_t operation_not_supported_in_transaction = 263;
inline constexpr std::int32_t mechanism_unavailable = 334;
inline constexpr std::int32_t duplicate_key = 11000;
inline constexpr std::int32_t not_writable_primary = 10107;
inline constexpr std::int32_t bson_object_too_large = 10334;
inline constexpr std::int32_t not_primary_no_secondary_ok = 13435;
inline constexpr std::int32_t unknown_field = 40415;  // IDL: "BSON field 'x.y' is an unknown field."
inline constexpr std::int32_t missing_field = 40414;  // IDL: "... is missing but a required field"
inline constexpr std::int32_t op_msg_requires_db = 40571;
inline constexpr std::int32_t not_a_retryable_write_command = 50768;
inline constexpr std::int32_t user_already_exists = 51003;  // Location51003 in user_management_commands.cpp
}  // namespace code

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
