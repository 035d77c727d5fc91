// The generic part of every command reply: `ok`, the server error of an ok:0 reply,
// error labels, the write concern error, and the fields sessions and SDAM gossip
// ($clusterTime, operationTime, recoveryToken, topologyVersion).
//
// All functions take an already validated reply (bson::view::validate) and never read
// past it. On success nothing is allocated and results are views into the reply. On
// failure `diag` receives what the server said (or what was malformed) and a copy of
// the reply. `diag` is expected to be empty on entry; these functions only add to it.
#pragma once

#include <optional>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"

namespace mongowire::detail {

// The error_code of an ok:0 reply that carries no usable `code`: the server failed the
// command without saying why, which is what InternalError means. diag.server_code stays
// 0 so that SDAM can tell "no code" apart and fall back to the errmsg substrings
// (server-discovery-and-monitoring.md, "Error Handling": use the code when present,
// otherwise the message). A known `codeName` without `code` is mapped to its code.
inline constexpr std::int32_t missing_error_code = server_code::internal_error;

// Reads `ok` (any number or bool; missing or another type -> invalid_reply).
// ok:0 -> make_server_error(code) with code, codeName, errmsg and errorLabels in diag.
// ok:1 -> {}; top-level errorLabels are still added to diag.labels when present
// (4.4+ servers label write concern errors of ok:1 replies at the top level).
error_code check_command_reply(bson::view reply, diagnostics& diag);

// Reads `writeConcernError` {code, codeName?, errmsg?, errInfo?, errorLabels?} into
// diag.write_concern when present. Returns {} (absent or well formed) or invalid_reply.
error_code parse_write_concern_error(bson::view reply, diagnostics& diag);

// check_command_reply, then parse_write_concern_error: for commands whose only failure
// on ok:1 is a write concern error (commitTransaction, abortTransaction, create, drop,
// createIndexes, ...). Returns make_server_error(writeConcernError.code) in that case. An
// ok:0 reply returns its own error, with its writeConcernError (if any) in diag.write_concern.
error_code check_write_concern_reply(bson::view reply, diagnostics& diag);

// driver-sessions.md, "Gossipping the cluster time".
struct cluster_time_ref {
  bson::view document{};           // the whole `$clusterTime` value: sent back unmodified
  bson::timestamp cluster_time{};  // `$clusterTime.clusterTime`: compared to keep the greatest
  std::optional<bson::view> signature{};
};

struct reply_metadata {
  std::optional<cluster_time_ref> cluster_time{};   // `$clusterTime`
  std::optional<bson::timestamp> operation_time{};  // `operationTime` (causal consistency)
  std::optional<bson::view> recovery_token{};       // `recoveryToken` (sharded transactions)
  std::optional<bson::view> topology_version{};     // `topologyVersion` (SDAM)
};

// Reads the metadata fields of any reply, ok:0 included (the cluster time is gossiped
// from error replies too). Missing fields stay nullopt; a wrong type -> invalid_reply.
error_code parse_reply_metadata(bson::view reply, reply_metadata& out, diagnostics& diag);

}  // namespace mongowire::detail
