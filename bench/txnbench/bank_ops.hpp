// Plain (non-coroutine) functions returning the engine's awaitables. The engine's operations
// take options, documents and callbacks by value: called inside a co_await expression those
// arguments are temporaries of the awaiting coroutine, which g++ 12 destroys twice (DESIGN
// "g++ 12 coroutine bugs"). Built here, they belong to this call and the operation's frame.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "mongowire/client.hpp"

namespace txnbench::bank::ops {

using mongowire::diagnostics;
using mongowire::error_code;
using mongowire::bson::document;
using awaitable_error = boost::asio::awaitable<error_code>;

inline awaitable_error update_one(mongowire::collection& c, const document& filter, const document& update,
                                  mongowire::update_result& r, diagnostics& d) {
  return c.update_one(filter, update, mongowire::update_options{}, r, d);
}

inline awaitable_error insert_one(mongowire::collection& c, const document& doc, mongowire::insert_one_result& r,
                                  diagnostics& d) {
  return c.insert_one(doc, mongowire::insert_one_options{}, r, d);
}

inline awaitable_error insert_many(mongowire::collection& c, std::vector<document>& docs,
                                   mongowire::insert_many_result& r, diagnostics& d) {
  return c.insert_many(std::move(docs), mongowire::insert_many_options{}, r, d);
}

inline awaitable_error delete_one(mongowire::collection& c, const document& filter, mongowire::delete_result& r,
                                  diagnostics& d) {
  return c.delete_one(filter, mongowire::delete_options{}, r, d);
}

inline awaitable_error find_all(mongowire::collection& c, std::vector<document>& out, diagnostics& d) {
  static const document everything;  // the filter is a view: it must outlive the operation
  mongowire::find_options options;
  options.batch_size = 10000;
  return c.find(everything, std::move(options), out, d);
}

inline awaitable_error admin_command(mongowire::client& c, const document& cmd, document& reply, diagnostics& d) {
  return c.run_command("admin", cmd, reply, d);
}

inline awaitable_error with_transaction(mongowire::session& s, mongowire::session::transaction_callback& callback,
                                        const mongowire::transaction_options& options, diagnostics& d) {
  return s.with_transaction(std::move(callback), options, d);
}

}  // namespace txnbench::bank::ops
