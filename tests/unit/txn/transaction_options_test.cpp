// transactions.md "TransactionOptions": inheritance and the write concern of commit retries.
#include <doctest/doctest.h>

#include "proto/txn/transaction_options.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {

transaction_options level(std::string_view rc, std::string_view w, std::string_view mode,
                          std::optional<std::int64_t> ms) {
  transaction_options o;
  o.read_concern = bson::document::from_json(std::string("{\"level\": \"") + std::string(rc) + "\"}");
  o.write_concern = bson::document::from_json(std::string("{\"w\": \"") + std::string(w) + "\"}");
  o.read_preference = bson::document::from_json(std::string("{\"mode\": \"") + std::string(mode) + "\"}");
  o.max_commit_time_ms = ms;
  return o;
}
}  // namespace

TEST_CASE(
    "transactions.md: each transaction option comes from startTransaction, then defaultTransactionOptions, then the "
    "client") {
  const transaction_options given = level("snapshot", "given", "primary", 1);
  const transaction_options session = level("majority", "session", "nearest", 2);
  const transaction_options client = level("local", "client", "secondary", std::nullopt);

  auto all = resolve_transaction_options(given, session, client);
  CHECK(all.read_concern->find("level").as_string() == "snapshot");
  CHECK(all.write_concern->find("w").as_string() == "given");
  CHECK(all.read_preference->find("mode").as_string() == "primary");
  CHECK(all.max_commit_time_ms == 1);

  auto from_session = resolve_transaction_options(std::nullopt, session, client);
  CHECK(from_session.read_concern->find("level").as_string() == "majority");
  CHECK(from_session.write_concern->find("w").as_string() == "session");
  CHECK(from_session.max_commit_time_ms == 2);

  auto from_client = resolve_transaction_options(std::nullopt, std::nullopt, client);
  CHECK(from_client.read_concern->find("level").as_string() == "local");
  CHECK(from_client.read_preference->find("mode").as_string() == "secondary");
  CHECK_FALSE(from_client.max_commit_time_ms);  // "only if the caller explicitly provides a value"
}

TEST_CASE("transactions.md: options are resolved one by one, an unset option falls through to the next level") {
  transaction_options given;
  given.write_concern = bson::document::from_json(R"({"w": 1})");
  transaction_options session;
  session.read_concern = bson::document::from_json(R"({"level": "majority"})");
  transaction_options client;
  client.read_concern = bson::document::from_json(R"({"level": "local"})");
  client.write_concern = bson::document::from_json(R"({"w": "majority"})");
  client.read_preference = bson::document::from_json(R"({"mode": "secondary"})");

  auto r = resolve_transaction_options(given, session, client);
  CHECK(r.write_concern->find("w").as_int32() == 1);
  CHECK(r.read_concern->find("level").as_string() == "majority");
  CHECK(r.read_preference->find("mode").as_string() == "secondary");

  auto nothing = resolve_transaction_options(std::nullopt, std::nullopt, {});
  CHECK_FALSE(nothing.read_concern);
  CHECK_FALSE(nothing.write_concern);
  CHECK_FALSE(nothing.read_preference);
}

TEST_CASE("read-write-concern.md: unacknowledged is w:0 without j:true") {
  CHECK(is_unacknowledged(bson::document::from_json(R"({"w": 0})")));
  CHECK(is_unacknowledged(bson::document::from_json(R"({"w": {"$numberLong": "0"}})")));
  CHECK(is_unacknowledged(bson::document::from_json(R"({"w": 0, "j": false})")));
  CHECK_FALSE(is_unacknowledged(bson::document::from_json(R"({"w": 0, "j": true})")));
  CHECK_FALSE(is_unacknowledged(bson::document::from_json(R"({"w": 1})")));
  CHECK_FALSE(is_unacknowledged(bson::document::from_json(R"({"w": "majority"})")));
  CHECK_FALSE(is_unacknowledged(bson::document::from_json(R"({})")));
}

TEST_CASE("transactions.md: read preference in a transaction must be primary; absent means primary") {
  CHECK(is_primary(std::nullopt));
  CHECK(is_primary(bson::document::from_json(R"({"mode": "primary"})")));
  CHECK(is_primary(bson::document::from_json(R"({"mode": "Primary"})")));
  CHECK_FALSE(is_primary(bson::document::from_json(R"({"mode": "secondary"})")));
  CHECK_FALSE(is_primary(bson::document::from_json(R"({"mode": "primaryPreferred"})")));
  CHECK_FALSE(is_primary(bson::document::from_json(R"({"mode": "nearest"})")));
}

TEST_CASE(
    "transactions.md 'writeConcern for commitTransaction attempts': w majority, other fields kept, wtimeout 10000 "
    "added") {
  CHECK(commit_retry_write_concern(std::nullopt).get_view() ==
        bson::document::from_json(R"({"w": "majority", "wtimeout": 10000})").get_view());
  CHECK(commit_retry_write_concern(bson::document::from_json(R"({"w": 1})")).get_view() ==
        bson::document::from_json(R"({"w": "majority", "wtimeout": 10000})").get_view());
  CHECK(commit_retry_write_concern(bson::document::from_json(R"({"w": 2, "j": true, "wtimeout": 5000})")).get_view() ==
        bson::document::from_json(R"({"w": "majority", "j": true, "wtimeout": 5000})").get_view());
  CHECK(commit_retry_write_concern(bson::document::from_json(R"({"j": false})")).get_view() ==
        bson::document::from_json(R"({"w": "majority", "j": false, "wtimeout": 10000})").get_view());
}
