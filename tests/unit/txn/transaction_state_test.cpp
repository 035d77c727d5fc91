// transactions.md, "ClientSession changes": every state x event of the client-side
// transaction state machine, and the fields each command of a transaction carries.
#include <doctest/doctest.h>

#include "proto/txn/server_session_pool.hpp"
#include "proto/txn/transaction_state.hpp"

using namespace mongowire;
using namespace mongowire::detail;
using ts = transaction_state;

namespace {

bson::document doc(std::string_view json) { return bson::document::from_json(json); }

struct session_fixture {
  server_session ss;
  transaction txn;

  session_fixture() { ss.id = make_uuid_v4({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}); }

  void start(transaction_options o = {}) { REQUIRE_FALSE(txn.start_transaction(ss, std::move(o)).ec); }
  txn_fields run_op(operation_request op = {}) {
    auto r = txn.prepare_operation(op);
    REQUIRE(r);
    txn.on_command_sent();
    return r.value ? *r.value : txn_fields{};
  }
  // Drives a fresh session into `s`.
  void reach(ts s) {
    switch (s) {
      case ts::none: break;
      case ts::starting: start(); break;
      case ts::in_progress:
        start();
        run_op();
        break;
      case ts::committed:
        reach(ts::in_progress);
        REQUIRE(txn.commit_transaction());
        break;
      case ts::committed_empty:
        start();
        REQUIRE(txn.commit_transaction());
        break;
      case ts::aborted:
        reach(ts::in_progress);
        REQUIRE(txn.abort_transaction());
        break;
    }
    REQUIRE(txn.state() == s);
  }
};

const ts all_states[] = {ts::none, ts::starting, ts::in_progress, ts::committed, ts::committed_empty, ts::aborted};

}  // namespace

TEST_CASE(
    "transactions.md startTransaction: allowed from no/committed/aborted, 'Transaction already in progress' "
    "otherwise") {
  for (ts from : all_states) {
    CAPTURE(to_string(from));
    session_fixture f;
    f.reach(from);
    const auto before = f.ss.txn_number;
    const client_refusal r = f.txn.start_transaction(f.ss, {});
    if (from == ts::starting || from == ts::in_progress) {
      CHECK(r.ec == client_errc::transaction_already_in_progress);
      CHECK(f.txn.state() == from);      // errors do not change the state
      CHECK(f.ss.txn_number == before);  // nor the txnNumber
    } else {
      CHECK_FALSE(r.ec);
      CHECK(f.txn.state() == ts::starting);
      CHECK(f.ss.txn_number == before + 1);
    }
  }
}

TEST_CASE("transactions.md commitTransaction: the spec's error or action in every state") {
  struct row {
    ts from;
    error_code ec;
    bool sends;
    ts to;
  };
  const row rows[] = {
      {ts::none, client_errc::no_transaction_started, false, ts::none},
      {ts::starting, {}, false, ts::committed_empty},  // MUST NOT run commitTransaction
      {ts::in_progress, {}, true, ts::committed},
      {ts::committed, {}, true, ts::committed},  // MUST re-run the previous commit
      {ts::committed_empty, {}, false, ts::committed_empty},
      {ts::aborted, client_errc::commit_after_abort, false, ts::aborted},
  };
  for (const row& r : rows) {
    CAPTURE(to_string(r.from));
    session_fixture f;
    f.reach(r.from);
    auto res = f.txn.commit_transaction();
    CHECK(res.refusal.ec == r.ec);
    if (!r.ec) {
      REQUIRE(res.value);
      CHECK(res.value->command == retry_family::commit);
      CHECK(res.value->sends() == r.sends);
    }
    CHECK(f.txn.state() == r.to);
  }
}

TEST_CASE("transactions.md abortTransaction: the spec's error or action in every state") {
  struct row {
    ts from;
    error_code ec;
    bool sends;
    ts to;
  };
  const row rows[] = {
      {ts::none, client_errc::no_transaction_started, false, ts::none},
      {ts::starting, {}, false, ts::aborted},  // MUST NOT run abortTransaction
      {ts::in_progress, {}, true, ts::aborted},
      {ts::committed, client_errc::abort_after_commit, false, ts::committed},
      {ts::committed_empty, client_errc::abort_after_commit, false, ts::committed_empty},
      {ts::aborted, client_errc::abort_twice, false, ts::aborted},
  };
  for (const row& r : rows) {
    CAPTURE(to_string(r.from));
    session_fixture f;
    f.reach(r.from);
    auto res = f.txn.abort_transaction();
    CHECK(res.refusal.ec == r.ec);
    if (!r.ec) {
      REQUIRE(res.value);
      CHECK(res.value->command == retry_family::abort);
      CHECK(res.value->sends() == r.sends);
    }
    CHECK(f.txn.state() == r.to);
  }
}

