// What a command the API built is, read from the command itself: which concerns it takes and
// whether it is a retryable read or write. One table instead of a decision at every call site.
#pragma once

#include "mongowire/bson.hpp"
#include "proto/retry/retry_policy.hpp"

namespace mongowire::detail {

struct command_kind {
  bool takes_read_concern = false;   // read-write-concern.md "Read Concern": find, aggregate, distinct, count
  bool takes_write_concern = false;  // read-write-concern.md "Write Concern": writes and DDL
  retry_family family = retry_family::other;
};

// `body`'s first key is the command name.
// - retryable-reads.md "Supported Read Operations": find, aggregate without $out/$merge,
//   distinct, count, listDatabases, listCollections, listIndexes. getMore is never retried.
// - retryable-writes.md "Supported Write Operations": insert, update, delete, findAndModify,
//   when no statement is multi-document (is_retryable_write_command); the executor still
//   drops the retry for unacknowledged writes, with retryWrites=false and in transactions.
// A command given to runCommand is never classified: it is the user's, sent as is.
command_kind classify_command(bson::view body) noexcept;

// An aggregate pipeline ending in $out or $merge writes (crud.md "aggregate").
bool pipeline_writes(bson::view pipeline) noexcept;

}  // namespace mongowire::detail
