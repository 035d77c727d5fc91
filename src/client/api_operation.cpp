#include "client/api_operation.hpp"

#include "proto/command/command_builder.hpp"
#include "proto/reply/cursor_reply.hpp"

namespace mongowire::detail {

namespace asio = boost::asio;

operation describe(const operation_traits& t, std::string_view db, const bson::document& body,
                   const collection_options& handle) {
  operation op;
  op.traits = t;
  op.db = db;
  op.body = &body;
  if (t.takes_read_concern && handle.read_concern) op.inherited_read_concern = handle.read_concern->get_view();
  if (t.takes_write_concern && handle.write_concern) op.inherited_write_concern = handle.write_concern->get_view();
  if (handle.read_preference) op.inherited_read_preference = handle.read_preference->get_view();  // may-use-secondary
  op.timeout = handle.timeout;
  return op;
}

namespace {

// Appends the documents of a cursor reply's batch; returns the cursor id (0: exhausted).
error_code take_batch(const bson::document& reply, std::vector<bson::document>& out, cursor_reply& cursor,
                      diagnostics& diag) {
  if (auto ec = parse_cursor_reply(reply, cursor, diag)) return ec;
  for (const auto& e : cursor.batch)
    if (auto d = e.as_document()) out.emplace_back(*d);
  return {};
}

}  // namespace

asio::awaitable<error_code> run_cursor_operation(client_impl& client, const std::shared_ptr<session_impl>& given,
                                                 const operation& op, std::optional<std::int32_t> batch_size,
                                                 std::vector<bson::document>& out, diagnostics& diag) {
  const bool implicit = !given;
  std::shared_ptr<session_impl> session = implicit ? client.make_implicit_session() : given;
  bson::document reply;
  host_address cursor_server;                 // server-selection.md "Cursors": the getMores go there
  pinned_connection cursor_connection(true);  // load-balanced mode: checked in when it goes
  operation opening = op;
  opening.sent_to = &cursor_server;
  // client-side-operations-timeout.md "Non-tailable Cursors": timeoutMode CURSOR_LIFETIME (the
  // default): the command and every getMore of the drain share one deadline.
  if (!opening.deadline) opening.deadline = client.deadline_for(op.timeout, session.get());
  opening.cursor_connection = &cursor_connection;
  error_code ec = co_await client.execute(opening, session.get(), reply, diag);
  cursor_reply cursor;
  while (!ec && !(ec = take_batch(reply, out, cursor, diag)) && cursor.id != 0) {
    // find_getmore_killcursors.md: getMore names the collection of the cursor's namespace
    // ("db.$cmd.listCollections" for listCollections) and carries the batch size.
    std::string_view ns_coll = cursor.ns.substr(cursor.ns.find('.') + 1);
    const get_more_op get_more{cursor.id, ns_coll, batch_size};
    bson::document body;
    get_more.build(body);
    operation described = describe(get_more.traits(), op.db, body, collection_options{});
    described.cursor_server = &cursor_server;
    described.deadline = opening.deadline;
    described.cursor_connection = &cursor_connection;
    bson::document next;
    ec = co_await client.execute(described, session.get(), next, diag);
    reply = std::move(next);
  }
  if (implicit) session->release();
  co_return ec;
}

}  // namespace mongowire::detail
