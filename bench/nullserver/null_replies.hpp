// The null server's answers: a replica-set primary that stores nothing and replies at once
// with what mongod would say to a successful command (benchmarks measure the client, not the
// server). Sans-I/O: one command body in, one reply document out.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "mongowire/bson.hpp"
#include "proto/wire/compression.hpp"

namespace mongowire::nullserver {

struct server_identity {
  std::string address;  // "host:port" advertised as hosts[0], primary and me
  std::string set_name = "rs0";
  bson::object_id process_id = bson::object_id::generate();
};

// What one connection remembers between commands.
struct connection_state {
  std::int64_t connection_id = 0;
  std::vector<detail::wire::compressor_id> compressors;  // negotiated by hello
  // Set by answer() for an awaitable hello: reply after this many milliseconds.
  std::int64_t await_ms = 0;
};

class reply_builder {
 public:
  explicit reply_builder(const server_identity& identity) : identity_(identity) {}

  // Fills `reply` for `body`; `sequence_documents` counts the documents of the OP_MSG kind-1
  // section (insert's documents, update's updates, delete's deletes), which an insert, update or
  // delete reports as n. Every reply carries ok, $clusterTime and operationTime.
  void answer(bson::view body, std::size_t sequence_documents, connection_state& conn, bson::document& reply);

 private:
  void hello(bson::view body, bool legacy, connection_state& conn, bson::document& reply);
  bson::timestamp next_cluster_time();

  const server_identity& identity_;
};

}  // namespace mongowire::nullserver
