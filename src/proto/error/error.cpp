#include "mongowire/error.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace mongowire {
namespace {

struct code_entry {
  std::int32_t code;
  std::string_view name;
};

// server_codes.inc: the codes with a codeName.
constexpr code_entry server_codes[] = {
#define MONGOWIRE_SERVER_CODE(name, code, code_name) {code, code_name},
#include "mongowire/server_codes.inc"
#undef MONGOWIRE_SERVER_CODE
};

class client_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "mongowire.client"; }
  std::string message(int ev) const override {
    switch (static_cast<client_errc>(ev)) {
      case client_errc::invalid_argument: return "invalid argument";
      case client_errc::invalid_uri: return "invalid connection string";
      case client_errc::session_ended: return "the session has ended";
      case client_errc::session_from_other_client: return "the session belongs to another client";
      case client_errc::transaction_already_in_progress: return "Transaction already in progress";
      case client_errc::no_transaction_started: return "No transaction started";
      case client_errc::commit_after_abort: return "Cannot call commitTransaction after calling abortTransaction";
      case client_errc::abort_after_commit: return "Cannot call abortTransaction after calling commitTransaction";
      case client_errc::abort_twice: return "Cannot call abortTransaction twice";
      case client_errc::option_in_transaction:
        return "Cannot set read or write concern on an operation inside a transaction";
      case client_errc::read_preference_not_primary: return "read preference in a transaction must be primary";
      case client_errc::unacknowledged_write_in_transaction:
        return "transactions do not support unacknowledged write concern";
      case client_errc::server_selection_timeout: return "server selection timed out";
      case client_errc::wait_queue_timeout: return "timed out waiting for a pooled connection";
      case client_errc::pool_cleared: return "connection pool was cleared";
      case client_errc::pool_closed: return "connection pool is closed";
      case client_errc::wire_version_unsupported: return "server wire version is not supported";
      case client_errc::transactions_not_supported: return "server does not support transactions";
      case client_errc::client_closed: return "client is closed";
      case client_errc::with_transaction_timeout: return "withTransaction exceeded its time limit";
      case client_errc::cursor_exhausted: return "cursor is exhausted";
      case client_errc::invalid_reply: return "server reply is malformed";
      case client_errc::sessions_not_supported: return "sessions are not supported by the server";
      case client_errc::authentication_failed: return "authentication failed";
      case client_errc::internal_error: return "internal error: an unexpected exception ended the operation";
      case client_errc::message_too_large: return "message larger than the server's maxMessageSizeBytes (not sent)";
      case client_errc::invalid_message: return "invalid wire message built by the client (not sent)";
      case client_errc::session_in_use: return "the session is already running an operation";
      case client_errc::timeout: return "operation exceeded its timeoutMS";
    }
    return "unknown client error";
  }
};

class protocol_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "mongowire.protocol"; }
  std::string message(int ev) const override {
    switch (static_cast<protocol_errc>(ev)) {
      case protocol_errc::short_header: return "message shorter than its 16-byte header";
      case protocol_errc::message_too_short: return "messageLength below the minimum for its opcode";
      case protocol_errc::message_too_long: return "messageLength above maxMessageSizeBytes";
      case protocol_errc::unknown_opcode: return "unknown opCode";
      case protocol_errc::compression_unsupported: return "OP_COMPRESSED received but compression was not negotiated";
      case protocol_errc::unknown_required_flag: return "OP_MSG has an unknown required flag bit (0-15) set";
      case protocol_errc::bad_section_kind: return "OP_MSG section has an unknown kind";
      case protocol_errc::missing_body_section: return "OP_MSG has no kind-0 body section";
      case protocol_errc::duplicate_body_section: return "OP_MSG has more than one kind-0 body section";
      case protocol_errc::section_overrun: return "OP_MSG section runs past the end of the message";
      case protocol_errc::invalid_bson: return "invalid BSON document in message";
      case protocol_errc::truncated_cstring: return "unterminated cstring in message";
      case protocol_errc::checksum_mismatch: return "OP_MSG CRC-32C checksum mismatch";
      case protocol_errc::checksum_missing: return "OP_MSG checksumPresent set but no checksum fits";
      case protocol_errc::bad_reply: return "malformed OP_REPLY";
      case protocol_errc::response_to_mismatch: return "responseTo does not match the request";
      case protocol_errc::trailing_bytes: return "bytes left over after the last document";
      case protocol_errc::decompression_failed:
        return "OP_COMPRESSED payload does not decompress to its uncompressedSize";
    }
    return "unknown protocol error";
  }
};

class network_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "mongowire.network"; }
  std::string message(int ev) const override {
    switch (static_cast<network_errc>(ev)) {
      case network_errc::connection_closed: return "connection closed by peer";
      case network_errc::connect_timeout: return "connect timed out";
      case network_errc::socket_timeout: return "socket operation timed out";
      case network_errc::tls_handshake_failed: return "TLS handshake failed";
      case network_errc::dns_failed: return "host name resolution failed";
      case network_errc::proxy_failed: return "SOCKS5 proxy handshake failed";
    }
    return "unknown network error";
  }
};

class server_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "mongowire.server"; }
  std::string message(int ev) const override {
    auto name = server_code_name(ev);
    if (name.empty()) return "server error " + std::to_string(ev);
    return std::string(name) + " (" + std::to_string(ev) + ")";
  }
};

}  // namespace

const boost::system::error_category& client_category() noexcept {
  static const client_category_impl c;
  return c;
}
const boost::system::error_category& protocol_category() noexcept {
  static const protocol_category_impl c;
  return c;
}
const boost::system::error_category& network_category() noexcept {
  static const network_category_impl c;
  return c;
}
const boost::system::error_category& server_category() noexcept {
  static const server_category_impl c;
  return c;
}

std::string_view server_code_name(std::int32_t code) noexcept {
  for (const auto& e : server_codes)
    if (e.code == code) return e.name;
  return {};
}

std::optional<std::int32_t> server_code_from_name(std::string_view name) noexcept {
  for (const auto& e : server_codes)
    if (!e.name.empty() && e.name == name) return e.code;
  return std::nullopt;
}

bool label_set::contains(std::string_view label) const noexcept {
  return std::find(labels_.begin(), labels_.end(), label) != labels_.end();
}

void label_set::add(std::string_view label) {
  if (!contains(label)) labels_.emplace_back(label);
}

void label_set::remove(std::string_view label) {
  std::erase_if(labels_, [&](const std::string& l) { return l == label; });
}

std::string describe(const diagnostics& d) {
  std::string out = d.client_message;
  if (d.server_message.empty()) return out;
  if (!out.empty()) out += "; ";
  return out + "server: " + d.server_message;
}

static std::string describe(const error_code& ec, const diagnostics& d) {
  std::string what = ec.message();
  if (auto messages = describe(d); !messages.empty()) what += ": " + messages;
  return what;
}

error::error(error_code ec, diagnostics diag)
    : boost::system::system_error(ec, describe(ec, diag)),
      diag_(std::make_shared<const diagnostics>(std::move(diag))) {}

}  // namespace mongowire
