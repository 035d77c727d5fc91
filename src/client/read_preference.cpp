// Read preferences in the executor (server-selection.md): which one an operation uses, the
// server of a cursor's getMore, and the $readPreference the selected server needs.
#include "client/client_impl.hpp"
#include "proto/sdam/read_preference_argument.hpp"

namespace mongowire::detail {

// server-selection.md "Read preference configuration" and "Use of read preferences with
// commands": a "may-use-secondary" read (find, aggregate without a write stage, count,
// distinct: the reads that take a read concern) uses its own read preference, else its
// handle's, else the client's; runCommand only its own (primary by default); the other
// reads (listCollections, listIndexes, listDatabases: "should-use-primary") primary. In a
// transaction every command goes to the primary: transactions.md "readPreference" refuses any
// other for reads before this runs, and writes carry none.
error_code client_impl::plan_read_preference(const operation& op, bool in_transaction, read_preference_plan& plan,
                                             diagnostics& diag) const {
  plan.cursor_server = op.cursor_server;
  plan.cursor_connection = op.cursor_connection;
  plan.sent_to = op.sent_to;
  plan.selects_as_read = op.traits.selects_by_read_preference && !in_transaction;
  if (!plan.selects_as_read) return {};
  const bool may_use_secondary = op.traits.takes_read_concern && !op.traits.sent_as_given;
  std::optional<bson::view> given = op.read_preference;
  if (!given && may_use_secondary) given = op.inherited_read_preference;
  if (!given) {
    plan.read_preference = may_use_secondary ? client_read_preference_ : sdam::read_preference{};
    return {};
  }
  if (auto why = sdam::parse_read_preference_document(*given, plan.read_preference); !why.empty()) {
    diag.client_message = "invalid read preference " + given->to_relaxed_json() + ": " + why;
    return client_errc::invalid_argument;
  }
  return {};
}

// server-selection.md "Cursors": "Cursor operations ... must be sent to the original server".
// A server that left the topology has taken its pool, and the cursor, with it.
error_code client_impl::select_server_at(const host_address& address, std::string_view role,
                                         net::selected_server& server, diagnostics& diag) const {
  if (auto found = topology_->server_at(address)) {
    server = std::move(*found);
    return {};
  }
  diag.client_message = "the " + std::string(role) + ", " + address.to_string() + ", is no longer in the topology";
  return client_errc::pool_closed;
}

void client_impl::append_read_preference(const read_preference_plan& plan, const sdam::server_description& server,
                                         bson::document& command) {
  const auto kind = plan.selects_as_read ? sdam::operation_kind::read : sdam::operation_kind::write;
  const auto argument =
      sdam::read_preference_to_send(topology_->description().type(), server.type, kind, plan.read_preference);
  if (argument == sdam::read_preference_argument::none) return;
  sdam::build_read_preference_argument(argument, plan.read_preference, read_preference_scratch_);
  command.append("$readPreference", read_preference_scratch_);
}

}  // namespace mongowire::detail
