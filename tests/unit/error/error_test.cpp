#include <doctest/doctest.h>

#include "mongowire/error.hpp"

using namespace mongowire;

TEST_CASE("error: server codes carry their codeName in the message") {
  auto ec = make_server_error(server_code::write_conflict);
  CHECK(ec.category() == server_category());
  CHECK(ec.message() == "WriteConflict (112)");
  CHECK(server_code_name(251) == "NoSuchTransaction");
  CHECK(server_code_from_name("NotWritablePrimary") == 10107);
  CHECK_FALSE(server_code_from_name("NoSuchName"));
}

TEST_CASE("error: every code the transactions and retryable-writes specs name is in the table") {
  for (int code : {6, 7, 89, 91, 112, 189, 251, 262, 10107, 11600, 11602, 13435, 13436, 64, 50, 9001, 11000})
    CHECK_FALSE(server_code_name(code).empty());
}

TEST_CASE("error: project enums convert to error_code in their own category") {
  error_code c = client_errc::commit_after_abort;
  error_code p = protocol_errc::checksum_mismatch;
  error_code n = network_errc::connection_closed;
  CHECK(c.category() == client_category());
  CHECK(p.category() == protocol_category());
  CHECK(n.category() == network_category());
  CHECK(c.message() == "Cannot call commitTransaction after calling abortTransaction");
}

TEST_CASE("error: labels are a set and the exception keeps diagnostics") {
  diagnostics d;
  d.labels.add(label::transient_transaction_error);
  d.labels.add(label::transient_transaction_error);
  CHECK(d.labels.size() == 1);
  d.server_message = "boom";
  mongowire::error e(make_server_error(112), d);
  CHECK(e.has_label("TransientTransactionError"));
  CHECK(std::string(e.what()).find("boom") != std::string::npos);
  d.labels.remove(label::transient_transaction_error);
  CHECK(d.labels.empty());
}

TEST_CASE("error: our own mistakes in what we send are client errors; protocol errors are the peer's bytes") {
  const error_code too_large = client_errc::message_too_large;
  const error_code invalid = client_errc::invalid_message;
  const error_code internal = client_errc::internal_error;
  for (const auto& ec : {too_large, invalid, internal}) CHECK(ec.category() == client_category());
  CHECK(too_large.message().find("maxMessageSizeBytes") != std::string::npos);
  CHECK(invalid.message().find("built by the client") != std::string::npos);
  CHECK(internal.message().find("unexpected exception") != std::string::npos);
  CHECK(error_code(protocol_errc::message_too_long).message().find("messageLength") != std::string::npos);
}
