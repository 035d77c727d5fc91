// transactions.md "Error Labels" and retryable-writes.md "Determining Retryable Errors": the
// labels the driver adds, as a table following shared/specs/transactions/error-labels.json,
// retryable-commit.json, retryable-abort*.json and retryable-writes/*-serverErrors.json.
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "proto/retry/error_labels.hpp"
#include "proto/retry/retryable_codes.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {

constexpr auto TTE = label::transient_transaction_error;
constexpr auto UTCR = label::unknown_transaction_commit_result;
constexpr auto RWE = label::retryable_write_error;

struct label_case {
  const char* rule;
  failure_kind kind;
  label_context ctx;
  std::int32_t code = 0;
  std::optional<std::int32_t> wce_code = std::nullopt;
  std::vector<std::string_view> server_labels = {};
  std::vector<std::string_view> contain = {};
  std::vector<std::string_view> omit = {};
};

label_context in_txn(retry_family family = retry_family::other, std::int32_t wire = 25) {
  return {.family = family,
          .in_transaction = true,
          .retryable_write = true,
          .max_wire_version = wire,
          .from_mongos = false};
}
label_context retryable_write(std::int32_t wire, bool mongos = false) {
  return {.family = retry_family::other,
          .in_transaction = false,
          .retryable_write = true,
          .max_wire_version = wire,
          .from_mongos = mongos};
}

diagnostics make_diag(const label_case& c) {
  diagnostics d;
  d.server_code = c.code;
  if (c.wce_code) {
    d.write_concern.emplace();
    d.write_concern->code = *c.wce_code;
  }
  for (auto l : c.server_labels) d.labels.add(l);
  return d;
}

}  // namespace

