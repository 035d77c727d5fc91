// What a mongowire::cursor holds (include/mongowire/cursor.hpp), and how the operations that
// return cursors open one: the single getMore/killCursors implementation of the library (the
// draining operations, find or list_indexes, iterate a cursor too).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/client_impl.hpp"
#include "mongowire/cursor.hpp"
#include "proto/operation/operations.hpp"

namespace mongowire::detail {

// How a cursor was asked for (the options of find, aggregate, runCursorCommand, ...).
struct cursor_settings {
  cursor_type type = cursor_type::non_tailable;
  std::optional<timeout_mode> mode;
  std::optional<std::int32_t> batch_size;  // each getMore's batchSize
  // maxTimeMS of each getMore (awaitData cursors: how long the server waits for documents).
  std::optional<std::int64_t> max_await_time_ms;
  bool writes = false;                // an aggregate with $out/$merge (no ITERATION mode)
  std::optional<bson_value> comment;  // sent with each getMore
};

// An aggregate's (collection or database): $out/$merge refuses the iteration mode.
cursor_settings aggregate_cursor_settings(bson::view pipeline, const mongowire::aggregate_options& o);
// crud.md "AggregateOptions" as the aggregate command's fields; `coll` "" aggregates the database.
aggregate_op aggregate_operation(std::string_view coll, bson::view pipeline, const mongowire::aggregate_options& o);

struct cursor_state {
  cursor_state(std::shared_ptr<client_impl> c, std::shared_ptr<session_impl> s, bool implicit_session)
      : client(std::move(c)), session(std::move(s)), implicit(implicit_session) {}
  cursor_state(const cursor_state&) = delete;
  cursor_state& operator=(const cursor_state&) = delete;
  ~cursor_state() { release(); }

  std::shared_ptr<client_impl> client;
  std::shared_ptr<session_impl> session;
  bool implicit = false;               // the session is the cursor's own (released with it)
  host_address server;                 // server-selection.md "Cursors": getMore and killCursors go there
  pinned_connection connection{true};  // load-balanced mode: load-balancers.md "Behaviour With Cursors"
  std::string db;
  std::string ns;                    // "db.collection" from the server's reply
  std::string coll;                  // ns after the database: getMore's and killCursors' collection
  std::int64_t id = 0;               // 0: the server has no cursor any more
  bool unreachable = false;          // a network error: killCursors cannot reach the cursor
  std::deque<bson::document> batch;  // received, not yet returned
  cursor_settings settings;
  timeout_mode mode = timeout_mode::cursor_lifetime;  // settings.mode or its default
  std::optional<std::chrono::milliseconds> timeout;   // the handle's timeoutMS (unset: the client's)
  operation_deadline lifetime;                        // the deadline of the whole cursor (cursor_lifetime)

  // The session and the pinned connection go back once the cursor needs them no more.
  void release() noexcept;
  // The deadline of one next() call (or of one getMore of a drain).
  operation_deadline iteration_deadline() const;
  // One getMore within `deadline`: the next batch replaces `batch`.
  boost::asio::awaitable<error_code> get_more(const operation_deadline& deadline, diagnostics& diag);
  // killCursors when the server still has the cursor, then release(); failures only in `diag`.
  boost::asio::awaitable<void> kill(std::optional<std::chrono::milliseconds> timeout, diagnostics& diag);
};

struct cursor_access {
  static std::unique_ptr<cursor_state>& state(cursor& c) noexcept { return c.state_; }
};

// Runs `op` (find, aggregate, listIndexes, listCollections or a user's cursor command) with
// `given` (null: an implicit session, which the cursor keeps) and makes `out` the cursor of its
// reply. Refuses what client-side-operations-timeout.md "Cursors" forbids before sending anything.
boost::asio::awaitable<error_code> open_cursor(client_impl& client, const std::shared_ptr<session_impl>& given,
                                               const operation& op, const cursor_settings& settings, cursor& out,
                                               diagnostics& diag);

// Appends every document `c` still has to `out` (getMores until it is exhausted; a tailable
// cursor until a getMore brings nothing: the end of the collection, where it is closed). A failed
// getMore completes with its error and the cursor is closed (killCursors, best effort).
boost::asio::awaitable<error_code> drain_cursor(cursor& c, std::vector<bson::document>& out, diagnostics& diag);

}  // namespace mongowire::detail
