// insertMany and bulkWrite split their statements into commands the server accepts (crud.md
// "Bulk Write", OP_MSG.md "Document Sequences"; spec-conformance finding 2), and a statement
// too large for the server is a client error that sends nothing.
#include "client_support.hpp"

using namespace client_test;

namespace {

constexpr std::size_t mib = 1024 * 1024;

std::vector<bson::document> small_documents(std::int32_t n) {
  std::vector<bson::document> docs;
  docs.reserve(static_cast<std::size_t>(n));
  for (std::int32_t i = 0; i < n; ++i) {
    bson::document d;
    d.append("_id", i);
    docs.push_back(std::move(d));
  }
  return docs;
}

error_code insert_many(fixture& f, std::vector<bson::document> docs, insert_many_result& result, diagnostics& diag) {
  return run(f.io, [&]() -> asio::awaitable<error_code> {
    auto coll = f.c->get_collection("test", "c");  // outlives the operation
    auto pending = coll.insert_many(std::move(docs), insert_many_options{}, result, diag);
    co_return co_await std::move(pending);
  }());
}

}  // namespace

TEST_CASE("insertMany of maxWriteBatchSize + 1 documents sends two insert commands") {
  fixture f;
  insert_many_result r;
  diagnostics diag;
  REQUIRE_MESSAGE(!insert_many(f, small_documents(100'001), r, diag), describe(diag));
  CHECK(r.inserted_count == 100'001);
  auto inserts = f.started("insert");
  REQUIRE(inserts.size() == 2);
  CHECK(array_size(*inserts[0], "documents") == 100'000);
  CHECK(array_size(*inserts[1], "documents") == 1);
  CHECK(f.count("c") == 100'001);
}

TEST_CASE("insertMany of 4 x 13 MB documents (over maxMessageSizeBytes) sends 3 + 1 documents") {
  fixture f;
  std::vector<bson::document> docs;
  for (std::int32_t i = 0; i < 4; ++i) docs.push_back(document_of_size(i, 13'000'000));
  insert_many_result r;
  diagnostics diag;
  REQUIRE_MESSAGE(!insert_many(f, std::move(docs), r, diag), describe(diag));
  CHECK(r.inserted_count == 4);
  auto inserts = f.started("insert");
  REQUIRE(inserts.size() == 2);
  CHECK(array_size(*inserts[0], "documents") == 3);
  CHECK(array_size(*inserts[1], "documents") == 1);
  CHECK(f.pool_cleared_count() == 0);
}

TEST_CASE("a document above maxBsonObjectSize is a client error: nothing is sent, the pool is not cleared") {
  fixture f;
  std::vector<bson::document> docs;
  docs.push_back(document_of_size(1, 100));
  docs.push_back(document_of_size(2, 16 * mib + 1));
  insert_many_result r;
  diagnostics diag;
  auto ec = insert_many(f, std::move(docs), r, diag);
  CHECK(ec == client_errc::invalid_argument);
  CHECK(diag.client_message.find("document too large") != std::string::npos);
  CHECK(diag.labels.empty());
  CHECK(f.started("insert").empty());
  CHECK(f.pool_cleared_count() == 0);
  CHECK(f.count("c") == 0);
}

TEST_CASE("insertOne of a document above maxBsonObjectSize is a client error that sends nothing") {
  fixture f;
  auto doc = document_of_size(1, 16 * mib + 1);
  diagnostics diag;
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    auto coll = f.c->get_collection("test", "c");
    insert_one_result r;
    const insert_one_options options;
    co_return co_await coll.insert_one(doc, options, r, diag);
  }());
  CHECK(ec == client_errc::invalid_argument);
  CHECK(f.started("insert").empty());
}

TEST_CASE("in a transaction a too-large document changes neither the transaction state nor its labels") {
  fixture f;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction());
  std::vector<bson::document> docs;
  docs.push_back(document_of_size(1, 16 * mib + 1));
  diagnostics diag;
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    insert_many_result r;
    auto coll = s.get_collection("test", "c");
    auto pending = coll.insert_many(std::move(docs), insert_many_options{}, r, diag);
    co_return co_await std::move(pending);
  }());
  CHECK(ec == client_errc::invalid_argument);
  CHECK_FALSE(diag.has_label("TransientTransactionError"));
  CHECK(s.current_transaction_state() == transaction_state::starting);
  diagnostics commit_diag;
  auto commit =
      run(f.io, [&]() -> asio::awaitable<error_code> { co_return co_await s.commit_transaction(commit_diag); }());
  CHECK(!commit);
  CHECK(f.started("commitTransaction").empty());  // transactions.md: nothing to commit
  run(f.io, [&]() -> asio::awaitable<int> {
    co_await s.end();
    co_return 0;
  }());
}

TEST_CASE("bulkWrite splits each run of one command by maxWriteBatchSize and keeps request indexes") {
  fixture f;
  std::vector<write_model> requests(100'002);
  for (std::int32_t i = 0; i < 100'001; ++i) requests[static_cast<std::size_t>(i)].document.append("_id", i);
  auto& del = requests.back();
  del.type = write_model::kind::delete_one;
  del.filter.append("_id", std::int32_t{7});
  bulk_write_options o;
  bulk_write_result r;
  diagnostics diag;
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    auto coll = f.c->get_collection("test", "c");
    auto pending = coll.bulk_write(std::move(requests), o, r, diag);
    co_return co_await std::move(pending);
  }());
  REQUIRE_MESSAGE(!ec, describe(diag));
  CHECK(r.inserted_count == 100'001);
  CHECK(r.deleted_count == 1);
  CHECK(r.inserted_ids["100000"].as_int32() == 100'000);
  CHECK(f.started("insert").size() == 2);
  CHECK(f.started("delete").size() == 1);
  CHECK(f.count("c") == 100'000);
}

namespace {
// 100,002 inserts of _id i, except request `dup`, which repeats _id 0.
error_code bulk_insert_with_duplicate(fixture& f, std::size_t dup, bulk_write_result& r, diagnostics& diag) {
  std::vector<write_model> requests(100'002);
  for (std::size_t i = 0; i < requests.size(); ++i)
    requests[i].document.append("_id", static_cast<std::int32_t>(i == dup ? 0 : i));
  bulk_write_options o;
  return run(f.io, [&]() -> asio::awaitable<error_code> {
    auto coll = f.c->get_collection("test", "c");
    auto pending = coll.bulk_write(std::move(requests), o, r, diag);
    co_return co_await std::move(pending);
  }());
}
}  // namespace

TEST_CASE("a write error in a later command of a bulkWrite carries the request's index") {
  fixture f;
  bulk_write_result r;
  diagnostics diag;
  CHECK(bulk_insert_with_duplicate(f, 100'001, r, diag));
  REQUIRE(diag.write_errors.size() == 1);
  CHECK(diag.write_errors[0].index == 100'001);
  CHECK(r.inserted_count == 100'001);
  CHECK(f.started("insert").size() == 2);
}

TEST_CASE("an ordered bulkWrite sends no further command after one with a write error") {
  fixture f;
  bulk_write_result r;
  diagnostics diag;
  CHECK(bulk_insert_with_duplicate(f, 5, r, diag));
  REQUIRE(diag.write_errors.size() == 1);
  CHECK(diag.write_errors[0].index == 5);
  CHECK(r.inserted_count == 5);
  CHECK(f.started("insert").size() == 1);
}
