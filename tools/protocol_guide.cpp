// mongowire-protocol-guide: writes docs/protocol.md, a transaction on the wire frame by frame,
// from a real conversation between mongowire and the in-process test server: the handshake,
// a committed transaction, a commit retried after a network error, an aborted transaction, a
// TransientTransactionError retry and the client closing. Each frame is shown as
// describe_frame prints it (every session and transaction field with its spec section),
// after frame_normalizer made its volatile values stable.
//   mongowire-protocol-guide              print the guide (> docs/protocol.md)
//   mongowire-protocol-guide --check FILE exit 1 when FILE differs from a fresh guide
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "frame_normalizer.hpp"
#include "transaction_presets.hpp"
#include "mongowire/client.hpp"
#include "net/embedded_server.hpp"
#include "proto/wire/describe.hpp"
#include "proto/wire/legacy.hpp"
#include "proto/wire/op_msg.hpp"

namespace {

namespace asio = boost::asio;
using namespace mongowire;

struct captured_frame {
  std::uint16_t local_port = 0;
  bool outgoing = false;
  std::vector<std::uint8_t> bytes;
};

struct chapter {
  std::string title;
  std::string intro;  // Markdown
  std::size_t first = 0, last = 0;
};

struct recording {
  std::vector<captured_frame> frames;
  std::vector<chapter> chapters;
  void begin(std::string title, std::string intro) {
    if (!chapters.empty()) chapters.back().last = frames.size();
    chapters.push_back({std::move(title), std::move(intro), frames.size(), 0});
  }
  void end() { chapters.back().last = frames.size(); }
};

error_code must(error_code ec, const diagnostics& diag, std::string_view step) {
  if (ec) throw std::runtime_error(fmt::format("{}: {} {}", step, ec.message(), describe(diag)));
  return ec;
}

// Named locals for every co_await argument (g++ 12 coroutine temporaries, see the README).
asio::awaitable<void> fail_next(client& c, std::string_view data_json) {
  diagnostics diag;
  bson::document reply;
  const std::string admin = "admin";
  auto cmd = bson::document::from_json(
      fmt::format(R"({{"configureFailPoint": "failCommand", "mode": {{"times": 1}}, "data": {}}})", data_json));
  must(co_await c.run_command(admin, cmd, reply, diag), diag, "configureFailPoint");
}

asio::awaitable<error_code> insert_in(session& s, std::string_view doc_json, diagnostics& diag) {
  insert_one_result inserted;
  const insert_one_options options;
  auto stock = s.get_collection("shop", "stock");
  const auto doc = bson::document::from_json(doc_json);
  co_return co_await stock.insert_one(doc, options, inserted, diag);
}

asio::awaitable<void> committed_transaction(client& c, recording& rec) {
  rec.begin("A transaction that commits",
            "The application starts a transaction (`readConcern: snapshot`, `writeConcern: majority`), inserts a "
            "document, updates it and commits. Nothing is sent when the transaction starts: the first command carries "
            "`startTransaction: true` and the read concern (transactions.md \"Constructing the first command within a "
            "transaction\"); the later one carries only `lsid`, `txnNumber` and `autocommit: false` "
            "(\"Constructing any other command within a transaction\"); `commitTransaction` runs on `admin` with the "
            "write concern (\"commitTransaction\"). The first frames are the pool connection's handshake.");
  auto s = c.start_session();
  diagnostics diag;
  must(s.start_transaction(tools::snapshot_majority(), diag), diag, "startTransaction");
  must(co_await insert_in(s, R"({"_id": 1, "item": "apple", "qty": 5})", diag), diag, "insert");
  update_result updated;
  const update_options options;
  auto stock = s.get_collection("shop", "stock");
  const auto filter = bson::document::from_json(R"({"_id": 1})");
  const auto change = bson::document::from_json(R"({"$inc": {"qty": -1}})");
  must(co_await stock.update_one(filter, change, options, updated, diag), diag, "update");
  must(co_await s.commit_transaction(diag), diag, "commitTransaction");
  co_await s.end();
}

// One transaction of one insert, then commitTransaction or abortTransaction.
enum class ending { commit, abort };
asio::awaitable<void> insert_then(client& c, std::string_view doc_json, ending how) {
  auto s = c.start_session();
  diagnostics diag;
  must(s.start_transaction(tools::snapshot_majority(), diag), diag, "startTransaction");
  must(co_await insert_in(s, doc_json, diag), diag, "insert");
  error_code ec;
  if (how == ending::commit) ec = co_await s.commit_transaction(diag);
  if (how == ending::abort) ec = co_await s.abort_transaction(diag);
  must(ec, diag, how == ending::commit ? "commitTransaction" : "abortTransaction");
  co_await s.end();
}

asio::awaitable<void> retried_commit(client& c, recording& rec) {
  rec.begin("A commit retried after a network error",
            "A `failCommand` failpoint (a test command of mongod and of the test server) makes the server close the "
            "connection instead of answering the next `commitTransaction`. The outcome of the commit is then unknown: "
            "the engine retries it once, on a new connection, with `w: majority` and `wtimeout: 10000` "
            "(transactions.md \"Retrying commitTransaction\" and \"writeConcern for commitTransaction attempts\"). "
            "The retry carries the same `lsid` and `txnNumber`: the server answers it from the transaction's recorded "
            "outcome.");
  co_await fail_next(c, R"({"failCommands": ["commitTransaction"], "closeConnection": true})");
  co_await insert_then(c, R"({"_id": 2, "item": "plum", "qty": 1})", ending::commit);
}

asio::awaitable<void> aborted_transaction(client& c, recording& rec) {
  rec.begin("An aborted transaction",
            "The application inserts a document in a transaction, then aborts it: `abortTransaction` runs on `admin` "
            "with `autocommit: false` and the transaction's write concern (transactions.md \"abortTransaction\").");
  co_await insert_then(c, R"({"_id": 3, "item": "fig", "qty": 9})", ending::abort);
}

asio::awaitable<void> transient_error_retry(client& c, recording& rec) {
  rec.begin("A TransientTransactionError retry",
            "A failpoint makes the next insert fail with WriteConflict (112); the server labels the error "
            "`TransientTransactionError` (transactions.md \"Transient Transaction Error\"). The application follows "
            "the manual's loop (\"Retrying transactions that fail with TransientTransactionError\"): it aborts (the "
            "server has already aborted, so `abortTransaction` answers NoSuchTransaction and the engine ignores it) "
            "and runs the whole transaction again with the next `txnNumber`.");
  co_await fail_next(c, R"({"failCommands": ["insert"], "errorCode": 112})");
  auto s = c.start_session();
  for (int attempt = 1;; ++attempt) {
    diagnostics diag;
    must(s.start_transaction(tools::snapshot_majority(), diag), diag, "startTransaction");
    const auto ec = co_await insert_in(s, R"({"_id": 4, "item": "pear", "qty": 2})", diag);
    if (ec && attempt == 1 && diag.has_label(label::transient_transaction_error)) {
      diagnostics ignored;
      co_await s.abort_transaction(ignored);
      continue;
    }
    must(ec, diag, "insert (second attempt)");
    must(co_await s.commit_transaction(diag), diag, "commitTransaction");
    break;
  }
  co_await s.end();
}

asio::awaitable<void> conversation(std::string uri, recording& rec) {
  client_options opts;
  opts.on_frame = [&rec](const frame_event& e) {
    rec.frames.push_back({e.local_port, e.outgoing, std::vector<std::uint8_t>(e.frame.begin(), e.frame.end())});
  };
  client c(co_await asio::this_coro::executor, uri, opts);
  co_await committed_transaction(c, rec);
  co_await retried_commit(c, rec);
  co_await aborted_transaction(c, rec);
  co_await transient_error_retry(c, rec);
  rec.begin("The client closes",
            "Closing the client ends the server sessions it pooled with one `endSessions` command "
            "(driver-sessions.md \"endSessions\").");
  co_await c.close();
  rec.end();
}

}  // namespace

