// The executor's label and retry rules, checked exchange by exchange against a scripted peer
// (scripted_peer.hpp): each test states the commands the executor must send and the peer's
// answers, and "fail every step in turn" replaces each answer by a network error and checks
// what the specs say happens next. No test server is involved.
#include <functional>
#include <initializer_list>

#include "client/api_operation.hpp"
#include "client/client_access.hpp"
#include "client_support.hpp"
#include "scripted_peer.hpp"

using namespace client_test;
using scripted::expect;
using scripted::step;

namespace {

constexpr std::string_view insert_command = R"({"insert": "coll", "documents": [{"_id": 1}]})";
constexpr std::string_view txn_number_one = R"({"$numberLong": "1"})";
constexpr std::string_view inserted = R"({"ok": 1, "n": 1})";
constexpr std::string_view found =
    R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "ns": "db.coll", "firstBatch": [{"_id": 1, "x": 1}]}})";

struct attempt_result {
  error_code ec;
  diagnostics diag;
  bson::document reply;
};

// What the application saw: the operation, and the commit or abort that followed it (if any).
struct exchange_result {
  attempt_result operation;
  attempt_result finish;
};

using application = std::function<asio::awaitable<exchange_result>(client&)>;

// A client talking to a fresh scripted peer; closing it (endSessions) is the peer's business.
struct scripted_client {
  asio::io_context io;
  scripted::scripted_peer peer;
  std::unique_ptr<client> c;

  explicit scripted_client(scripted::peer_options options) : peer(io, std::move(options)) {
    c = std::make_unique<client>(io.get_executor(), peer.uri());
  }
  ~scripted_client() { run(io, close_client()); }
  asio::awaitable<error_code> close_client() { co_return co_await c->close(); }
};

// Plays `script` against what `app` does, checks the exchange went exactly as scripted
// (printing it otherwise) and returns what the application saw.
exchange_result play(const std::vector<step>& script, const application& app, scripted::peer_options options = {}) {
  scripted_client f(std::move(options));
  f.peer.play(script);
  exchange_result result = run(f.io, app(*f.c));
  INFO(f.peer.transcript());
  CHECK(f.peer.problems().empty());
  CHECK(f.peer.script_done());
  return result;
}

// The exchange with step `failed` of `script` answered by a network error instead: the steps
// before it, the failed one, then `after` (what the rule says the executor sends next).
std::vector<step> network_error_at(std::vector<step> script, std::size_t failed, const std::vector<step>& after) {
  script.erase(script.begin() + static_cast<std::ptrdiff_t>(failed) + 1, script.end());
  script[failed].close_connection();
  script.insert(script.end(), after.begin(), after.end());
  return script;
}

bool is_network_error(const error_code& ec) {
  return ec.category() == network_category() || ec.category() == boost::asio::error::get_system_category();
}

void check_labels(const diagnostics& d, std::initializer_list<std::string_view> present,
                  std::initializer_list<std::string_view> absent) {
  for (auto l : present) CHECK_MESSAGE(d.has_label(l), "missing label " << l);
  for (auto l : absent) CHECK_MESSAGE(!d.has_label(l), "unexpected label " << l);
}

// ---------------------------------------------------------------- what the application does

// An insert in a transaction, then commit (or abort when the insert failed), through the
// public session API.
asio::awaitable<exchange_result> insert_in_transaction(client& c, std::optional<transaction_options> options) {
  session s = c.start_session();
  exchange_result r;
  REQUIRE(!s.start_transaction(options, r.operation.diag));
  const std::string db = "db";
  const auto command = bson::document::from_json(insert_command);
  auto pending = s.run_command(db, command, r.operation.reply, r.operation.diag);
  r.operation.ec = co_await std::move(pending);
  const bool failed = static_cast<bool>(r.operation.ec);
  if (failed) r.finish.ec = co_await s.abort_transaction(r.finish.diag);
  if (!failed) r.finish.ec = co_await s.commit_transaction(r.finish.diag);
  co_return r;
}

