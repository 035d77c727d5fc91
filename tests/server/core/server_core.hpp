// The sans-I/O core of mongowire's test server: an in-memory MongoDB 7.0 replica-set
// member that answers OP_MSG command bodies exactly as mongod would (replies, error codes,
// error labels, sessions, transactions, retryable writes, failpoints). The network layer
// decodes frames, calls `handle`, then obeys `connection_context` (wait `block_ms`, close
// the connection instead of replying when `close_connection` is set).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mongowire/bson.hpp"
#include "proto/wire/compression.hpp"

namespace mongowire::testd {

enum class member_role { primary, secondary };

struct auth_session;  // core/users.hpp

// A user the server starts with (mongowire-testd --user NAME:PASSWORD): root on admin, with
// SCRAM-SHA-1 and SCRAM-SHA-256 credentials.
struct initial_user {
  std::string name;
  std::string password;
  std::string db = "admin";
  std::vector<std::string> mechanisms;  // SCRAM-SHA-1 and/or SCRAM-SHA-256; empty: both
};

// One handled command, for the logging knob.
struct command_log_entry {
  std::int64_t connection_id;
  std::string_view command_name;
  bson::view command;  // with kind-1 sequences merged in
  bson::view reply;    // empty when the connection is closed instead of replying
};

struct server_options {
  std::int32_t min_wire_version = 0;
  std::int32_t max_wire_version = 21;  // MongoDB 7.0
  // hello's maxWriteBatchSize, enforced on writes (mongod: write_ops::kMaxWriteBatchSize);
  // tests lower it to make batch splitting cheap to exercise.
  std::int32_t max_write_batch_size = 100'000;
  std::chrono::seconds transaction_lifetime_limit{60};  // transactionLifetimeLimitSeconds
  member_role role = member_role::primary;
  // A standalone mongod: hello without the replica-set fields, and txnNumber refused with
  // IllegalOperation (service_entry_point_common.cpp) as mongod does.
  bool standalone = false;
  // A mongos router of a sharded cluster over this core's data (mongowire-testd --sharded):
  // hello says msg "isdbgrid" without the replica-set fields; each router (see
  // connection_context::router) keeps its own transactions and failCommand, and replies in
  // a transaction carry a recoveryToken.
  bool sharded = false;
  // The mongos sits behind a load balancer (mongos --loadBalancerPort; mongowire-testd
  // --load-balanced; implies sharded): the first hello of each connection must say
  // loadBalanced: true (else LoadBalancerSupportMismatch) and its reply carries serviceId.
  bool load_balanced = false;
  // false: hello without logicalSessionTimeoutMinutes, as a server without sessions support
  // (mongocryptd; driver-sessions tests "Testing against servers that do not support sessions").
  bool sessions_supported = true;
  std::string set_name = "rs0";
  std::vector<std::string> hosts{"localhost:27017"};
  std::string me;       // this member's address; hosts[0] when empty
  std::string primary;  // advertised primary while playing a secondary; may be empty
  // How long a secondary takes to apply a write of its sync source (0: before its next
  // command); on a primary, how long a write concern that needs a secondary waits.
  std::chrono::milliseconds replication_lag{0};
  // Injected wall clock (transaction expiry, localTime, cluster time seconds).
  std::function<std::chrono::system_clock::time_point()> clock;
  // Called after every command when set.
  std::function<void(const command_log_entry&)> command_log;
  // Access control (mongod --auth): every command but the handshake and authentication ones
  // fails with Unauthorized (13) until the connection has authenticated.
  bool auth = false;
  std::vector<initial_user> users;
  // false: hello ignores speculativeAuthenticate, as mongod before 4.4 (handshake.md): the
  // client then runs the whole conversation, one round trip more per connection.
  bool speculative_auth = true;
  // mongod --networkMessageCompressors (its default order): what hello may negotiate.
  std::vector<std::string> compressors{"snappy", "zstd", "zlib"};
};

// An OP_MSG kind-1 section: merged into the body as the array field `identifier`.
struct sequence {
  std::string_view identifier;
  std::vector<bson::view> docs;
};

// Per-connection state shared between the core and the network layer.
struct connection_context {
  std::int64_t connection_id = 0;
  std::int32_t router = 0;  // sharded: which mongos the connection reached (listen_options::router)
  std::string app_name;     // hello client.application.name
  bool client_metadata_received = false;
  bool load_balanced_hello_done = false;  // load_balanced: the first hello was answered
  bson::timestamp last_op_time{};         // this client's last write (mongod's ReplClientInfo::lastOp)
  // Out-parameters of the last handle():
  bool close_connection = false;          // close without replying
  std::int64_t block_ms = 0;              // wait this long before replying
  std::int64_t await_ms = 0;              // then this long: an awaitable hello's maxAwaitTimeMS
  bool awaiting_topology_change = false;  // await_ms is ended early, and the hello run again, when
                                          // the topology changes (also during block_ms: mongod runs
                                          // the hello after a failCommand block)
  bool run_again = false;                 // no reply yet: wait block_ms, then run the same command again (a
                                          // secondary waiting to apply a read's afterClusterTime)
  std::int64_t wait_deadline_ms = 0;      // while run_again: the maxTimeMS deadline (ms since epoch), 0: none
  // While run_again: a tailable awaitData getMore waits for documents until then (ms since
  // epoch); failCommand has acted on the request already.
  std::int64_t await_data_deadline_ms = 0;
  std::shared_ptr<auth_session> auth;  // who authenticated, the SASL conversation in progress
  std::string tls_subject;             // RFC 2253 subject of the client's verified TLS certificate (MONGODB-X509)
  // OP_COMPRESSED.md: the compressors hello negotiated, in the client's order; the network
  // layer accepts OP_COMPRESSED with these only.
  std::vector<detail::wire::compressor_id> compressors;
  // In: the network layer runs the same request again (an awaitable hello after a topology
  // change): failCommand acted on it already. Reset by handle().
  bool fail_command_evaluated = false;
};

class server_core {
 public:
  explicit server_core(server_options options = {});
  ~server_core();
  server_core(const server_core&) = delete;
  server_core& operator=(const server_core&) = delete;

