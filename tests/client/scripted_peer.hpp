// A scripted peer for executor tests, after Boost.MySQL's algo_test: a test states the
// exchange the executor must produce ("expect an insert with txnNumber 1, answer {ok: 1}";
// "expect a commitTransaction, close the connection") and the peer checks it step by step.
//
// The peer is an Asio acceptor on 127.0.0.1 (port 0) run on the client's io_context. It cuts
// and decodes frames with the project's own wire decoder, answers the handshake and the
// monitors' hello/isMaster itself as a replica-set primary without topologyVersion (so the
// client polls, server-monitoring.md "Polling protocol"), answers endSessions, and leaves
// every other command to the script. It records the exchange so that a failing test can
// print it.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mongowire/bson.hpp"

namespace scripted {

// One check on a field of the command as the peer received it (kind-1 sequences are merged
// back into the body as arrays). `path` is dotted: "writeConcern.w".
struct field_check {
  enum class kind { present, absent, equals, same_as_previous };
  kind what = kind::present;
  std::string path;
  std::string expected;  // equals: canonical extended JSON of {"v": <value>}
};

// How a step's answer goes on the wire; the default is one well-formed frame. Hostile-server
// tests (tests/hostile) lie in it, cut it short, withhold it or send it a byte at a time.
struct wire_delivery {
  // Edits the encoded answer (an OP_MSG frame) before it is sent: another messageLength or
  // responseTo, flag bits, a bad checksum, unsolicited frames appended...
  std::function<void(std::vector<std::uint8_t>& frame)> rewrite;
  bool close_after = false;                 // close the connection once the bytes are written
  bool withhold = false;                    // send nothing and keep the connection open
  std::chrono::milliseconds byte_delay{0};  // > 0: one byte at a time, this long apart
};

// One step: the command the executor must send next, and the peer's answer to it.
class step {
 public:
  explicit step(std::string command) : command_(std::move(command)) {}

  step& present(std::string path);
  step& absent(std::string path);
  // `json_value` in extended JSON, e.g. R"({"$numberLong": "1"})", "true", R"("majority")".
  step& equals(std::string path, std::string_view json_value);
  // Equal to the same field of the previous command the script received (a retry's lsid).
  step& same_as_previous(std::string path);
  step& reply(std::string_view json);  // the default answer is {"ok": 1}
  step& close_connection();            // a network error: the command gets no reply
  step& deliver(wire_delivery how);    // the answer's bytes as a hostile server sends them

  const std::string& command() const noexcept { return command_; }
  bool closes() const noexcept { return closes_; }
  const wire_delivery& delivery() const noexcept { return delivery_; }
  const mongowire::bson::document& answer() const noexcept { return reply_; }
  // What differs between `received` and this step; empty when it matches.
  std::vector<std::string> mismatches(mongowire::bson::view received, const mongowire::bson::view* previous) const;

 private:
  std::string command_;
  std::vector<field_check> checks_;
  mongowire::bson::document reply_ = mongowire::bson::document::from_json(R"({"ok": 1})");
  bool closes_ = false;
  wire_delivery delivery_;
};

inline step expect(std::string command) { return step(std::move(command)); }

struct peer_options {
  std::string set_name = "rs0";        // empty: the peer is a mongos (hello msg "isdbgrid", no setName)
  std::int32_t max_wire_version = 17;  // 6.0: the server labels retryable errors itself
};

struct received_command {
  mongowire::bson::document body;  // the command, sequences merged in
  std::int32_t request_id = 0;
};

class scripted_peer {
 public:
  explicit scripted_peer(boost::asio::io_context& io, peer_options options = {});
  ~scripted_peer();
  scripted_peer(const scripted_peer&) = delete;
  scripted_peer& operator=(const scripted_peer&) = delete;

  // mongodb://127.0.0.1:<port>/?replicaSet=<set name> (no replicaSet for a mongos)
  std::string uri() const;
  const std::string& address() const noexcept;  // "127.0.0.1:<port>"
  // Replaces the script; the record starts afresh.
  void play(std::vector<step> script);

  bool script_done() const noexcept;
  // Mismatched fields, unexpected commands, undecodable frames: empty when all went as scripted.
  const std::vector<std::string>& problems() const noexcept;
  // The commands the script was asked about, in order (hello and endSessions excluded).
  const std::vector<received_command>& commands() const noexcept;
  // The exchange so far, one line per command and answer, with the problems.
  std::string transcript() const;

  struct state;  // the acceptor, the script and the record (scripted_peer.cpp)

 private:
  std::shared_ptr<state> state_;
};

}  // namespace scripted
