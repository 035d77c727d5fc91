// Transaction options the tools use, named once.
#pragma once

#include "mongowire/bson.hpp"
#include "mongowire/options.hpp"

namespace mongowire::tools {

// readConcern snapshot, writeConcern majority: the usual choice for a transaction that must
// see one point in time and survive a failover (transactions.md "TransactionOptions").
inline transaction_options snapshot_majority() {
  transaction_options o;
  o.read_concern = bson::document::from_json(R"({"level": "snapshot"})");
  o.write_concern = bson::document::from_json(R"({"w": "majority"})");
  return o;
}

}  // namespace mongowire::tools