application transaction(std::optional<transaction_options> options = std::nullopt) {
  return [options](client& c) { return insert_in_transaction(c, options); };
}

// Outside any transaction, the way the collection methods run an operation type: through the
// executor with an implicit session (src/client/api_operation.hpp). Every argument the
// coroutine takes by reference is a named local of this frame.
template <class Op>
asio::awaitable<exchange_result> through_executor(client& c, const Op& op) {
  detail::client_impl& executor = detail::client_access::impl(c);
  const collection_options handle;
  detail::op_buffers buffers;
  typename Op::result result;
  exchange_result r;
  auto pending = detail::run_operation(executor, nullptr, "db", handle, op, buffers, result, r.operation.diag);
  r.operation.ec = co_await std::move(pending);
  r.operation.reply = buffers.reply;
  co_return r;
}

// collection::insert_one's operation: a retryable write (retryable-writes.md "Supported
// Write Operations").
asio::awaitable<exchange_result> insert_outside_transaction(client& c) {
  const auto document = bson::document::from_json(R"({"_id": 1})");
  const bson::view documents[] = {document.get_view()};
  const detail::insert_op op{.coll = "coll", .documents = documents};
  co_return co_await through_executor(c, op);
}

// collection::find's operation: a retryable read (retryable-reads.md "Supported Read Operations").
asio::awaitable<exchange_result> find_outside_transaction(client& c) {
  const auto filter = bson::document::from_json(R"({"x": 1})");
  const detail::find_op op{.coll = "coll", .filter = filter.get_view(), .options = {}};
  co_return co_await through_executor(c, op);
}

// ---------------------------------------------------------------- the commands expected

// transactions.md "Constructing the first command within a transaction": lsid, txnNumber,
// startTransaction, autocommit; no readConcern unless the transaction has one; "Behavior of
// the writeConcern field": none on a statement.
step first_statement() {
  return expect("insert")
      .present("lsid")
      .equals("txnNumber", txn_number_one)
      .equals("startTransaction", "true")
      .equals("autocommit", "false")
      .absent("readConcern")
      .absent("writeConcern")
      .reply(inserted);
}

// transactions.md "Constructing any other command within a transaction", and "Interaction
// with Retryable Writes": commit and abort use the transaction's txnNumber; "Behavior of the
// recoveryToken field": only sharded transactions send one.
step finishing(std::string command) {
  return expect(std::move(command))
      .same_as_previous("lsid")
      .equals("txnNumber", txn_number_one)
      .equals("autocommit", "false")
      .absent("startTransaction")
      .absent("recoveryToken");
}

// transactions.md "commitTransaction": the transaction's writeConcern (none: the server's).
step first_commit() { return finishing("commitTransaction").absent("writeConcern"); }

// transactions.md "writeConcern for commitTransaction attempts": w: majority, wtimeout 10000.
step retried_commit() {
  return finishing("commitTransaction").equals("writeConcern", R"({"w": "majority", "wtimeout": 10000})");
}

// retryable-writes.md "Constructing Write Commands": lsid and txnNumber outside a transaction.
step retryable_insert() {
  return expect("insert")
      .present("lsid")
      .equals("txnNumber", txn_number_one)
      .absent("startTransaction")
      .absent("autocommit")
      .reply(inserted);
}

// retryable-writes.md "Generating Transaction IDs": every attempt has the same transaction ID.
step retried_insert() { return retryable_insert().same_as_previous("lsid").same_as_previous("txnNumber"); }

// retryable-reads.md "3b. Sending an equivalent command for a retry attempt".
step retried_find() { return expect("find").same_as_previous("filter").reply(found); }

}  // namespace

// ---------------------------------------------------------------- fail every step in turn

TEST_CASE("scripted: insert in a transaction and commit, the exchange transactions.md prescribes") {
  auto r = play({first_statement(), first_commit()}, transaction());
  CHECK(!r.operation.ec);
  CHECK(!r.finish.ec);
}

