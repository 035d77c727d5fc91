// Error model: boost::system::error_code in four project categories (client, protocol,
// network, server; Asio's own codes pass through), plus a `diagnostics` object that keeps
// everything the server said. Which call completes with which code: mongowire/client.hpp.
// Everything here is a value type; the categories are immutable (any thread).
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mongowire/bson.hpp"

namespace mongowire {

using boost::system::error_code;

// Mistakes made by the caller or decided by the client itself (a refusal of the caller's
// input or of a session/transaction state sends nothing).
enum class client_errc {
  invalid_argument = 1,                 // bad input; diag.client_message says what and where
  invalid_uri,                          // the connection string (client's constructor, parse_uri)
  session_ended,                        // the session was ended (session::end, its destructor)
  session_from_other_client,            // reserved (spec name); the API cannot mix clients' sessions
  transaction_already_in_progress,      // start_transaction twice
  no_transaction_started,               // commit or abort without start_transaction
  commit_after_abort,                   // "Cannot call commitTransaction after calling abortTransaction"
  abort_after_commit,                   // "Cannot call abortTransaction after calling commitTransaction"
  abort_twice,                          // "Cannot call abortTransaction twice"
  option_in_transaction,                // read/write concern given to an operation inside a transaction
  read_preference_not_primary,          // a read in a transaction whose read preference is not primary
  unacknowledged_write_in_transaction,  // start_transaction with w: 0
  server_selection_timeout,             // no suitable server within serverSelectionTimeoutMS
  wait_queue_timeout,                   // no pooled connection within waitQueueTimeoutMS
  pool_cleared,                         // the pool was cleared (a PoolClearedError: retryable)
  pool_closed,                          // the pool is closed: its server left the topology, or the client closed
  wire_version_unsupported,             // a server's wire versions are outside the client's range
  transactions_not_supported,           // a transaction (or a retried retryable write) the server cannot run
  client_closed,                        // the client was closed or destroyed
  with_transaction_timeout,             // with_transaction's 120 s passed; diag.cause is the last error
  cursor_exhausted,                     // reserved: cursors are drained inside the operations
  invalid_reply,                        // a reply lacks a field the operation reads, or has the wrong type
  // driver-sessions.md "How to Tell Whether a Connection Supports Sessions": an explicit
  // session used with a server whose hello has no logicalSessionTimeoutMinutes.
  sessions_not_supported,
  // auth.md: the client refused the authentication conversation (the server's signature or
  // nonce is wrong, the password fails SASLprep, the mechanism is not supported). A server's
  // refusal keeps its own code (18 AuthenticationFailed) in the server category.
  authentication_failed,
  // An exception escaped an operation that no error code describes (a bug, or a callback
  // of the caller that threw); diag.client_message holds its what().
  internal_error,
  // We were asked to send a message above the server's maxMessageSizeBytes; nothing was sent.
  message_too_large,
  // We built an invalid wire message (no or two body sections): a bug of ours, nothing sent.
  invalid_message,
  // driver-sessions.md: a session is used by one operation at a time. A second operation
  // started while one is in flight is refused before anything is sent (its txnNumber or
  // statement order would otherwise be wrong on the server).
  session_in_use,
  // client-side-operations-timeout.md "Errors": the operation's timeoutMS expired (only when
  // timeoutMS is set, else the legacy timeout errors). diag.cause is the error that ended the
  // blocking task at the deadline (e.g. server_selection_timeout, socket_timeout, or code 50
  // MaxTimeMSExpired), the other fields describe it; without one, diag.client_message says
  // where the expiry was detected.
  timeout,
};

// Violations of the wire protocol by bytes the peer sent. (Mistakes in what we send are
// client_errc values: message_too_large, invalid_message.)
enum class protocol_errc {
  short_header = 1,   // fewer than 16 bytes for a MsgHeader
  message_too_short,  // messageLength below the opcode's minimum
  message_too_long,   // messageLength above maxMessageSizeBytes
  unknown_opcode,
  compression_unsupported,  // OP_COMPRESSED received: compression is not negotiated
  unknown_required_flag,    // OP_MSG flagBits 0-15 set that we do not know
  bad_section_kind,
  missing_body_section,
  duplicate_body_section,
  section_overrun,  // a section or sequence size runs past the frame
  invalid_bson,
  truncated_cstring,
  checksum_mismatch,
  checksum_missing,  // checksumPresent set but no room for the CRC
  bad_reply,         // OP_REPLY with no document, or the wrong count
  response_to_mismatch,
  trailing_bytes,
  // OP_COMPRESSED whose payload does not decompress to exactly uncompressedSize bytes
  // (corrupt, truncated, or larger than declared: a decompression bomb).
  decompression_failed,
};

// Transport failures, in addition to the boost::asio ones we pass through.
enum class network_errc {
  connection_closed = 1,
  connect_timeout,
  socket_timeout,
  tls_handshake_failed,
  dns_failed,
  proxy_failed,  // the SOCKS5 proxy refused the handshake, the credentials or the destination
};

const boost::system::error_category& client_category() noexcept;
const boost::system::error_category& protocol_category() noexcept;
const boost::system::error_category& network_category() noexcept;
// Server errors: the value is the server's numeric code (e.g. 112 WriteConflict).
const boost::system::error_category& server_category() noexcept;

inline error_code make_error_code(client_errc e) noexcept { return {static_cast<int>(e), client_category()}; }
inline error_code make_error_code(protocol_errc e) noexcept { return {static_cast<int>(e), protocol_category()}; }
inline error_code make_error_code(network_errc e) noexcept { return {static_cast<int>(e), network_category()}; }
inline error_code make_server_error(std::int32_t code) noexcept { return {code, server_category()}; }

namespace server_code {
// The server's error codes, from the one table in server_codes.inc (an unscoped enum: a value
// compares with the int32 `code` of a reply).
enum value : std::int32_t {
#define MONGOWIRE_SERVER_CODE(name, code, code_name) name = code,
#include "mongowire/server_codes.inc"
#undef MONGOWIRE_SERVER_CODE
};
}  // namespace server_code

// The codeName the server uses for `code`, or "" when the table does not know it.
std::string_view server_code_name(std::int32_t code) noexcept;
// Reverse lookup, used by the spec runner for `errorCodeName`.
std::optional<std::int32_t> server_code_from_name(std::string_view name) noexcept;

// Error labels (a small ordered set; labels are few and short).
class label_set {
 public:
  bool contains(std::string_view label) const noexcept;
  void add(std::string_view label);
  void remove(std::string_view label);
  bool empty() const noexcept { return labels_.empty(); }
  std::size_t size() const noexcept { return labels_.size(); }
  const std::vector<std::string>& items() const noexcept { return labels_; }
  void clear() noexcept { labels_.clear(); }

