// An operation is a type: one small struct per command, in the manner of
// mongo-rust-driver's `Operation` trait, but resolved at compile time (no virtual dispatch,
// no heap): the executor (src/client/api_operation.hpp) runs any type that has
//   - `operation_traits traits() const noexcept`: what the rules need to know of it;
//   - `error_code build(bson::document& body) const`: its body, the command name first;
//   - `using result = ...`, and `error_code parse(bson::view reply, result&, diagnostics&) const`
//     unless the result type says how to read the reply (operations.hpp, parse_result).
// Everything here is sans-I/O and table-tested in tests/unit/operation.
#pragma once

#include <concepts>
#include <string_view>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"
#include "proto/retry/error_labels.hpp"

namespace mongowire::detail {

// How the executor treats an operation, beyond the session and transaction rules.
struct operation_traits {
  std::string_view name;  // the command name: the body's first key
  // read-write-concern.md "Read Concern" / "Write Concern": which concern the command takes
  // (from the operation, else the handle, else the client, outside transactions).
  bool takes_read_concern = false;
  bool takes_write_concern = false;
  // causal-consistency.md "Causally consistent read and write commands": afterClusterTime.
  bool takes_after_cluster_time = false;
  // server-selection.md: reads select by read preference; everything else the primary.
  bool selects_by_read_preference = false;
  // retryable-writes.md / retryable-reads.md "Supported ... Operations"; commit and abort
  // follow transactions.md "Retrying commitTransaction/abortTransaction".
  retry_family retryability = retry_family::other;
  // run-command.md: a user's command is sent as given (no concern is added).
  bool sent_as_given = false;
};

// The result of an operation whose reply says nothing beyond ok (the executor has checked it).
struct no_result {};

template <class Op>
concept operation_type = requires(const Op& op, bson::document& body) {
  typename Op::result;
  { op.traits() }
  noexcept->std::same_as<operation_traits>;
  { op.build(body) } -> std::same_as<error_code>;
};

}  // namespace mongowire::detail
