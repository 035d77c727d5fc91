// What a command tells the server about its read preference (server-selection.md "Passing
// read preference to mongos and load balancers", "Topology type: Single", "Topology types:
// ReplicaSetWithPrimary or ReplicaSetNoPrimary"), and read preferences in the server's
// document form ({mode, tags, maxStalenessSeconds}) as users and the spec tests give them.
// Pure: OP_MSG only (this client sends OP_QUERY for the first handshake alone).
#pragma once

#include <string>

#include "mongowire/bson.hpp"
#include "proto/sdam/server_selection.hpp"

namespace mongowire::detail::sdam {

// The $readPreference global command argument a command carries.
enum class read_preference_argument {
  none,               // not sent
  as_given,           // the operation's read preference ("Document structure")
  primary_preferred,  // {mode: "primaryPreferred"}: a direct connection to a non-mongos
};

// For a command of kind `operation` (writes never carry one) sent to a server of type
// `server` selected in a topology of type `topology`:
// - Single: Standalone -> none; Mongos -> the mongos rule; any other server type -> the
//   read preference, primaryPreferred when it is primary (so that a secondary answers).
// - ReplicaSetWithPrimary/NoPrimary: none for primary, else the read preference.
// - Sharded, LoadBalanced (mongos rule, OP_MSG): none for primary, else the read preference.
read_preference_argument read_preference_to_send(topology_type topology, server_type server, operation_kind operation,
                                                 const read_preference& rp) noexcept;

// The $readPreference document ("Document structure"): mode in camel case; `tags` when a tag
// set is given; maxStalenessSeconds (an integer) when set. `out` is cleared first.
void build_read_preference_document(const read_preference& rp, bson::document& out);

// The argument of `kind` as a document (`out` empty for none).
void build_read_preference_argument(read_preference_argument kind, const read_preference& rp, bson::document& out);

// Parses {mode, tags, maxStalenessSeconds, hedge} (hedge is deprecated and ignored). Empty on
// success, else what is wrong; the rules of read_preference_error() are checked too.
std::string parse_read_preference_document(bson::view doc, read_preference& out);

}  // namespace mongowire::detail::sdam