TEST_CASE("scripted: a network error at each step of a transaction gets the transactions.md label and retry") {
  const std::vector<step> happy = {first_statement(), first_commit()};
  // Step 0, the statement: transactions.md "Transient Transaction Error" (the client adds the
  // label to a network error in a transaction); "Interaction with Retryable Writes" (never
  // retried, never RetryableWriteError). The application then aborts.
  auto r = play(network_error_at(happy, 0, {finishing("abortTransaction")}), transaction());
  CHECK(is_network_error(r.operation.ec));
  check_labels(r.operation.diag, {label::transient_transaction_error},
               {label::retryable_write_error, label::unknown_transaction_commit_result});
  CHECK(!r.finish.ec);
  // Step 1, the commit: transactions.md "commitTransaction" (retried once, a retryable write)
  // with "writeConcern for commitTransaction attempts".
  r = play(network_error_at(happy, 1, {retried_commit()}), transaction());
  CHECK(!r.operation.ec);
  CHECK(!r.finish.ec);
  // Step 2, the retried commit: "UnknownTransactionCommitResult" (with RetryableWriteError,
  // never TransientTransactionError), and no second retry.
  const std::vector<step> retried = network_error_at(happy, 1, {retried_commit()});
  r = play(network_error_at(retried, 2, {}), transaction());
  CHECK(is_network_error(r.finish.ec));
  check_labels(r.finish.diag, {label::unknown_transaction_commit_result, label::retryable_write_error},
               {label::transient_transaction_error});
}

TEST_CASE("scripted: a network error at each attempt of a retryable write: one retry, same transaction ID") {
  const application app = insert_outside_transaction;
  // retryable-writes.md "Executing Retryable Write Commands": a retryable error is retried once.
  auto r = play(network_error_at({retryable_insert()}, 0, {retried_insert()}), app);
  CHECK(!r.operation.ec);
  CHECK(r.operation.reply["n"].as_int32() == 1);
  // ... and the retry's error is returned, labelled ("RetryableWriteError Labels": a network
  // error), with no second retry.
  const std::vector<step> retried = network_error_at({retryable_insert()}, 0, {retried_insert()});
  r = play(network_error_at(retried, 1, {}), app);
  CHECK(is_network_error(r.operation.ec));
  check_labels(r.operation.diag, {label::retryable_write_error}, {label::transient_transaction_error});
}

TEST_CASE("scripted: a network error at each attempt of a retryable read: one retry, a new message") {
  const application app = find_outside_transaction;
  const step first_find = expect("find").equals("filter", R"({"x": 1})").reply(found);
  // retryable-reads.md "2b. When to allow retry": a network error is retryable, retried once.
  scripted_client f({});
  f.peer.play(network_error_at({first_find}, 0, {retried_find()}));
  auto r = run(f.io, app(*f.c));
  INFO(f.peer.transcript());
  CHECK(f.peer.problems().empty());
  CHECK(f.peer.script_done());
  CHECK(!r.operation.ec);
  CHECK(r.operation.reply["cursor"].as_document().has_value());
  // "4. Implementation constraints": the retry is not the original wire message resent.
  REQUIRE(f.peer.commands().size() == 2);
  CHECK(f.peer.commands()[0].request_id != f.peer.commands()[1].request_id);
  // "3c. If a retry attempt fails": its error is raised; no third attempt (CSOT is not enabled).
  const std::vector<step> retried = network_error_at({first_find}, 0, {retried_find()});
  r = play(network_error_at(retried, 1, {}), app);
  CHECK(is_network_error(r.operation.ec));
}

// ---------------------------------------------------------------- labels in replies