 private:
  std::vector<std::string> labels_;
};

namespace label {
inline constexpr std::string_view transient_transaction_error = "TransientTransactionError";
inline constexpr std::string_view unknown_transaction_commit_result = "UnknownTransactionCommitResult";
inline constexpr std::string_view retryable_write_error = "RetryableWriteError";
inline constexpr std::string_view no_writes_performed = "NoWritesPerformed";
inline constexpr std::string_view system_overloaded = "SystemOverloadedError";
inline constexpr std::string_view retryable_error = "RetryableError";
}  // namespace label

struct write_error {
  std::int32_t index = 0;
  std::int32_t code = 0;
  std::string code_name;
  std::string errmsg;
  bson::document err_info;
};

struct write_concern_error {
  std::int32_t code = 0;
  std::string code_name;
  std::string errmsg;
  bson::document err_info;
  label_set labels;  // pre-4.4 servers put labels inside writeConcernError
};

// Everything known about a failure beyond its error_code.
struct diagnostics {
  std::int32_t server_code = 0;  // 0 when the error did not come from a server reply
  std::string code_name;
  // The server's errmsg, copied from a reply and nothing else: untrusted text, never
  // rewritten by the client.
  std::string server_message;
  // The client's own explanation (what it refused and why, the address involved, ...).
  std::string client_message;
  label_set labels;
  std::vector<write_error> write_errors;
  std::optional<write_concern_error> write_concern;
  bson::document reply;        // the raw reply when there was one
  std::string server_address;  // "host:port" the error came from, if any
  // The error a timeout error wraps (transactions-convenient-api.md "Timeout Error
  // propagation"); the other fields then describe that error.
  error_code cause;

  bool has_label(std::string_view l) const noexcept { return labels.contains(l); }
  void clear() { *this = diagnostics{}; }
};

// Both messages of `d` in one line, for logs and exceptions: the client's explanation, then
// the server's errmsg marked as such ("...; server: <errmsg>"); "" when there is neither.
std::string describe(const diagnostics& d);

// Exception thrown where no error_code can be returned (constructors, session::client()).
// The diagnostics live on the heap: exception objects are only 16-byte aligned, bson_t asks
// for 128.
class error : public boost::system::system_error {
 public:
  error(error_code ec, diagnostics diag);
  const diagnostics& diag() const noexcept { return *diag_; }
  bool has_label(std::string_view l) const noexcept { return diag_->has_label(l); }

 private:
  std::shared_ptr<const diagnostics> diag_;
};

}  // namespace mongowire

namespace boost::system {
template <>
struct is_error_code_enum<mongowire::client_errc> : std::true_type {};
template <>
struct is_error_code_enum<mongowire::protocol_errc> : std::true_type {};
template <>
struct is_error_code_enum<mongowire::network_errc> : std::true_type {};
}  // namespace boost::system