TEST_CASE("transactions.md / retryable-writes.md: the labels the driver adds, per spec rule") {
  using fk = failure_kind;
  using cr = retry_family;
  const label_case cases[] = {
      {"network error on a write in a transaction: TransientTransactionError, not RetryableWriteError",
       fk::network,
       in_txn(),
       0,
       {},
       {},
       {TTE},
       {RWE, UTCR}},
      {"server selection error in a transaction: TransientTransactionError",
       fk::server_selection,
       in_txn(),
       0,
       {},
       {},
       {TTE},
       {RWE, UTCR}},
      {"PoolClearedError in a transaction: TransientTransactionError",
       fk::pool_cleared,
       in_txn(),
       0,
       {},
       {},
       {TTE},
       {RWE, UTCR}},
      {"WaitQueueTimeout or a closed pool in a transaction (a \"Network Error\"): TransientTransactionError only",
       fk::checkout_failed,
       in_txn(),
       0,
       {},
       {},
       {TTE},
       {RWE, UTCR}},
      {"WaitQueueTimeout or a closed pool on commit: UnknownTransactionCommitResult, not retryable",
       fk::checkout_failed,
       in_txn(cr::commit),
       0,
       {},
       {},
       {UTCR},
       {TTE, RWE}},
      {"WaitQueueTimeout on a retryable write outside a transaction: no label",
       fk::checkout_failed,
       retryable_write(25),
       0,
       {},
       {},
       {},
       {RWE, TTE, UTCR}},
      {"an encoding failure (client error) in a transaction: no label",
       fk::client,
       in_txn(),
       0,
       {},
       {},
       {},
       {RWE, TTE, UTCR}},
      {"network error on commit: RetryableWriteError and UnknownTransactionCommitResult, never Transient",
       fk::network,
       in_txn(cr::commit),
       0,
       {},
       {},
       {RWE, UTCR},
       {TTE}},
      {"server selection error on commit: UnknownTransactionCommitResult",
       fk::server_selection,
       in_txn(cr::commit),
       0,
       {},
       {},
       {UTCR},
       {TTE, RWE}},
      {"PoolClearedError on commit: UnknownTransactionCommitResult and RetryableWriteError",
       fk::pool_cleared,
       in_txn(cr::commit),
       0,
       {},
       {},
       {UTCR, RWE},
       {TTE}},
      {"writeConcernError WriteConcernTimeout (64) on commit: UnknownTransactionCommitResult",
       fk::server_reply,
       in_txn(cr::commit),
       0,
       64,
       {},
       {UTCR},
       {RWE, TTE}},
      {"WriteConcernFailed (64) as a top-level code on commit: UnknownTransactionCommitResult",
       fk::server_reply,
       in_txn(cr::commit),
       64,
       {},
       {},
       {UTCR},
       {RWE, TTE}},
      {"writeConcernError UnsatisfiableWriteConcern (100) on commit: no label",
       fk::server_reply,
       in_txn(cr::commit),
       0,
       100,
       {},
       {},
       {UTCR, RWE, TTE}},
      {"writeConcernError UnknownReplWriteConcern (79) on commit: no label",
       fk::server_reply,
       in_txn(cr::commit),
       0,
       79,
       {},
       {},
       {UTCR, RWE, TTE}},
      {"MaxTimeMSExpired (50) on commit: UnknownTransactionCommitResult",
       fk::server_reply,
       in_txn(cr::commit),
       50,
       {},
       {},
       {UTCR},
       {RWE, TTE}},
      {"writeConcernError MaxTimeMSExpired (50) on commit: UnknownTransactionCommitResult",
       fk::server_reply,
       in_txn(cr::commit),
       0,
       50,
       {},
       {UTCR},
       {RWE, TTE}},
      {"MaxTimeMSExpired inside a transaction (not commit): no label",
       fk::server_reply,
       in_txn(),
       50,
       {},
       {},
       {},
       {UTCR, RWE, TTE}},
      {"NoSuchTransaction on commit keeps the server's TransientTransactionError",
       fk::server_reply,
       in_txn(cr::commit),
       251,
       {},
       {TTE},
       {TTE},
       {UTCR, RWE}},
      {"a retryable writes error on commit (server-labeled) also gets UnknownTransactionCommitResult",
       fk::server_reply,
       in_txn(cr::commit),
       10107,
       {},
       {RWE},
       {RWE, UTCR},
       {TTE}},
      {"pre-4.4 server: ExceededTimeLimit (262) on commit gets RetryableWriteError and UnknownTransactionCommitResult",
       fk::server_reply,
       in_txn(cr::commit, 8),
       262,
       {},
       {},
       {RWE, UTCR},
       {TTE}},
      {"UnknownTransactionCommitResult replaces a TransientTransactionError on commit",
       fk::server_reply,
       in_txn(cr::commit),
       0,
       64,
       {TTE},
       {UTCR},
       {TTE}},
      {"a write concern error ShutdownInProgress inside a transaction gets no RetryableWriteError",
       fk::server_reply,
       in_txn(cr::other, 8),
       0,
       91,
       {},
       {},
       {RWE, UTCR, TTE}},
      {"pre-4.4 server: writeConcernError with a retryable code on abort gets RetryableWriteError",
       fk::server_reply,
       in_txn(cr::abort, 8),
       0,
       11600,
       {},
       {RWE},
       {UTCR}},
      {"network error on abort: RetryableWriteError (abort is a retryable write) and TransientTransactionError",
       fk::network,
       in_txn(cr::abort),
       0,
       {},
       {},
       {RWE, TTE},
       {UTCR}},
      {"network error on a retryable write: RetryableWriteError",
       fk::network,
       retryable_write(25),
       0,
       {},
       {},
       {RWE},
       {TTE, UTCR}},
      {"PoolClearedError on a retryable write: RetryableWriteError",
       fk::pool_cleared,
       retryable_write(25),
       0,
       {},
       {},
       {RWE},
       {TTE, UTCR}},
      {"pre-4.4 server: retryable top-level code gets RetryableWriteError",
       fk::server_reply,
       retryable_write(8),
       11600,
       {},
       {},
       {RWE},
       {}},
      {"pre-4.4 mongod: retryable writeConcernError code gets RetryableWriteError",
       fk::server_reply,
       retryable_write(8),
       0,
       91,
       {},
       {RWE},
       {}},
      {"pre-4.4 mongos: writeConcernError code does not add RetryableWriteError",
       fk::server_reply,
       retryable_write(8, true),
       0,
       91,
       {},
       {},
       {RWE}},
      {"4.4+ server: the driver never labels a server reply",
       fk::server_reply,
       retryable_write(9),
       11600,
       91,
       {},
       {},
       {RWE}},
      {"pre-4.4 server: WriteConcernFailed (64) is not a retryable code",
       fk::server_reply,
       retryable_write(8),
       0,
       64,
       {},
       {},
       {RWE}},
      {"pre-4.4 server: a non-retryable code (Interrupted 11601) gets nothing",
       fk::server_reply,
       retryable_write(8),
       11601,
       {},
       {},
       {},
       {RWE}},
      {"server selection error on a retryable write: no label",
       fk::server_selection,
       retryable_write(25),
       0,
       {},
       {},
       {},
       {RWE, TTE, UTCR}},
      {"retryWrites=false: a network error on a write gets no RetryableWriteError",
       fk::network,
       label_context{.max_wire_version = 25},
       0,
       {},
       {},
       {},
       {RWE, TTE, UTCR}},
      {"driver-side errors are never labeled", fk::client, in_txn(cr::commit), 0, {}, {}, {}, {RWE, TTE, UTCR}},
  };
  for (const label_case& c : cases) {
    CAPTURE(c.rule);
    diagnostics d = make_diag(c);
    add_client_labels(c.kind, d, c.ctx);
    for (auto l : c.contain) CHECK_MESSAGE(d.has_label(l), "missing " << l);
    for (auto l : c.omit) CHECK_MESSAGE(!d.has_label(l), "unexpected " << l);
    CHECK_FALSE((d.has_label(TTE) && d.has_label(UTCR)));
  }
}

TEST_CASE("retryable-writes.md: writeErrors[].code never adds RetryableWriteError") {
  diagnostics d;
  d.write_errors.push_back({0, 11600, "InterruptedAtShutdown", "x", {}});
  add_client_labels(failure_kind::server_reply, d, retryable_write(8));
  CHECK_FALSE(d.has_label(RWE));
}

