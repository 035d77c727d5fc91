// TopologyDescription of server-discovery-and-monitoring.md and its update rules. Pure state:
// every update returns what the I/O layer must do (start/stop monitors, clear pools, checks).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mongowire/bson.hpp"
#include "mongowire/uri.hpp"
#include "proto/sdam/server_description.hpp"

namespace mongowire::detail::sdam {

enum class topology_type {
  unknown,
  single,
  replica_set_no_primary,
  replica_set_with_primary,
  sharded,
  load_balanced,
};
std::string_view to_string(topology_type t) noexcept;  // the spec's name, e.g. "ReplicaSetNoPrimary"

// Wire versions this client speaks: MongoDB 4.2 (8) to 8.0 (25).
inline constexpr std::int32_t client_min_wire_version = 8;
inline constexpr std::int32_t client_max_wire_version = 25;

struct topology_settings {
  std::vector<host_address> seeds;
  std::optional<std::string> replica_set_name;
  bool direct_connection = false;
  bool load_balanced = false;
  std::int32_t min_wire_version = client_min_wire_version;
  std::int32_t max_wire_version = client_max_wire_version;

  static topology_settings from(const connection_string& cs);
};

// What an update asks the I/O layer to do.
struct topology_changes {
  bool ignored = false;               // outcome of a removed server, or stale topologyVersion
  bool pool_ready = false;            // CMAP: mark the checked server's pool ready
  std::vector<host_address> added;    // start monitoring
  std::vector<host_address> removed;  // stop monitoring and close the pool
  // Pools to clear. SDAM updateRSFromPrimary: none since pre-4.2 servers are no longer supported
  // (an invalidated primary keeps its pool); kept for the I/O layer's uniform handling.
  std::vector<host_address> clear_pool;
  std::vector<host_address> request_check;  // invalidated old primaries: check them soon
};

enum class error_kind {
  command,  // a command error or writeConcernError (code and message from the reply)
  network,  // a network error other than a timeout
  network_timeout,
  auth,  // authentication failed during the handshake
};

// An error of an application operation (SDAM "Application errors").
struct application_error {
  host_address address;
  error_kind kind = error_kind::command;
  bool completed_handshake = true;
  std::uint64_t connection_generation = 0;  // generation of the connection (or of the pool when it was opened)
  std::uint64_t pool_generation = 0;        // current generation of the server's pool
  std::optional<std::int32_t> code;         // server code; message-based rules apply without one
  std::string message;
  std::optional<sdam::topology_version> topology_version;
  std::int32_t max_wire_version = 0;          // from the connection's handshake
  std::optional<bson::object_id> service_id;  // load-balanced mode
  // Carries the SystemOverloadedError label (client-backpressure.md): the pool adds it to network
  // errors of connection establishment and the hello handshake (CMAP "Backpressure-enabled").
  bool system_overloaded = false;
};

// The command error a reply carries for SDAM: the top-level error when ok is 0, else the
// writeConcernError; nullopt when there is neither. writeErrors are never checked (SDAM spec).
std::optional<application_error> command_error_from_reply(host_address address, bson::view reply);

struct error_response {
  bool ignored = false;  // stale by generation or topologyVersion, or server unknown
  bool marked_unknown = false;
  bool clear_pool = false;  // in load-balanced mode: the pool of service_id
  bool request_immediate_check = false;
  bool cancel_monitor_check = false;
  topology_changes changes;  // from marking the server Unknown
};

class topology_description {
 public:
  explicit topology_description(topology_settings settings);

  topology_type type() const noexcept { return type_; }
  const std::optional<std::string>& set_name() const noexcept { return set_name_; }
  const std::optional<bson::object_id>& max_election_id() const noexcept { return max_election_id_; }
  const std::optional<std::int64_t>& max_set_version() const noexcept { return max_set_version_; }
  const std::vector<server_description>& servers() const noexcept { return servers_; }
  const topology_settings& settings() const noexcept { return settings_; }
  const server_description* find(const host_address& address) const noexcept;
  const server_description* primary() const noexcept;

  bool compatible() const noexcept { return compatibility_error_.empty(); }
  const std::string& compatibility_error() const noexcept { return compatibility_error_; }

  // SDAM "Logical Session Timeout": min over data-bearing servers; null if any lacks it or
  // none is known.
  std::optional<std::int64_t> logical_session_timeout_minutes() const noexcept;

  // SDAM "Updating the TopologyDescription" for a new description of a server.
  topology_changes apply(server_description incoming);
  // Same, building the description from a hello reply (the average RTT continues from the
  // current description unless it was Unknown).
  topology_changes apply_hello(const host_address& address, bson::view reply, double rtt_sample_ms);
  // A failed check: the server becomes Unknown with `error`.
  topology_changes apply_check_failure(const host_address& address, std::string error);

  // SDAM "Error handling" (handleError pseudocode) for errors of application operations.
  error_response handle_application_error(const application_error& err);

 private:
  server_description* find_mutable(const host_address& address) noexcept;
  void replace(server_description d);
  void remove(const host_address& address, topology_changes& ch);
  void add_members(const server_description& sd, topology_changes& ch);
  void mark_possible_primary(const server_description& sd);
  void check_if_has_primary() noexcept;
  void update_single(server_description sd);
  void update_multi(const server_description& sd, topology_changes& ch);
  void update_unknown_with_standalone(const server_description& sd, topology_changes& ch);
  void update_rs_from_primary(const server_description& sd, topology_changes& ch);
  bool primary_is_stale(const server_description& sd);
  void update_rs_without_primary(const server_description& sd, topology_changes& ch);
  void update_rs_with_primary_from_member(const server_description& sd, topology_changes& ch);
  void update_compatibility();

  topology_settings settings_;
  topology_type type_ = topology_type::unknown;
  std::optional<std::string> set_name_;
  std::optional<bson::object_id> max_election_id_;
  std::optional<std::int64_t> max_set_version_;
  std::vector<server_description> servers_;
  std::string compatibility_error_;
};

}  // namespace mongowire::detail::sdam
