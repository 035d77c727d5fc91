// Splitting a write command's statements into commands the server accepts (crud.md "Bulk
// Write": batches of at most maxWriteBatchSize statements within maxMessageSizeBytes;
// OP_MSG.md "Document Sequences": the statements travel as one kind-1 section).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "mongowire/bson.hpp"

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

}  // namespace mongowire::detail
