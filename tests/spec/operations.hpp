// Entity operations (unified-test-format.md, "Entity Test Operations"): each one is run
// through the engine's public API and its result converted to BSON for matching.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <utility>
#include <vector>

#include "entities.hpp"
#include "match.hpp"
#include "mongowire/client.hpp"
#include "value.hpp"

namespace mongowire::spec {

struct operation_outcome {
  error_code ec;
  diagnostics diag;
  value result;  // absent for operations without a result
  match_root root = match_root::document;
  // clientBulkWrite: every write concern error of its commands (diag holds the first only).
  std::vector<write_concern_error> write_concern_errors;
  // createFindCursor / createCommandCursor: the cursor, for saveResultAsEntity.
  std::unique_ptr<cursor_entity> cursor;
  // createCollection: the collection, for saveResultAsEntity.
  std::optional<collection_entity> collection;
};

struct operation_context {
  entity_map& entities;
  bool started_transaction = false;  // a transaction may be open: kill sessions after the test
  // Runs one nested operation (withTransaction's callback) with its own assertions and
  // returns its error, which must propagate to withTransaction.
  std::function<boost::asio::awaitable<std::pair<error_code, diagnostics>>(bson::view operation)> run_nested;
};

// Runs `operation` ({name, object, arguments, ...}) on an entity. Throws runner_error for an
// unknown entity, operation or argument.
boost::asio::awaitable<operation_outcome> run_entity_operation(bson::view operation, operation_context& ctx);

// Conversions of the format's option documents to the engine's server-form options.
bson::document write_concern_from(bson::view spec_write_concern);      // {w, journal, wtimeoutMS} -> {w, j, wtimeout}
bson::document read_preference_from(bson::view spec_read_preference);  // {mode, tagSets, ...} -> {mode, tags, ...}
collection_options collection_options_from(bson::view spec_options);
transaction_options transaction_options_from(bson::view spec_options);

}  // namespace mongowire::spec
