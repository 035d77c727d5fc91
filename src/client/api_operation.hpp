// How the public API hands the commands it builds to the executor (client_impl::execute).
// A call site only builds its command: whether the operation reads or writes, which concerns
// it takes and whether it is a retryable read or write are read from the command by one rule
// table (proto/command/command_kind.hpp), never decided by hand.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "client/client_impl.hpp"

namespace mongowire::detail {

// The operation running `body` on `db`; the handle's read concern applies when the command
// takes one, its write concern likewise (read-write-concern.md "Generic Command Method").
operation api_operation(std::string_view db, const bson::document& body, const collection_options& handle);

// Runs a cursor-returning read and drains its cursor with getMore into `out`. The getMores
// use the first command's session (driver-sessions.md: an implicit session lives as long as
// its cursor, so one is made here when `given` is null) and are never retried
// (retryable-reads.md "Unsupported Read Operations").
boost::asio::awaitable<error_code> run_cursor_operation(client_impl& client, const std::shared_ptr<session_impl>& given,
                                                        const operation& op, std::optional<std::int32_t> batch_size,
                                                        std::vector<bson::document>& out, diagnostics& diag);

}  // namespace mongowire::detail
