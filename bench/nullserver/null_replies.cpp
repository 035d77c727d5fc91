#include "null_replies.hpp"

#include <algorithm>
#include <chrono>

namespace mongowire::nullserver {
namespace {

namespace wire = detail::wire;

std::atomic<std::uint32_t> cluster_time_increment{0};

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool is_legacy_hello(std::string_view name) { return name == "isMaster" || name == "ismaster"; }

// The documents of an insert/update/delete, whether sent as a kind-1 section or in the body.
std::int32_t statement_count(bson::view body, std::string_view name, std::size_t sequence_documents) {
  if (sequence_documents > 0) return static_cast<std::int32_t>(sequence_documents);
  const std::string_view field = name == "insert" ? "documents" : name == "update" ? "updates" : "deletes";
  const auto list = body.find(field).as_array();
  return list ? static_cast<std::int32_t>(list->count()) : 0;
}

// find, aggregate and getMore: an exhausted cursor (id 0) with an empty batch.
void empty_cursor(bson::view body, std::string_view name, bson::document& reply) {
  const auto db = body.find("$db").as_string().value_or("test");
  const auto coll = body.find(name == "getMore" ? "collection" : name).as_string().value_or("");
  const std::string ns = std::string(db) + "." + std::string(coll);
  bson::document cursor;
  cursor.append_array(name == "getMore" ? "nextBatch" : "firstBatch", bson::document().get_view());
  cursor.append("id", std::int64_t{0});
  cursor.append("ns", ns);
  reply.append("cursor", cursor);
}

// OP_COMPRESSED.md "MongoDB Handshake Amendment": every compressor this build has, in the
// client's order.
void negotiate_compression(bson::view body, connection_state& conn, bson::document& reply) {
  if (const auto requested = body.find("compression").as_array()) {
    conn.compressors.clear();
    for (const auto& e : *requested)
      if (auto id = wire::compressor_from_name(e.as_string().value_or(""));
          id && std::find(conn.compressors.begin(), conn.compressors.end(), *id) == conn.compressors.end())
        conn.compressors.push_back(*id);
  }
  if (conn.compressors.empty()) return;
  bson::array_builder names;
  for (auto id : conn.compressors) names.push(wire::compressor_name(id));
  reply.append_array("compression", names.get_view());
}

}  // namespace

bson::timestamp reply_builder::next_cluster_time() {
  return {static_cast<std::uint32_t>(now_ms() / 1000), cluster_time_increment.fetch_add(1) + 1};
}

void reply_builder::hello(bson::view body, bool legacy, connection_state& conn, bson::document& reply) {
  // server-monitoring.md "Streaming Protocol": a hello with topologyVersion and maxAwaitTimeMS
  // is answered when the topology changes (never here) or when maxAwaitTimeMS elapses.
  if (body.find("topologyVersion").is_document())
    conn.await_ms = std::max<std::int64_t>(0, body.find("maxAwaitTimeMS").as_integer().value_or(0));
  if (body.find("helloOk").as_bool().value_or(false)) reply.append("helloOk", true);
  reply.append(legacy ? "ismaster" : "isWritablePrimary", true);
  bson::document topology_version;
  topology_version.append("processId", identity_.process_id).append("counter", std::int64_t{0});
  reply.append("topologyVersion", topology_version);
  bson::array_builder hosts;
  hosts.push(identity_.address);
  reply.append_array("hosts", hosts.get_view());
  reply.append("setName", identity_.set_name).append("setVersion", std::int32_t{1});
  reply.append("secondary", false).append("primary", identity_.address).append("me", identity_.address);
  bson::object_id election{};
  election.bytes = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1};
  reply.append("electionId", election);
  bson::document last_write;
  last_write.append_date("lastWriteDate", now_ms());
  reply.append("lastWrite", last_write);
  reply.append("maxBsonObjectSize", std::int32_t{16 * 1024 * 1024});
  reply.append("maxMessageSizeBytes", std::int32_t{48'000'000});
  reply.append("maxWriteBatchSize", std::int32_t{100'000});
  reply.append_date("localTime", now_ms());
  reply.append("logicalSessionTimeoutMinutes", std::int32_t{30});
  reply.append("connectionId", conn.connection_id);
  reply.append("minWireVersion", std::int32_t{0}).append("maxWireVersion", std::int32_t{21});
  reply.append("readOnly", false);
  negotiate_compression(body, conn, reply);
}

void reply_builder::answer(bson::view body, std::size_t sequence_documents, connection_state& conn,
                           bson::document& reply) {
  reply.clear();
  conn.await_ms = 0;
  const std::string_view name = body.first_key();
  if (name == "hello" || is_legacy_hello(name)) {
    hello(body, is_legacy_hello(name), conn, reply);
  } else if (name == "insert" || name == "delete") {
    reply.append("n", statement_count(body, name, sequence_documents));
  } else if (name == "update") {
    const std::int32_t n = statement_count(body, name, sequence_documents);
    reply.append("n", n).append("nModified", n);
  } else if (name == "find" || name == "aggregate" || name == "getMore") {
    empty_cursor(body, name, reply);
  }
  // commitTransaction, abortTransaction, endSessions, ping and the rest: plain success.
  reply.append("ok", 1.0);
  const bson::timestamp now = next_cluster_time();
  bson::document cluster_time, signature;
  const std::uint8_t no_key[20] = {};
  signature.append("hash", bson::binary_ref{BSON_SUBTYPE_BINARY, no_key}).append("keyId", std::int64_t{0});
  cluster_time.append("clusterTime", now).append("signature", signature);
  reply.append("$clusterTime", cluster_time);
  reply.append("operationTime", now);
}

}  // namespace mongowire::nullserver
