// Splitting a write command's statements into commands the server accepts (crud.md "Bulk
// Write": batches of at most maxWriteBatchSize statements within maxMessageSizeBytes;
// OP_MSG.md "Document Sequences": the statements travel as one kind-1 section).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "mongowire/bson.hpp"
#include "proto/command/command_builder.hpp"

namespace mongowire::detail {

// The server's limits from its hello (mongod's values when no hello is known yet).
struct write_limits {
  std::int32_t max_bson_object_size = 16 * 1024 * 1024;
  std::int32_t max_message_size_bytes = 48'000'000;
  std::int32_t max_write_batch_size = 100'000;
};

// Room kept in every message for the fields the executor appends after the split (lsid,
// txnNumber, $clusterTime, writeConcern ...) and a checksum: the 16 KiB drivers reserve
// (the server's BSONObjMaxInternalSize is maxBsonObjectSize + 16 KiB for the same reason).
inline constexpr std::size_t command_fields_allowance = 16 * 1024;

// The largest statement a command may carry: an inserted document maxBsonObjectSize (the
// server refuses larger ones); an update or delete statement, which wraps documents of up to
// that size in q/u, maxBsonObjectSize + 16 KiB.
std::size_t max_statement_size(std::string_view command_name, const write_limits& limits) noexcept;

// How many of `statement_sizes`, from the first, the next command takes: at least one, at
// most maxWriteBatchSize, and as many as fit in one OP_MSG whose body (without statements) has
// `body_size` bytes and whose kind-1 section named `sequence_field` holds the statements.
std::size_t next_batch_count(std::span<const std::size_t> statement_sizes, std::size_t body_size,
                             std::string_view sequence_field, const write_limits& limits) noexcept;

// `body` with only the statements [first, first + count) of its array `field` (cleared first).
void copy_with_statements(bson::view body, std::string_view field, std::size_t first, std::size_t count,
                          bson::document& out);

// ---------------------------------------------------------------- client bulk write

// bulk-write.md "Total Message Size": the room kept in every bulkWrite message for the OP_MSG
// framing and the command-agnostic fields (lsid, txnNumber, $clusterTime ...).
inline constexpr std::size_t client_bulk_write_message_overhead = 1000;

// The size of `ns`'s nsInfo entry {ns: <ns>}.
std::size_t ns_info_entry_size(std::string_view ns) noexcept;
// The size of each write's ops entry (build_client_write_entry).
std::vector<std::size_t> client_write_entry_sizes(std::span<const client_write> writes);

// How many of `writes` (ops entries of `entry_sizes` bytes), from the first, the next bulkWrite
// command takes (bulk-write.md "Command Batching"): at most maxWriteBatchSize, and as many as
// keep the head (`head_size` bytes), their ops entries and the nsInfo entries of the
// namespaces they use within maxMessageSizeBytes - 1000. 0 when not even the first fits (the
// caller's error: "MUST return an error if there is not room to add at least one operation").
std::size_t next_client_bulk_write_count(std::span<const client_write> writes, std::span<const std::size_t> entry_sizes,
                                         std::size_t head_size, const write_limits& limits);

}  // namespace mongowire::detail