TEST_CASE(
    "transactions.md: a command that went out moves starting to in progress, and resets committed/aborted to no "
    "transaction") {
  const std::pair<ts, ts> rows[] = {
      {ts::none, ts::none},      {ts::starting, ts::in_progress}, {ts::in_progress, ts::in_progress},
      {ts::committed, ts::none}, {ts::committed_empty, ts::none}, {ts::aborted, ts::none},
  };
  for (auto [from, to] : rows) {
    CAPTURE(to_string(from));
    session_fixture f;
    f.reach(from);
    auto r = f.txn.prepare_operation({});
    REQUIRE(r);
    CHECK(r.value.has_value() == (from == ts::starting || from == ts::in_progress));
    f.txn.on_command_sent();
    CHECK(f.txn.state() == to);
  }
}

TEST_CASE(
    "transactions.md: the first command carries lsid, txnNumber, startTransaction, autocommit and readConcern; later "
    "ones no readConcern") {
  session_fixture f;
  transaction_options o;
  o.read_concern = doc(R"({"level": "snapshot"})");
  o.write_concern = doc(R"({"w": "majority"})");
  f.start(o);

  auto first = f.txn.prepare_operation({.after_cluster_time = bson::timestamp{42, 1}});
  REQUIRE(first);
  REQUIRE(first.value);
  CHECK(first.value->lsid == f.ss.id);
  CHECK(first.value->txn_number == 1);
  CHECK(first.value->start_transaction);
  CHECK(first.value->autocommit == false);
  REQUIRE(first.value->read_concern);
  CHECK(first.value->read_concern->get_view() ==
        doc(R"({"level": "snapshot", "afterClusterTime": {"$timestamp": {"t": 42, "i": 1}}})").get_view());
  CHECK_FALSE(first.value->write_concern);  // never on commands other than commit/abort
  CHECK_FALSE(first.value->max_time_ms);

  // A retry of the first command (before it completes) is still the first command.
  auto retried_first = f.txn.prepare_operation({});
  REQUIRE(retried_first.value);
  CHECK(retried_first.value->start_transaction);
  f.txn.on_command_sent();

  auto later = f.txn.prepare_operation({.after_cluster_time = bson::timestamp{50, 1}});
  REQUIRE(later.value);
  CHECK(later.value->txn_number == 1);
  CHECK_FALSE(later.value->start_transaction);
  CHECK(later.value->autocommit == false);
  CHECK_FALSE(later.value->read_concern);  // MUST NOT add afterClusterTime to later commands
  CHECK_FALSE(later.value->write_concern);
}

TEST_CASE("transactions.md: a server-default read concern is omitted unless afterClusterTime must be sent") {
  session_fixture f;
  f.start();
  auto plain = f.txn.prepare_operation({});
  REQUIRE(plain.value);
  CHECK_FALSE(plain.value->read_concern);

  session_fixture g;
  g.start();
  auto causal = g.txn.prepare_operation({.after_cluster_time = bson::timestamp{7, 3}});
  REQUIRE(causal.value);
  REQUIRE(causal.value->read_concern);
  CHECK_FALSE(causal.value->read_concern->find("level"));  // no level when none was given
  CHECK(causal.value->read_concern->find("afterClusterTime"));
}

TEST_CASE(
    "transactions.md: commit carries the transaction's writeConcern, maxTimeMS from maxCommitTimeMS and the "
    "recoveryToken") {
  session_fixture f;
  transaction_options o;
  o.write_concern = doc(R"({"w": 1})");
  o.max_commit_time_ms = 60000;
  f.start(o);
  f.run_op();
  f.txn.on_recovery_token(doc(R"({"shardId": "sh1"})"));
  auto c = f.txn.commit_transaction();
  REQUIRE(c.value);
  REQUIRE(c.value->fields);
  const txn_fields& fields = *c.value->fields;
  CHECK(fields.txn_number == 1);
  CHECK(fields.autocommit == false);
  CHECK_FALSE(fields.start_transaction);
  CHECK_FALSE(fields.read_concern);
  REQUIRE(fields.write_concern);
  CHECK(fields.write_concern->get_view() == doc(R"({"w": 1})").get_view());
  CHECK(fields.max_time_ms == 60000);
  REQUIRE(fields.recovery_token);
  CHECK(fields.recovery_token->get_view() == doc(R"({"shardId": "sh1"})").get_view());
}

