// Which server codes and which write commands are retryable (retryable-writes.md,
// retryable-reads.md).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "mongowire/bson.hpp"

namespace mongowire::detail {

// retryable-writes.md, "Determining Retryable Errors" (the table for pre-4.4 servers).
std::span<const std::int32_t> retryable_write_codes() noexcept;
bool is_retryable_write_code(std::int32_t code) noexcept;

// retryable-reads.md, "Retryable Error": the write list plus ReadConcernMajorityNotAvailableYet (134).
std::span<const std::int32_t> retryable_read_codes() noexcept;
bool is_retryable_read_code(std::int32_t code) noexcept;

// retryable-writes.md, "Supported Write Operations" / "Unsupported Write Operations": one
// statement of a write command affects several documents (update with multi:true, delete
// with limit:0, a bulkWrite update/delete op with multi:true).
bool is_multi_document_statement(std::string_view command_name, bson::view statement) noexcept;

// A write command may carry a transaction ID and be retried when it is insert, update,
// delete, findAndModify or bulkWrite, its write concern is acknowledged and none of its
// statements is multi-document. Everything else (aggregate with $out/$merge, create, drop,
// ...) is not a retryable write.
bool is_retryable_write_command(std::string_view command_name, std::span<const bson::view> statements,
                                bool acknowledged) noexcept;

}  // namespace mongowire::detail
