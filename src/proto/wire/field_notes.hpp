// What the session, transaction and gossip fields of a command or reply mean, each with the
// spec section that defines it: the annotations of describe_frame (mongowire-cli --trace,
// docs/protocol.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mongowire/bson.hpp"

namespace mongowire::detail::wire {

struct field_note {
  std::string path;          // "txnNumber", "readConcern.afterClusterTime", "errorLabels[0]"
  std::string value;         // relaxed extended JSON of the value
  std::string_view meaning;  // one sentence
  std::string_view source;   // spec file and section, e.g. transactions.md "Behavior of the autocommit field"
};

// The notable fields of a command body sent by a client, in document order.
std::vector<field_note> explain_command(bson::view body);
// The notable fields of a server reply, in document order (each error label on its own).
std::vector<field_note> explain_reply(bson::view body);

}  // namespace mongowire::detail::wire