TEST_CASE("transactions.md: abort carries the transaction's writeConcern and recoveryToken but no maxTimeMS") {
  session_fixture f;
  transaction_options o;
  o.write_concern = doc(R"({"w": 10})");
  o.max_commit_time_ms = 60000;
  f.start(o);
  f.run_op();
  f.txn.on_recovery_token(doc(R"({"t": 1})"));
  auto a = f.txn.abort_transaction();
  REQUIRE(a.value);
  REQUIRE(a.value->fields);
  CHECK(a.value->fields->write_concern->get_view() == doc(R"({"w": 10})").get_view());
  CHECK_FALSE(a.value->fields->max_time_ms);
  CHECK(a.value->fields->autocommit == false);
  CHECK(a.value->fields->recovery_token);
}

TEST_CASE("transactions.md: without a transaction writeConcern, commit sends none") {
  session_fixture f;
  f.reach(ts::in_progress);
  auto c = f.txn.commit_transaction();
  REQUIRE(c.value->fields);
  CHECK_FALSE(c.value->fields->write_concern);
  CHECK_FALSE(c.value->fields->max_time_ms);
}

TEST_CASE(
    "transactions.md 'Retrying commitTransaction': a second commit uses w:majority and wtimeout 10000, keeping other "
    "fields") {
  session_fixture f;
  transaction_options o;
  o.write_concern = doc(R"({"w": 2, "j": true, "wtimeout": 5000})");
  o.max_commit_time_ms = 60000;
  f.start(o);
  f.run_op();
  auto first = f.txn.commit_transaction();
  CHECK(first.value->fields->write_concern->get_view() == o.write_concern->get_view());
  auto second = f.txn.commit_transaction();
  REQUIRE(second.value->fields);
  CHECK(second.value->fields->write_concern->get_view() ==
        doc(R"({"w": "majority", "j": true, "wtimeout": 5000})").get_view());
  CHECK(second.value->fields->max_time_ms == 60000);
  CHECK(second.value->fields->txn_number == first.value->fields->txn_number);

  session_fixture g;
  g.reach(ts::committed);
  auto again = g.txn.commit_transaction();
  CHECK(again.value->fields->write_concern->get_view() == doc(R"({"w": "majority", "wtimeout": 10000})").get_view());
}

TEST_CASE(
    "transactions.md: the driver's commit retry uses w:majority after any failure except a retryable overload error") {
  session_fixture f;
  transaction_options o;
  o.write_concern = doc(R"({"w": 1})");
  f.start(o);
  f.run_op();
  REQUIRE(f.txn.commit_transaction());
  // "Interaction with Client Backpressure": after overload-only failures, same write concern.
  f.txn.on_commit_attempt(commit_attempt_outcome::failed_overload);
  CHECK(f.txn.next_commit_attempt().write_concern->get_view() == doc(R"({"w": 1})").get_view());
  f.txn.on_commit_attempt(commit_attempt_outcome::failed_other);
  CHECK(f.txn.next_commit_attempt().write_concern->get_view() ==
        doc(R"({"w": "majority", "wtimeout": 10000})").get_view());
  // Once majority is needed, a later overload failure does not undo it.
  f.txn.on_commit_attempt(commit_attempt_outcome::failed_overload);
  CHECK(f.txn.next_commit_attempt().write_concern->find("w").as_string() == "majority");
}

TEST_CASE("transactions.md: txnNumber increments per startTransaction and stays constant within the transaction") {
  session_fixture f;
  f.reach(ts::committed);
  CHECK(f.ss.txn_number == 1);
  f.start();
  auto op = f.txn.prepare_operation({});
  CHECK(op.value->txn_number == 2);
  f.txn.on_command_sent();
  auto c = f.txn.commit_transaction();
  CHECK(c.value->fields->txn_number == 2);
  // A retryable write between transactions takes the next number too.
  CHECK(next_txn_number(f.ss) == 3);
  f.start();
  CHECK(f.txn.prepare_operation({}).value->txn_number == 4);
}

TEST_CASE("transactions.md: unacknowledged write concern for a transaction is refused, given or inherited") {
  session_fixture f;
  transaction_options o;
  o.write_concern = doc(R"({"w": 0})");
  auto r = f.txn.start_transaction(f.ss, o);
  CHECK(r.ec == client_errc::unacknowledged_write_in_transaction);
  CHECK(r.message.find("transactions do not support unacknowledged write concerns") != std::string_view::npos);
  CHECK(f.txn.state() == ts::none);
  CHECK(f.ss.txn_number == 0);

  transaction_options client;
  client.write_concern = doc(R"({"w": 0})");
  auto inherited = resolve_transaction_options(std::nullopt, std::nullopt, client);
  CHECK(f.txn.start_transaction(f.ss, inherited).ec == client_errc::unacknowledged_write_in_transaction);
}

