// The classic cross-database transaction, twice: set an employee's status to "Inactive"
// in hr.employees and record the change in reporting.events atomically, with
// readConcern snapshot and writeConcern majority.
//   1. with explicit retry loops (rerun the whole transaction on TransientTransactionError,
//      re-commit on UnknownTransactionCommitResult), as the MongoDB manual shows;
//   2. with session::with_transaction, which runs those loops for you.
// Runs against an embedded test server unless a connection string is given:
//   update-employee-info [mongodb://host:port/?replicaSet=rs0]
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <iostream>
#include <memory>

#include "mongowire/client.hpp"
#include "net/embedded_server.hpp"

namespace asio = boost::asio;
using namespace mongowire;

namespace {

transaction_options snapshot_majority() {
  transaction_options o;
  o.read_concern = bson::document::from_json(R"({"level": "snapshot"})");
  o.write_concern = bson::document::from_json(R"({"w": "majority"})");
  return o;
}

// The body of the transaction: both writes go through collections bound to the session.
asio::awaitable<error_code> deactivate(session& s, std::int32_t employee, diagnostics& diag) {
  auto employees = s.get_collection("hr", "employees");
  auto events = s.get_collection("reporting", "events");
  update_result updated;
  auto filter = bson::document::from_json(R"({"employee": )" + std::to_string(employee) + "}");
  auto change = bson::document::from_json(R"({"$set": {"status": "Inactive"}})");
  const update_options options;
  if (auto ec = co_await employees.update_one(filter, change, options, updated, diag)) co_return ec;
  insert_one_result inserted;
  bson::document event;
  event.append("employee", employee).append_document("status", [](bson::document& d) {
    d.append("new", "Inactive").append("old", "Active");
  });
  const insert_one_options insert_options;
  co_return co_await events.insert_one(event, insert_options, inserted, diag);
}

// 1. Explicit retry loops.
asio::awaitable<error_code> with_explicit_retries(client& c, diagnostics& diag) {
  auto s = c.start_session();
  for (;;) {
    diag.clear();
    if (auto ec = s.start_transaction(snapshot_majority(), diag)) co_return ec;
    error_code ec = co_await deactivate(s, 3, diag);
    if (ec) {
      diagnostics ignored;
      co_await s.abort_transaction(ignored);
      if (diag.has_label(label::transient_transaction_error)) continue;  // rerun the transaction
      co_return ec;
    }
    for (;;) {
      diag.clear();
      ec = co_await s.commit_transaction(diag);
      if (ec && diag.has_label(label::unknown_transaction_commit_result)) continue;  // commit again
      break;
    }
    if (ec && diag.has_label(label::transient_transaction_error)) continue;
    co_return ec;
  }
}

// 2. The convenient API.
asio::awaitable<error_code> with_convenient_api(client& c, diagnostics& diag) {
  auto s = c.start_session();
  co_return co_await s.with_transaction([](session& s, diagnostics& d) { return deactivate(s, 4, d); },
                                        snapshot_majority(), diag);
}

asio::awaitable<int> run(client& c) {
  diagnostics diag;
  auto employees = c.get_collection("hr", "employees");
  for (int id : {3, 4}) {
    insert_one_result r;
    bson::document doc;
    doc.append("employee", std::int32_t{id}).append("status", "Active");
    const insert_one_options options;
    if (auto ec = co_await employees.insert_one(doc, options, r, diag)) {
      std::cerr << "seeding failed: " << ec.message() << " " << describe(diag) << "\n";
      co_return 1;
    }
  }
  if (auto ec = co_await with_explicit_retries(c, diag)) {
    std::cerr << "explicit transaction failed: " << ec.message() << " " << describe(diag) << "\n";
    co_return 1;
  }
  if (auto ec = co_await with_convenient_api(c, diag)) {
    std::cerr << "with_transaction failed: " << ec.message() << " " << describe(diag) << "\n";
    co_return 1;
  }
  std::vector<bson::document> docs;
  const bson::document all;
  const find_options no_options;
  co_await employees.find(all, no_options, docs, diag);
  for (const auto& d : docs) std::cout << "hr.employees     " << d.get_view().to_relaxed_json() << "\n";
  docs.clear();
  co_await c.get_collection("reporting", "events").find(all, no_options, docs, diag);
  for (const auto& d : docs) std::cout << "reporting.events " << d.get_view().to_relaxed_json() << "\n";
  co_await c.close();
  co_return docs.size() == 2 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<testd::embedded_server> server;
  std::string uri;
  if (argc > 1) {
    uri = argv[1];
  } else {
    server = std::make_unique<testd::embedded_server>();
    uri = "mongodb://" + server->address() + "/?replicaSet=rs0";  // replica-set discovery
  }
  asio::io_context io;
  // The client lives in the coroutine that uses it: on every path out (error, exception,
  // return) its destructor stops monitors and pools, so io.run() returns.
  auto main_job = [&uri]() -> asio::awaitable<int> {
    client c(co_await asio::this_coro::executor, uri);
    co_return co_await run(c);
  };
  auto result = asio::co_spawn(io, main_job(), asio::use_future);
  io.run();
  try {
    return result.get();
  } catch (const std::exception& e) {  // e.g. an invalid connection string
    std::cerr << "update-employee-info: " << e.what() << "\n";
    return 1;
  }
}
