// A server cursor as a value the user iterates (issues 12 and 14): what find_cursor,
// aggregate_cursor, list_indexes_cursor, list_collections_cursor and run_cursor_command return.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "mongowire/client.hpp"

namespace mongowire {

namespace detail {
struct cursor_state;
struct cursor_access;
}  // namespace detail

// An open server cursor: the current batch, the cursor id and namespace, the server that opened
// it (every getMore and the killCursors go there, server-selection.md "Cursors"), its session
// (an implicit one lives as long as the cursor, driver-sessions.md) and, in load-balanced mode,
// the connection it is pinned to (load-balancers.md "Behaviour With Cursors": checked in when
// the cursor is exhausted or closed; after a network error on a getMore it is closed, at close()).
//
// Iterate with next() (waits for a document: for a tailable cursor, getMores until one arrives)
// or try_next() (at most one getMore; no document is not an error). getMores use batch_size and
// are never retried (retryable-reads.md "Unsupported Read Operations"). timeoutMS
// (client-side-operations-timeout.md "Cursors"): with timeout_mode cursor_lifetime (non-tailable
// default) each getMore gets what is left of the deadline fixed when the cursor was opened and
// carries no maxTimeMS; with iteration (tailable default) each next()/try_next() call gets the
// whole timeoutMS. Documents of a batch already received are returned even after the deadline.
//
// close() sends killCursors when the server still has the cursor; it gets a fresh timeoutMS (or
// the one given). Destroying (or assigning over) an open cursor without close() sends the same
// killCursors detached on the client's executor (its failure ignored), then releases the session
// and pinned connection. A cursor is moved, not copied; use it on the client's strand, one
// operation at a time, and not after the client is destroyed.
class cursor {
 public:
  cursor() noexcept;  // no cursor: next() gives nothing
  cursor(cursor&&) noexcept;
  cursor& operator=(cursor&&) noexcept;
  cursor(const cursor&) = delete;
  cursor& operator=(const cursor&) = delete;
  ~cursor();

  // The server's cursor id; 0 once the server has closed it (exhausted) or after close().
  std::int64_t id() const noexcept;
  // "db.collection" of the cursor ("db.$cmd.listCollections" for listCollections).
  std::string_view ns() const noexcept;
  // Documents received and not yet returned.
  std::size_t buffered() const noexcept;
  // false once every document was returned and the server has no more (or after close()).
  bool has_more() const noexcept;

  // The next document in `out`; nullopt: the cursor is exhausted (or closed). An empty batch
  // makes it send another getMore: a tailable cursor waits (within its timeoutMS, if any) until
  // a document arrives or the server closes the cursor. A failed getMore completes with its
  // error and leaves the cursor open (close() it), except after a network error: the server
  // cursor is then unreachable and close() sends nothing.
  template <class Token>
  auto async_next(std::optional<bson::document>& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), next(out, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> next(std::optional<bson::document>& out, diagnostics& diag);

  // As next() but with at most one getMore (unified-test-format.md "iterateOnce"): nullopt and
  // no error when that getMore brought nothing (a tailable cursor at the end of its collection).
  template <class Token>
  auto async_try_next(std::optional<bson::document>& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), try_next(out, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> try_next(std::optional<bson::document>& out, diagnostics& diag);

  // Closes the cursor: killCursors {killCursors: coll, cursors: [id]} to its server when the
  // server still has it, then the session and pinned connection are released. The killCursors'
  // failure is not an error (find_getmore_killcursors.md): close() completes without error, and
  // `diag` describes a failure. `timeout` overrides timeoutMS for this call; without it the
  // cursor's timeoutMS is refreshed (client-side-operations-timeout.md "Cursors").
  template <class Token>
  auto async_close(diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), close(std::nullopt, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> close(std::optional<std::chrono::milliseconds> timeout, diagnostics& diag);
  boost::asio::awaitable<error_code> close(diagnostics& diag) { return close(std::nullopt, diag); }

 private:
  friend struct detail::cursor_access;
  boost::asio::any_io_executor executor() const;
  boost::asio::awaitable<error_code> advance(std::optional<bson::document>& out, bool once, diagnostics& diag);
  void kill_detached() noexcept;  // destruction: killCursors without waiting

  std::unique_ptr<detail::cursor_state> state_;
};

}  // namespace mongowire