TEST_CASE("scripted: a statement's reply labelled TransientTransactionError keeps it and is not retried") {
  // transactions.md "Transient Transaction Error": "In the case of command errors, the server
  // adds the label"; "Interaction with Retryable Writes": no retry in a transaction.
  auto r = play({first_statement().reply(R"({"ok": 0, "code": 112, "codeName": "WriteConflict",
                                             "errorLabels": ["TransientTransactionError"]})"),
                 finishing("abortTransaction")},
                transaction());
  CHECK(r.operation.ec == make_server_error(112));
  check_labels(r.operation.diag, {label::transient_transaction_error}, {label::retryable_write_error});
}

TEST_CASE("scripted: a commit's writeConcernError is UnknownTransactionCommitResult unless the concern is invalid") {
  // transactions.md "UnknownTransactionCommitResult": "write concern failed / timeout" gets the
  // label, UnsatisfiableWriteConcern (100) does not. Neither reply has RetryableWriteError and
  // a 6.0 server's reply gets none from the driver (retryable-writes.md "RetryableWriteError
  // Labels"): no retry.
  auto r = play({first_statement(), first_commit().reply(R"({"ok": 1, "writeConcernError": {"code": 64,
                   "codeName": "WriteConcernFailed", "errmsg": "waiting for replication timed out"}})")},
                transaction());
  REQUIRE(r.finish.ec);
  REQUIRE(r.finish.diag.write_concern.has_value());
  CHECK(r.finish.diag.write_concern->code == 64);
  check_labels(r.finish.diag, {label::unknown_transaction_commit_result},
               {label::retryable_write_error, label::transient_transaction_error});
  r = play({first_statement(), first_commit().reply(R"({"ok": 1, "writeConcernError": {"code": 100,
              "codeName": "UnsatisfiableWriteConcern", "errmsg": "Not enough data-bearing nodes"}})")},
           transaction());
  REQUIRE(r.finish.ec);
  check_labels(r.finish.diag, {}, {label::unknown_transaction_commit_result});
}

TEST_CASE("scripted: a retried commit keeps the transaction's wtimeout and takes w: majority") {
  // transactions.md "writeConcern for commitTransaction attempts": "any other write concern
  // options (e.g. wtimeout) MUST be left as-is when applying w: majority".
  transaction_options options;
  options.write_concern = bson::document::from_json(R"({"w": 2, "wtimeout": 500})");
  const step commit = finishing("commitTransaction").equals("writeConcern", R"({"w": 2, "wtimeout": 500})");
  const step retry = finishing("commitTransaction").equals("writeConcern", R"({"w": "majority", "wtimeout": 500})");
  auto r = play(network_error_at({first_statement(), commit}, 1, {retry}), transaction(options));
  CHECK(!r.finish.ec);
}

TEST_CASE("scripted: NotWritablePrimary on a retryable write is retried only when labelled retryable") {
  const application app = insert_outside_transaction;
  // retryable-writes.md "RetryableWriteError Labels": a 4.4+ server labels the error itself,
  // and the write is retried (after the server is selected again, SDAM "Error Handling").
  const char* not_writable = R"({"ok": 0, "code": 10107, "codeName": "NotWritablePrimary",
                                 "errorLabels": ["RetryableWriteError"]})";
  auto r = play({retryable_insert().reply(not_writable), retried_insert()}, app);
  CHECK(!r.operation.ec);
  // "Drivers MUST NOT add a RetryableWriteError label to any error derived from a 4.4+ server
  // response": unlabelled, the error is returned at once.
  const char* unlabelled = R"({"ok": 0, "code": 10107, "codeName": "NotWritablePrimary"})";
  r = play({retryable_insert().reply(unlabelled)}, app);
  CHECK(r.operation.ec == make_server_error(10107));
  check_labels(r.operation.diag, {}, {label::retryable_write_error});
  // "... from a pre-4.4 server": the driver adds the label for code 10107, and retries.
  r = play({retryable_insert().reply(unlabelled), retried_insert()}, app, {.max_wire_version = 8});
  CHECK(!r.operation.ec);
}
