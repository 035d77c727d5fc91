#include "proto/wire/field_notes.hpp"

#include <array>
#include <span>

namespace mongowire::detail::wire {
namespace {

struct rule {
  std::string_view key;
  std::string_view meaning;
  std::string_view source;
};

// Fields whose meaning does not depend on the rest of the command.
constexpr std::array command_rules{
    rule{"$db", "the database the command runs on: OP_MSG carries it in the body, not in a namespace string",
         R"(OP_MSG.md "Global Command Arguments")"},
    rule{"lsid", "the logical session id: the server ties the command, and its transaction, to this session",
         R"(driver-sessions.md "Sending the session ID to the server on all commands")"},
    rule{"startTransaction", "true on the first command of a transaction only: this command opens it on the server",
         R"(transactions.md "Behavior of the startTransaction field")"},
    rule{"autocommit",
         "false on every command of a transaction, commit and abort included: it tells a transaction statement "
         "from a retryable write",
         R"(transactions.md "Behavior of the autocommit field")"},
    rule{"recoveryToken",
         "the last token a mongos returned: lets another mongos find the outcome of a sharded "
         "transaction",
         R"(transactions.md "recoveryToken field")"},
    rule{"$clusterTime", "the highest cluster time the client has seen, signed by the server, gossiped back",
         R"(driver-sessions.md "Sending the highest seen cluster time")"},
    rule{"maxTimeMS", "the server's time limit for this command (on commitTransaction: maxCommitTimeMS)",
         R"(transactions.md "maxCommitTimeMS")"},
    rule{"$readPreference", "which members may answer, for a mongos or load balancer to route the command",
         R"(server-selection.md "Passing read preference to mongos and load balancers")"},
    rule{"client", "driver, OS and application metadata: sent once, in the connection's first hello",
         R"(handshake.md "Hello Command")"},
    rule{"helloOk", "asks the server to accept hello from now on (the first hello may be legacy OP_QUERY)",
         R"(server-monitoring.md "Monitoring")"},
    rule{"speculativeAuthenticate", "the first authentication step, folded into the handshake to save a round trip",
         R"(handshake.md "Speculative Authentication")"},
    rule{"topologyVersion", "awaitable hello: the server answers once its topologyVersion differs from this one",
         R"(server-monitoring.md "Awaitable hello or legacy hello Protocol")"},
    rule{"maxAwaitTimeMS", "awaitable hello: the longest the server waits before answering anyway",
         R"(server-monitoring.md "maxAwaitTimeMS")"},
};

constexpr std::array reply_rules{
    rule{"ok", "1: the command succeeded; 0: a command error, described by code, codeName and errmsg",
         R"(transactions.md "Command Error")"},
    rule{"writeConcernError",
         "the write was applied but its write concern was not satisfied (on a commit: the "
         "outcome is unknown, the client labels it UnknownTransactionCommitResult)",
         R"(transactions.md "UnknownTransactionCommitResult")"},
    rule{"$clusterTime", "the server's cluster time: the client keeps the highest it has seen and sends it back",
         R"(driver-sessions.md "Receiving the current cluster time")"},
    rule{"operationTime", "when the operation happened: a causally consistent session reads after it",
         R"(causal-consistency.md "Server Command Responses")"},
    rule{"recoveryToken", "from a mongos in a sharded transaction: the client sends the last one with commit and abort",
         R"(transactions.md "recoveryToken field")"},
    rule{"logicalSessionTimeoutMinutes", "present: the server supports sessions (and drops idle ones after this)",
         R"(driver-sessions.md "How to Tell Whether a Connection Supports Sessions")"},
    rule{"maxWireVersion", "the newest wire protocol version the server speaks (21: MongoDB 7.0, 17: 6.0)",
         R"(server-discovery-and-monitoring.md "clientMinWireVersion and clientMaxWireVersion")"},
    rule{"topologyVersion", "the server's state version: awaitable hellos send it back to wait for a change",
         R"(server-monitoring.md "topologyVersion")"},
};

constexpr std::array label_rules{
    rule{"TransientTransactionError", "the whole transaction may be run again from its start",
         R"(transactions.md "Transient Transaction Error")"},
    rule{"UnknownTransactionCommitResult", "the commit's outcome is unknown: commitTransaction may be sent again",
         R"(transactions.md "UnknownTransactionCommitResult")"},
    rule{"RetryableWriteError", "the write may be retried once, with the same lsid and txnNumber",
         R"(retryable-writes.md "RetryableWriteError Labels")"},
    rule{"NoWritesPerformed", "the server did nothing: an earlier error of the same operation is the one to report",
         R"(retryable-writes.md "Executing Retryable Write Commands")"},
    rule{"SystemOverloadedError", "the server is overloaded: back off before retrying",
         R"(client-backpressure.md "Specification")"},
    rule{"RetryableError", "the operation may be retried (with backoff)", R"(client-backpressure.md "Specification")"},
};

const rule* find_rule(std::span<const rule> rules, std::string_view key) {
  for (const rule& r : rules)
    if (r.key == key) return &r;
  return nullptr;
}

std::string value_json(const bson::element& e) {
  bson::document one;
  one.append("v", e);
  std::string json = one.get_view().to_relaxed_json();
  constexpr std::string_view prefix = R"({ "v" : )";
  if (json.size() >= prefix.size() + 2 && json.starts_with(prefix))
    return json.substr(prefix.size(), json.size() - prefix.size() - 2);
  return json;
}

void add(std::vector<field_note>& notes, std::string path, const bson::element& e, std::string_view meaning,
         std::string_view source) {
  notes.push_back({std::move(path), value_json(e), meaning, source});
}

// The command itself (its first key), for the commands of a transaction's life.
void explain_command_name(std::vector<field_note>& notes, const bson::element& e) {
  const std::string_view name = e.key();
  if (name == "commitTransaction")
    add(notes, std::string(name), e, "commits the session's transaction: on admin, with the transaction's writeConcern",
        R"(transactions.md "commitTransaction")");
  else if (name == "abortTransaction")
    add(notes, std::string(name), e, "aborts the session's transaction: on admin; a failed abort is ignored",
        R"(transactions.md "abortTransaction")");
  else if (name == "endSessions")
    add(notes, std::string(name), e, "the client ends its pooled server sessions when it closes",
        R"(driver-sessions.md "endSessions")");
  else if (name == "hello" || name == "isMaster" || name == "ismaster")
    add(notes, std::string(name), e, "the handshake (first command of a connection) or a monitoring check",
        R"(handshake.md "Connection handshake")");
}

// txnNumber, readConcern and writeConcern mean different things inside and outside a transaction.
void explain_contextual(std::vector<field_note>& notes, bson::view body, const bson::element& e) {
  const std::string_view key = e.key();
  const bool in_transaction = body.contains("autocommit");
  if (key == "txnNumber" && in_transaction)
    add(notes, "txnNumber", e,
        "the transaction's number: the same on each of its commands, higher than any earlier one",
        R"(transactions.md "Transactions Wire Protocol")");
  else if (key == "txnNumber")
    add(notes, "txnNumber", e, "a retryable write's number: a retry resends it, so the server applies the write once",
        R"(retryable-writes.md "Generating Transaction IDs")");
  else if (key == "readConcern" && body.contains("startTransaction"))
    add(notes, "readConcern", e, "the transaction's read concern: on its first command only",
        R"(transactions.md "Behavior of the readConcern field")");
  else if (key == "readConcern")
    add(notes, "readConcern", e, "the read concern of this command", R"(read-write-concern.md "Read Concern")");
  else if (key == "writeConcern" && in_transaction)
    add(notes, "writeConcern", e, "only commitTransaction and abortTransaction carry one in a transaction",
        R"(transactions.md "Behavior of the writeConcern field")");
  else if (key == "writeConcern")
    add(notes, "writeConcern", e, "the write concern of this write", R"(read-write-concern.md "Write Concern")");
}

void explain_concern_details(std::vector<field_note>& notes, bson::view body, const bson::element& e) {
  if (e.key() == "readConcern" && e.is_document()) {
    if (auto after = e.as_document()->find("afterClusterTime"))
      add(notes, "readConcern.afterClusterTime", after, "a causally consistent session reads after its last operation",
          R"(causal-consistency.md "Causally consistent read and write commands")");
  }
  if (e.key() == "writeConcern" && e.is_document() && body.first_key() == "commitTransaction") {
    auto doc = *e.as_document();
    auto w = doc.find("w");
    auto wtimeout = doc.find("wtimeout");
    if (w && w.as_string() == "majority" && wtimeout && wtimeout.as_integer() == 10000)
      add(notes, "writeConcern.wtimeout", wtimeout,
          "w: majority with wtimeout 10000: how a retried commit is sent (a first commit sends the transaction's own)",
          R"(transactions.md "writeConcern for commitTransaction attempts")");
  }
}

}  // namespace

std::vector<field_note> explain_command(bson::view body) {
  std::vector<field_note> notes;
  bool first = true;
  for (const bson::element& e : body) {
    if (first) explain_command_name(notes, e);
    first = false;
    if (const rule* r = find_rule(command_rules, e.key())) add(notes, std::string(e.key()), e, r->meaning, r->source);
    explain_contextual(notes, body, e);
    explain_concern_details(notes, body, e);
  }
  return notes;
}

std::vector<field_note> explain_reply(bson::view body) {
  std::vector<field_note> notes;
  for (const bson::element& e : body) {
    if (const rule* r = find_rule(reply_rules, e.key())) add(notes, std::string(e.key()), e, r->meaning, r->source);
    if (e.key() != "errorLabels" || !e.is_array()) continue;
    std::size_t i = 0;
    const bson::view labels = *e.as_array();  // a named view: the optional must outlive the loop
    for (const bson::element& label : labels) {
      const auto name = label.as_string().value_or("");
      const rule* r = find_rule(label_rules, name);
      add(notes, "errorLabels[" + std::to_string(i++) + "]", label,
          r ? r->meaning : "a label the client does not interpret",
          r ? r->source : std::string_view(R"(transactions.md "Error Labels")"));
    }
  }
  return notes;
}

}  // namespace mongowire::detail::wire
