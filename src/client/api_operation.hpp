// How the public API runs an operation type (proto/operation) through the executor
// (client_impl::execute): the type builds its body and parses its reply; its traits, not the
// call site, say which concerns it takes, how it selects a server and whether it is retried.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "client/client_impl.hpp"
#include "client/cursor_state.hpp"
#include "proto/operation/operations.hpp"

namespace mongowire::detail {

// The executor's view of an operation of traits `t` whose body is `body`, run on `db`; the
// handle's read concern applies when the command takes one, its write concern likewise
// (read-write-concern.md "Generic Command Method").
operation describe(const operation_traits& t, std::string_view db, const bson::document& body,
                   const collection_options& handle);

// Builds `op` into `buffers.body`, runs it with `session` (null: an implicit one) and parses
// the reply (kept in `buffers.reply`, which `out` may view into).
template <operation_type Op>
boost::asio::awaitable<error_code> run_operation(client_impl& client, session_impl* session, std::string_view db,
                                                 const collection_options& handle, const Op& op, op_buffers& buffers,
                                                 typename Op::result& out, diagnostics& diag) {
  if (auto ec = op.build(buffers.body)) co_return ec;
  const operation described = describe(op.traits(), db, buffers.body, handle);
  if (auto ec = co_await client.execute(described, session, buffers.reply, diag)) co_return ec;
  const error_code ec = parse_reply(op, buffers.reply, out, diag);
  client.note_statement_error(session, ec, diag);  // a write error aborts a transaction too
  co_return ec;
}

// Builds a cursor-returning operation (find, aggregate, listCollections, listIndexes) and opens
// its cursor (cursor_state.hpp: its getMores use the first command's session, an implicit one
// made here when `given` is null, and are never retried).
template <operation_type Op>
requires std::same_as<typename Op::result, cursor_reply> boost::asio::awaitable<error_code> open_cursor_operation(
    client_impl& client, const std::shared_ptr<session_impl>& given, std::string_view db,
    const collection_options& handle, const Op& op, const cursor_settings& settings, cursor& out, diagnostics& diag) {
  bson::document body;
  if (auto ec = op.build(body)) co_return ec;
  const operation described = describe(op.traits(), db, body, handle);
  co_return co_await open_cursor(client, given, described, settings, out, diag);
}

// The same, appending every document of the cursor to `out` (drain_cursor).
template <operation_type Op>
requires std::same_as<typename Op::result, cursor_reply> boost::asio::awaitable<error_code> run_cursor_operation(
    client_impl& client, const std::shared_ptr<session_impl>& given, std::string_view db,
    const collection_options& handle, const Op& op, const cursor_settings& settings, std::vector<bson::document>& out,
    diagnostics& diag) {
  cursor opened;
  if (auto ec = co_await open_cursor_operation(client, given, db, handle, op, settings, opened, diag)) co_return ec;
  co_return co_await drain_cursor(opened, out, diag);
}

}  // namespace mongowire::detail
