// The fields that sessions, transactions, causal consistency and the executor attach to
// a command after the operation wrote its own fields. Non-owning: every view/string_view
// must stay alive until append_command_fields() returns (nothing is kept afterwards).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

#include "mongowire/bson.hpp"

namespace mongowire::detail {

// A server session id: the 16 bytes of the UUID sent as `lsid: {id: <binary subtype 4>}`.
using session_id = std::array<std::uint8_t, 16>;

// OP_MSG.md "Document Sequences": a kind-1 section to send; each element of the BSON array
// `array` becomes one document of the sequence named `identifier`.
struct document_sequence_ref {
  std::string_view identifier{};  // "documents", "updates", "deletes", "ops" or "nsInfo" (static storage)
  bson::view array{};
};

// The kind-1 sections of one command: a write command has one, bulkWrite two (bulk-write.md
// "Building a bulkWrite Command": ops and nsInfo).
struct document_sequences {
  std::array<document_sequence_ref, 2> items{};
  std::size_t count = 0;

  document_sequences() = default;
  document_sequences(document_sequence_ref one) noexcept : items{one}, count(1) {}  // implicit: a write command's
  std::span<const document_sequence_ref> refs() const noexcept { return {items.data(), count}; }
};

struct read_concern_fields {
  std::string_view level{};                             // "" = not sent
  std::optional<bson::timestamp> after_cluster_time{};  // causal consistency / transactions

  bool empty() const noexcept { return level.empty() && !after_cluster_time; }
};

struct write_concern_fields {
  // `w`: a node count, or a string ("majority" or a tag set name); monostate = not sent.
  std::variant<std::monostate, std::int32_t, std::string_view> w{};
  std::optional<bool> j{};
  std::optional<std::int64_t> wtimeout_ms{};  // sent as `wtimeout`
};

struct command_fields {
  std::string_view db{};  // `$db` (OP_MSG requires it; "" = not sent)
  std::optional<session_id> lsid{};
  std::optional<std::int64_t> txn_number{};  // always encoded as int64
  bool start_transaction = false;            // `startTransaction: true`
  bool in_transaction = false;               // `autocommit: false`
  read_concern_fields read_concern{};        // sent when not empty
  std::optional<write_concern_fields> write_concern{};
  std::optional<std::int64_t> max_time_ms{};
  std::optional<bson::view> cluster_time{};    // gossiped `$clusterTime` document, as received
  std::optional<bson::view> recovery_token{};  // sharded transactions, commit/abort only
  // Concerns already in server form (transaction options, user-given documents). When set
  // they are sent as-is instead of read_concern / write_concern above.
  std::optional<bson::view> read_concern_document{};
  std::optional<bson::view> write_concern_document{};
};

// The database that commitTransaction, abortTransaction and endSessions go to
// (transactions.md, "Server Commands": "Both commands MUST be sent to the admin database").
inline constexpr std::string_view admin_db = "admin";

}  // namespace mongowire::detail
