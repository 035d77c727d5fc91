// mongowire-cli: runs a small scripted conversation against a server, for interop tests
// with independent peers (MockupDB) and for people reading the protocol.
//   mongowire-cli --uri URI --script ping|txn3|abort [--db DB] [--coll COLL]
//   mongowire-cli --uri URI --command '{"ping": 1}' [--db DB]
//   --trace: print every frame sent and received, annotated (the URI's password is masked);
//   --pcap FILE: write them as a pcap file for Wireshark / tshark (synthesized TCP/IP framing).
// Scripts:
//   ping   runCommand {ping: 1} on admin (implicit session)
//   txn3   one transaction (snapshot / majority): insert, update, delete, then commit
//   abort  one transaction: insert, then abortTransaction
// Exit status 0 when every step succeeded; the client is closed at the end (endSessions).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <cstdio>
#include <string>
#include <string_view>

#include "frame_capture.hpp"
#include "mask_password.hpp"
#include "transaction_presets.hpp"
#include "mongowire/client.hpp"

namespace asio = boost::asio;
using namespace mongowire;

namespace {

struct cli_options {
  std::string uri;
  std::string script;
  std::string command_json;
  std::string db = "test";
  std::string coll = "items";
  bool trace = false;
  std::string pcap;
};

int usage() {
  std::fputs(
      "usage: mongowire-cli --uri URI (--script ping|txn3|abort | --command JSON) [--db DB] [--coll COLL]\n"
      "                     [--trace] [--pcap FILE]\n"
      "  ping   runCommand {ping: 1} on admin\n"
      "  txn3   a transaction of insert, update and delete, then commitTransaction\n"
      "  abort  a transaction of one insert, then abortTransaction\n"
      "  --trace      print every frame sent and received, each field explained\n"
      "  --pcap FILE  write every frame to FILE (libpcap; open it in Wireshark or tshark)\n",
      stderr);
  return 2;
}

bool report(std::string_view step, error_code ec, const diagnostics& diag) {
  if (!ec) {
    std::printf("%.*s: ok\n", static_cast<int>(step.size()), step.data());
    return true;
  }
  const auto messages = describe(diag);
  std::printf("%.*s: FAILED %s%s%s\n", static_cast<int>(step.size()), step.data(), ec.message().c_str(),
              messages.empty() ? "" : ": ", messages.c_str());
  return false;
}

asio::awaitable<bool> ping(client& c) {
  diagnostics diag;
  bson::document reply;
  auto ec = co_await c.run_command("admin", bson::document::from_json(R"({"ping": 1})"), reply, diag);
  co_return report("ping", ec, diag);
}

asio::awaitable<bool> run_command(client& c, const cli_options& o) {
  diagnostics diag;
  bson::document reply;
  auto ec = co_await c.run_command(o.db, bson::document::from_json(o.command_json), reply, diag);
  std::printf("%s\n", reply.get_view().to_relaxed_json().c_str());
  co_return report("command", ec, diag);
}

asio::awaitable<bool> transaction_of_three_writes(client& c, const cli_options& o) {
  auto s = c.start_session();
  auto coll = s.get_collection(o.db, o.coll);
  diagnostics diag;
  if (!report("startTransaction", s.start_transaction(tools::snapshot_majority(), diag), diag)) co_return false;
  insert_one_result inserted;
  const auto doc = bson::document::from_json(R"({"_id": 1, "qty": 5})");
  const insert_one_options insert_options;
  if (!report("insert", co_await coll.insert_one(doc, insert_options, inserted, diag), diag)) co_return false;
  update_result updated;
  const auto by_id = bson::document::from_json(R"({"_id": 1})");
  const auto decrement = bson::document::from_json(R"({"$inc": {"qty": -1}})");
  const update_options update_opts;
  if (!report("update", co_await coll.update_one(by_id, decrement, update_opts, updated, diag), diag)) co_return false;
  delete_result deleted;
  const auto sold_out = bson::document::from_json(R"({"qty": 0})");
  const delete_options delete_opts;
  if (!report("delete", co_await coll.delete_one(sold_out, delete_opts, deleted, diag), diag)) co_return false;
  if (!report("commitTransaction", co_await s.commit_transaction(diag), diag)) co_return false;
  co_await s.end();
  co_return true;
}

asio::awaitable<bool> aborted_transaction(client& c, const cli_options& o) {
  auto s = c.start_session();
  diagnostics diag;
  if (!report("startTransaction", s.start_transaction(tools::snapshot_majority(), diag), diag)) co_return false;
  insert_one_result inserted;
  const auto doc = bson::document::from_json(R"({"_id": 2})");
  const insert_one_options options;
  auto coll = s.get_collection(o.db, o.coll);
  if (!report("insert", co_await coll.insert_one(doc, options, inserted, diag), diag)) co_return false;
  if (!report("abortTransaction", co_await s.abort_transaction(diag), diag)) co_return false;
  co_await s.end();
  co_return true;
}

asio::awaitable<bool> run_script(client& c, const cli_options& o) {
  bool ok = false;
  if (!o.command_json.empty()) ok = co_await run_command(c, o);
  else if (o.script == "ping") ok = co_await ping(c);
  else if (o.script == "txn3") ok = co_await transaction_of_three_writes(c, o);
  else if (o.script == "abort") ok = co_await aborted_transaction(c, o);
  co_await c.close();
  co_return ok;
}

}  // namespace

int main(int argc, char** argv) {
  cli_options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--trace") {
      o.trace = true;
      continue;
    }
    if (i + 1 >= argc) return usage();
    std::string v = argv[++i];
    if (a == "--uri") o.uri = v;
    else if (a == "--script") o.script = v;
    else if (a == "--command") o.command_json = v;
    else if (a == "--db") o.db = v;
    else if (a == "--coll") o.coll = v;
    else if (a == "--pcap") o.pcap = v;
    else return usage();
  }
  if (o.uri.empty() || (o.command_json.empty() && o.script != "ping" && o.script != "txn3" && o.script != "abort"))
    return usage();
  try {
    asio::io_context io;
    tools::frame_capture capture(o.trace ? stdout : nullptr, o.pcap);
    client_options opts;
    if (o.trace || !o.pcap.empty()) opts.on_frame = capture.handler();
    if (o.trace) std::printf("mongowire-cli: %s\n", tools::mask_password(o.uri).c_str());
    // The client lives in the coroutine, so every way out of the script ends io.run().
    auto job = [&o, &opts]() -> asio::awaitable<bool> {
      client c(co_await asio::this_coro::executor, o.uri, opts);
      co_return co_await run_script(c, o);
    };
    auto done = asio::co_spawn(io, job(), asio::use_future);
    io.run();
    const bool ok = done.get();
    if (!capture.error().empty()) std::fprintf(stderr, "mongowire-cli: %s\n", capture.error().c_str());
    return ok && capture.error().empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mongowire-cli: %s\n", e.what());
    return 1;
  }
}