TEST_CASE(
    "transactions.md: operations in a transaction refuse explicit readConcern and writeConcern without changing "
    "state") {
  for (ts s : {ts::starting, ts::in_progress}) {
    session_fixture f;
    f.reach(s);
    auto rc = f.txn.prepare_operation({.has_explicit_read_concern = true});
    CHECK(rc.refusal.ec == client_errc::option_in_transaction);
    CHECK(rc.refusal.message == "Cannot set read concern after starting a transaction.");
    auto wc = f.txn.prepare_operation({.has_explicit_write_concern = true});
    CHECK(wc.refusal.ec == client_errc::option_in_transaction);
    CHECK(wc.refusal.message == "Cannot set write concern after starting a transaction.");
    CHECK(f.txn.state() == s);
  }
  // Outside a transaction they are the operation's business.
  session_fixture g;
  CHECK(g.txn.prepare_operation({.has_explicit_read_concern = true, .has_explicit_write_concern = true}));
}

TEST_CASE("transactions.md: reads in a transaction need a primary read preference; writes are not checked") {
  session_fixture f;
  transaction_options o;
  o.read_preference = doc(R"({"mode": "secondary"})");
  f.start(o);  // not validated in startTransaction
  auto read = f.txn.prepare_operation({.is_read = true});
  CHECK(read.refusal.ec == client_errc::read_preference_not_primary);
  CHECK(f.txn.state() == ts::starting);
  auto write = f.txn.prepare_operation({.is_read = false});
  CHECK(write);

  session_fixture g;
  transaction_options p;
  p.read_preference = doc(R"({"mode": "primary"})");
  g.start(p);
  CHECK(g.txn.prepare_operation({.is_read = true}));
}

TEST_CASE("driver-sessions.md: an ended session refuses startTransaction, operations, commit and abort") {
  session_fixture f;
  f.txn.end_session();
  CHECK(f.txn.ended());
  CHECK(f.txn.start_transaction(f.ss, {}).ec == client_errc::session_ended);
  CHECK(f.txn.prepare_operation({}).refusal.ec == client_errc::session_ended);
  CHECK(f.txn.commit_transaction().refusal.ec == client_errc::session_ended);
  CHECK(f.txn.abort_transaction().refusal.ec == client_errc::session_ended);
}

TEST_CASE("transactions.md endSession: aborts a transaction in progress, sends nothing otherwise, and is idempotent") {
  session_fixture f;
  f.reach(ts::in_progress);
  finish_action end = f.txn.end_session();
  CHECK(end.command == retry_family::abort);
  CHECK(end.sends());
  CHECK(f.txn.state() == ts::aborted);
  CHECK_FALSE(f.txn.end_session().sends());

  for (ts s : {ts::none, ts::starting, ts::committed, ts::committed_empty, ts::aborted}) {
    CAPTURE(to_string(s));
    session_fixture g;
    g.reach(s);
    CHECK_FALSE(g.txn.end_session().sends());
  }
}

TEST_CASE("transactions.md recoveryToken: the latest one is sent, and it is cleared when a new transaction starts") {
  session_fixture f;
  f.reach(ts::in_progress);
  f.txn.on_recovery_token(doc(R"({"a": 1})"));
  f.txn.on_recovery_token(doc(R"({"a": 2})"));
  auto c = f.txn.commit_transaction();
  CHECK(c.value->fields->recovery_token->get_view() == doc(R"({"a": 2})").get_view());
  f.start();
  f.run_op();
  auto next = f.txn.commit_transaction();
  CHECK_FALSE(next.value->fields->recovery_token);
}

TEST_CASE("issue 16 guard: which statement failures mean the server aborted the transaction") {
  diagnostics server_error;
  server_error.server_code = 112;
  CHECK(statement_error_aborts_transaction(make_server_error(112), server_error));
  diagnostics write_error;
  write_error.write_errors.emplace_back().code = 11000;
  CHECK(statement_error_aborts_transaction(make_server_error(11000), write_error));
  // Nothing reached the server, or its answer is unknown: nothing is known to be aborted.
  CHECK_FALSE(statement_error_aborts_transaction(make_error_code(client_errc::invalid_argument), diagnostics{}));
  CHECK_FALSE(statement_error_aborts_transaction(make_error_code(network_errc::connection_closed), diagnostics{}));
  CHECK_FALSE(statement_error_aborts_transaction(error_code{}, diagnostics{}));
}