TEST_CASE("retryable-writes.md: code 20 'Transaction numbers...' is rewritten with the retryWrites=false advice") {
  diagnostics d;
  d.server_code = 20;
  d.server_message = "Transaction numbers are only allowed on storage engines that support document-level locking";
  CHECK(rewrite_retryable_writes_unsupported(d));
  CHECK(d.server_message.starts_with("Transaction numbers"));  // the server's errmsg is kept
  CHECK(d.client_message ==
        "This MongoDB deployment does not support retryable writes. Please add retryWrites=false to your connection "
        "string.");

  diagnostics other_message;
  other_message.server_code = 20;
  other_message.server_message = "Illegal operation for some other reason";
  CHECK_FALSE(rewrite_retryable_writes_unsupported(other_message));
  CHECK(other_message.client_message.empty());
  CHECK(other_message.server_message == "Illegal operation for some other reason");

  diagnostics other_code;
  other_code.server_code = 2;
  other_code.server_message = "Transaction numbers are only allowed ...";
  CHECK_FALSE(rewrite_retryable_writes_unsupported(other_code));
}

TEST_CASE("transactions-convenient-api.md: MaxTimeMSExpired is recognized at top level and in writeConcernError") {
  diagnostics top;
  top.server_code = 50;
  CHECK(is_max_time_ms_expired(top));
  diagnostics wce;
  wce.write_concern.emplace();
  wce.write_concern->code = 50;
  CHECK(is_max_time_ms_expired(wce));
  diagnostics other;
  other.server_code = 64;
  CHECK_FALSE(is_max_time_ms_expired(other));
}

TEST_CASE("retryable-writes.md: the retryable error codes are exactly the spec's table") {
  const std::vector<std::int32_t> expected{11600, 11602, 10107, 13435, 13436, 189, 91, 7, 6, 89, 9001, 262};
  auto codes = retryable_write_codes();
  CHECK(std::vector<std::int32_t>(codes.begin(), codes.end()) == expected);
  for (auto c : expected) CHECK(is_retryable_write_code(c));
  for (std::int32_t c : {0, 20, 50, 64, 79, 100, 112, 134, 251, 11000, 11601}) CHECK_FALSE(is_retryable_write_code(c));
}

TEST_CASE("retryable-reads.md: retryable read codes add ReadConcernMajorityNotAvailableYet (134)") {
  CHECK(retryable_read_codes().size() == 13);
  CHECK(is_retryable_read_code(134));
  for (auto c : retryable_write_codes()) CHECK(is_retryable_read_code(c));
  CHECK_FALSE(is_retryable_read_code(50));
  CHECK_FALSE(is_retryable_read_code(11000));
}

TEST_CASE("retryable-writes.md 'Supported Write Operations': which write commands are retryable") {
  auto d = [](std::string_view json) { return bson::document::from_json(json); };
  const bson::document one_update = d(R"({"q": {}, "u": {"$set": {"a": 1}}})");
  const bson::document multi_update = d(R"({"q": {}, "u": {"$set": {"a": 1}}, "multi": true})");
  const bson::document multi_false = d(R"({"q": {}, "u": {"$set": {"a": 1}}, "multi": false})");
  const bson::document delete_one = d(R"({"q": {}, "limit": 1})");
  const bson::document delete_many = d(R"({"q": {}, "limit": 0})");
  const bson::document bulk_insert = d(R"({"insert": 0, "document": {"a": 1}})");
  const bson::document bulk_update_many = d(R"({"update": 0, "filter": {}, "updateMods": {}, "multi": true})");
  const bson::document bulk_delete_many = d(R"({"delete": 0, "filter": {}, "multi": true})");

  auto views = [](std::initializer_list<const bson::document*> docs) {
    std::vector<bson::view> v;
    for (auto* p : docs) v.push_back(p->get_view());
    return v;
  };
  CHECK(is_retryable_write_command("insert", {}, true));
  CHECK(is_retryable_write_command("update", views({&one_update, &multi_false}), true));
  CHECK_FALSE(is_retryable_write_command("update", views({&one_update, &multi_update}), true));
  CHECK(is_retryable_write_command("delete", views({&delete_one}), true));
  CHECK_FALSE(is_retryable_write_command("delete", views({&delete_one, &delete_many}), true));
  CHECK(is_retryable_write_command("findAndModify", {}, true));
  CHECK(is_retryable_write_command("bulkWrite", views({&bulk_insert}), true));
  CHECK_FALSE(is_retryable_write_command("bulkWrite", views({&bulk_insert, &bulk_update_many}), true));
  CHECK_FALSE(is_retryable_write_command("bulkWrite", views({&bulk_delete_many}), true));
  CHECK_FALSE(is_retryable_write_command("insert", {}, false));  // unacknowledged
  CHECK_FALSE(is_retryable_write_command("aggregate", {}, true));
  CHECK_FALSE(is_retryable_write_command("create", {}, true));
  CHECK_FALSE(is_retryable_write_command("drop", {}, true));
}