  // A fresh context with a new connection id (mongod's connectionId counter).
  connection_context open_connection();
  // Releases what the connection owned (nothing survives a connection in mongod except
  // cursors and sessions, which are server-wide; kept for symmetry with the network layer).
  void close_connection(connection_context& ctx);

  // Runs one command. Thread-safe (one command at a time). Resets ctx.close_connection and
  // ctx.block_ms first. When ctx.close_connection is set on return the reply is empty.
  bson::document handle(bson::view command_body, std::span<const sequence> kind1_sequences, connection_context& ctx);

  // Failover: switches role, bumps topologyVersion.counter; stepping down aborts open
  // transactions as mongod does. Becoming primary starts a new election term.
  void set_role(member_role role);
  member_role role() const;

  // The replica-set members hello advertises (hosts) and this member's own address (me),
  // e.g. once the network layer knows the port it is bound to. Bumps topologyVersion when
  // anything changed (mongod does on a reconfig).
  void set_members(std::vector<std::string> hosts, std::string me);
  std::string me() const;
  // The whole replica-set state of this member at once, as an election leaves it: its role,
  // the primary it knows (hello's "primary" while secondary; empty: none known) and the
  // election term (electionId, lastWrite.opTime.t; SDAM trusts the highest electionId, so a
  // new primary needs a term above every older primary's). Bumps topologyVersion on change.
  void set_replica_state(member_role role, std::string known_primary, std::int64_t term);
  std::int64_t election_term() const;
  // Replication: while secondary, this member fetches `source`'s oplog before each command
  // and applies each entry replication_lag after its commit; null: no sync source. The
  // source must outlive this member (or be replaced first).
  void set_sync_source(server_core* source);
  // replSetStepDown: this primary steps down, then calls `handler`, which holds the election
  // among the members. Called under the core's lock: it must hand the election to another
  // thread (it may not run commands on this core). Not set: nobody is elected.
  void set_election_handler(std::function<void()> handler);
  // Not frozen by replSetFreeze: an election may pick this member.
  bool electable() const;
  // Called after each topologyVersion bump, outside the core's lock and on the caller's
  // thread, so that the network layer can answer waiting awaitable hellos at once.
  void set_topology_listener(std::function<void()> listener);
  bson::timestamp cluster_time() const;
  // Shutdown's quiesce mode (mongod 5.0+, shutdownTimeoutMillisForSignaledShutdown): bumps
  // topologyVersion; hello then fails with ShutdownInProgress, other commands still run, and
  // shutdown errors carry topologyVersion. There is no way back, as in mongod.
  void enter_quiesce_mode();
  // The member restarted as a standalone (mongod without --replSet, e.g. for maintenance):
  // hello loses the replica-set fields and txnNumber is refused with IllegalOperation.
  // topologyVersion does not move, so clients learn it only at their next heartbeat.
  void set_standalone(bool standalone);
  // serverStatus network.compression: bytes in and out of the compressor (`compressing`) or
  // the decompressor of `id`, counted by the network layer.
  void record_compression(detail::wire::compressor_id id, bool compressing, std::size_t bytes_in,
                          std::size_t bytes_out);

  struct impl;  // implementation detail (core/core_impl.hpp)

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace mongowire::testd