namespace {

std::string_view command_of(std::span<const std::uint8_t> frame) {
  namespace wire = detail::wire;
  wire::op_msg_view msg;
  if (!wire::op_msg_view::parse(frame, msg)) return msg.body().first_key();
  wire::op_query_view q;
  if (!wire::parse_op_query(frame, q)) return q.query.first_key();
  return {};
}

std::int32_t response_to_of(std::span<const std::uint8_t> frame) {
  return frame.size() >= detail::wire::header_size ? detail::wire::read_header(frame.data()).response_to : 0;
}
std::int32_t request_id_of(std::span<const std::uint8_t> frame) {
  return frame.size() >= detail::wire::header_size ? detail::wire::read_header(frame.data()).request_id : 0;
}

// Monitoring connections (server-monitoring.md) carry hello only: the guide shows the others.
std::set<std::uint16_t> operation_connections(const recording& rec) {
  std::set<std::uint16_t> ports;
  for (const auto& f : rec.frames) {
    const auto name = command_of(f.bytes);
    if (f.outgoing && !name.empty() && name != "hello" && name != "isMaster" && name != "ismaster")
      ports.insert(f.local_port);
  }
  return ports;
}

class guide_writer {
 public:
  guide_writer(const recording& rec, std::string server_address)
      : rec_(rec), shown_(operation_connections(rec)), normalizer_(std::move(server_address)) {
    for (const auto& f : rec.frames)
      if (!f.outgoing) answered_.insert(response_to_of(f.bytes));
  }

  std::string write() {
    out_ = preamble();
    for (std::size_t c = 0; c < rec_.chapters.size(); ++c) {
      const chapter& ch = rec_.chapters[c];
      out_ += fmt::format("\n## {}. {}\n\n{}\n", c + 1, ch.title, ch.intro);
      for (std::size_t i = ch.first; i < ch.last; ++i)
        if (shown_.contains(rec_.frames[i].local_port)) frame(rec_.frames[i]);
    }
    return out_;
  }

 private:
  static std::string preamble() {
    return "# The protocol, frame by frame\n\n"
           "<!-- Generated by build/tools/mongowire-protocol-guide > docs/protocol.md; the meson test "
           "protocol-doc fails when this file drifts from a fresh run. Do not edit by hand. -->\n\n"
           "What mongowire sends and receives for the life of a few transactions, recorded from a real conversation "
           "with the test server (`mongowire-testd`, which answers as mongod 7.0 does). Each frame is printed as "
           "`mongowire-cli --trace` prints it: the 16-byte header, the OP_MSG flag bits and sections "
           "(OP_MSG.md), each document as canonical extended JSON, then every session, transaction and gossip "
           "field with its meaning and the section of the specification it comes from.\n\n"
           "To keep the file reproducible, volatile values are replaced by stable ones of the same type: request "
           "ids count from 1 on each side, session ids are `00000000-0000-4000-8000-00000000000N`, timestamps "
           "`Timestamp(1700000000, N)` in order of appearance, dates one instant, `connectionId` and `processId` "
           "their order of appearance, the server `127.0.0.1:27017`, and the client metadata naming the build "
           "machine `(build machine)`; lengths are those of the frames so rewritten. Only the connections that "
           "carry operations are shown: the monitoring connections (server-monitoring.md) carry `hello` only.\n";
  }

  void frame(const captured_frame& f) {
    if (!connections_.contains(f.local_port)) {
      connections_.emplace(f.local_port, connections_.size() + 1);
      out_ += fmt::format("\n### Connection {} opens: the handshake (handshake.md \"Connection handshake\")\n",
                          connections_.at(f.local_port));
    }
    const std::string_view name = f.outgoing ? command_of(f.bytes) : std::string_view(names_[response_to_of(f.bytes)]);
    if (f.outgoing) names_[request_id_of(f.bytes)] = std::string(name);
    const auto normalized = normalizer_.normalize(f.bytes);
    out_ += fmt::format("\n#### Frame {}: {} `{}`, connection {}\n\n```text\n{}```\n", ++number_,
                        f.outgoing ? "client → server," : "server → client, reply to", name,
                        connections_.at(f.local_port), detail::wire::describe_frame(normalized));
    if (f.outgoing && !answered_.contains(request_id_of(f.bytes)))
      out_ += "\nNo reply: the server closed the connection (a network error for the client).\n";
  }

  const recording& rec_;
  std::set<std::uint16_t> shown_;
  tools::frame_normalizer normalizer_;
  std::set<std::int32_t> answered_;
  std::map<std::uint16_t, std::size_t> connections_;
  std::map<std::int32_t, std::string> names_;
  std::string out_;
  int number_ = 0;
};

std::string generate() {
  testd::embedded_server server;
  recording rec;
  asio::io_context io;
  auto done = asio::co_spawn(io, conversation(server.uri(), rec), asio::use_future);
  io.run();
  done.get();
  server.stop();
  return guide_writer(rec, server.address()).write();
}

// The first line where `expected` and `actual` differ, for the drift message.
std::string first_difference(const std::string& expected, const std::string& actual) {
  std::istringstream a(expected), b(actual);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(a, la)), more_b = static_cast<bool>(std::getline(b, lb));
    if (!more_a && !more_b) return "no difference";
    if (la != lb || more_a != more_b)
      return fmt::format("line {}:\n  committed: {}\n  generated: {}", line, more_a ? la : "(end)",
                         more_b ? lb : "(end)");
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string guide = generate();
    if (argc == 1) {
      std::fputs(guide.c_str(), stdout);
      return 0;
    }
    if (argc != 3 || std::string_view(argv[1]) != "--check") {
      std::fputs("usage: mongowire-protocol-guide [--check docs/protocol.md]\n", stderr);
      return 2;
    }
    std::ifstream in(argv[2], std::ios::binary);
    const std::string committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (committed == guide) return 0;
    std::fprintf(stderr, "%s drifted from a fresh trace (regenerate: mongowire-protocol-guide > %s); first %s\n",
                 argv[2], argv[2], first_difference(committed, guide).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mongowire-protocol-guide: %s\n", e.what());
    return 1;
  }
}
