// Server selection of server-selection.md: read preferences (mode, tag sets,
// maxStalenessSeconds), staleness estimates, suitability per topology type, the latency
// window and the operationCount-based choice within it. Pure: no I/O, no clock (times are
// the servers' recorded ones), no randomness of its own (the caller passes a random source).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "mongowire/uri.hpp"
#include "proto/sdam/topology_description.hpp"

namespace mongowire::detail::sdam {

inline constexpr std::int32_t default_local_threshold_ms = 15;
// SDAM heartbeatFrequencyMS default of multi-threaded clients.
inline constexpr std::int64_t default_heartbeat_frequency_ms = 10'000;
// max-staleness.md idleWritePeriodMS: how often an idle primary writes a no-op.
inline constexpr std::int64_t idle_write_period_ms = 10'000;
// server-selection.md smallestMaxStalenessSeconds.
inline constexpr std::int64_t smallest_max_staleness_seconds = 90;

// server-selection.md, "Components of a read preference". The deprecated hedge option does
// not take part in selection and is not modelled here.
struct read_preference {
  read_preference_mode mode = read_preference_mode::primary;
  // Tried in order (the first that matches a candidate wins). Empty is the same as the
  // default [{}]: every candidate is eligible.
  std::vector<tag_set> tag_sets;
  // Seconds; nullopt or -1 mean "no maximum". A double because read preference documents
  // may carry any number; validation rejects the unusable ones.
  std::optional<double> max_staleness_seconds;

  // maxStalenessSeconds is given and is not the "no maximum" value -1.
  bool has_max_staleness() const noexcept { return max_staleness_seconds && *max_staleness_seconds != -1; }

  // readPreference, readPreferenceTags and maxStalenessSeconds of a connection string.
  static read_preference from(const connection_string& cs);
};

// For messages and logs, e.g. "{mode: secondary, tag_sets: [{dc: ny}], maxStalenessSeconds: 120}".
std::string to_string(const read_preference& rp);

// Rules that hold whatever the topology (server-selection.md "mode", "tag_sets",
// "maxStalenessSeconds"): no non-empty tag set and no positive maxStalenessSeconds with mode
// primary; maxStalenessSeconds a number. Empty when valid, else what is wrong.
std::string read_preference_error(const read_preference& rp);

// server-selection.md "maxStalenessSeconds": in a replica set, a maxStalenessSeconds that is
// set must be at least smallestMaxStalenessSeconds (90) and at least
// (heartbeatFrequencyMS + idleWritePeriodMS) / 1000. Empty when valid (or not a replica set).
std::string max_staleness_error(const read_preference& rp, topology_type type, std::int64_t heartbeat_frequency_ms);

// What staleness of a secondary is measured against (server-selection.md "maxStalenessSeconds"):
// the primary P in ReplicaSetWithPrimary, else the greatest lastWriteDate of the secondaries.
struct staleness_baseline {
  const server_description* primary = nullptr;
  std::int64_t max_secondary_last_write_date_ms = 0;
};
staleness_baseline find_staleness_baseline(topology_type type, std::span<const server_description> servers) noexcept;

// Estimated staleness in milliseconds: 0 for non-secondaries; for a secondary S,
// (S.lastUpdateTime - S.lastWriteDate) - (P.lastUpdateTime - P.lastWriteDate) + heartbeatFrequencyMS
// with a primary, SMax.lastWriteDate - S.lastWriteDate + heartbeatFrequencyMS without one.
// A missing lastWriteDate counts as 0 (the epoch), which only makes the server look staler.
std::int64_t staleness_ms(const server_description& server, const staleness_baseline& baseline,
                          std::int64_t heartbeat_frequency_ms) noexcept;

// server-selection.md "tag_sets": `wanted` is a subset of `server_tags` (the empty set matches all).
bool tags_match(const tag_set& wanted, const tag_set& server_tags) noexcept;

enum class operation_kind { read, write };

struct selection_settings {
  std::int64_t heartbeat_frequency_ms = default_heartbeat_frequency_ms;
  std::int32_t local_threshold_ms = default_local_threshold_ms;
};

// Pointers into the server list given to find_suitable_servers. Reuse one across selections
// to stop allocating.
using server_list = std::vector<const server_description*>;

// server-selection.md "Server Selection Algorithm", step 3, for one topology snapshot: fills
// `out` (cleared first) with the suitable servers for the operation, leaving out the
// `deprioritized` addresses unless that leaves none. The read preference applies to reads
// only and is validated first; a non-empty return is the error that must fail selection at
// once (then `out` is empty). Wire-version compatibility is the caller's check.
std::string find_suitable_servers(topology_type type, std::span<const server_description> servers,
                                  operation_kind operation, const read_preference& read_pref,
                                  std::span<const host_address> deprioritized, const selection_settings& settings,
                                  server_list& out);

// server-selection.md "Filtering suitable servers based on the latency window": keeps the
// servers whose average RTT is at most the shortest plus local_threshold_ms (order kept).
void keep_latency_window(server_list& servers, std::int32_t local_threshold_ms);

// server-selection.md "Server Selection Algorithm", steps 6-7: of two distinct servers picked
// at random from the window, the one with fewer operations in progress (the first pick on a
// tie). `first` is in [0, n) and `second` in [0, n - 1) (drawn without the first). Returns the
// index into operation_counts; n when it is empty.
std::size_t choose_less_busy(std::span<const std::uint64_t> operation_counts, std::size_t first,
                             std::size_t second) noexcept;

// The same, drawing the two picks from `random` (any uniform random bit generator).
template <std::uniform_random_bit_generator Random>
std::size_t choose_less_busy(std::span<const std::uint64_t> operation_counts, Random& random) {
  const std::size_t n = operation_counts.size();
  if (n <= 1) return 0;
  const std::size_t first = std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
  const std::size_t second = std::uniform_int_distribution<std::size_t>(0, n - 2)(random);
  return choose_less_busy(operation_counts, first, second);
}

struct selection_result {
  // Suitable servers within the latency window; empty when none is suitable yet (the caller
  // requests checks and waits, up to serverSelectionTimeoutMS). With several, the caller
  // picks one with choose_less_busy.
  std::vector<host_address> candidates;
  // Non-empty when selection must fail at once (incompatible wire versions, invalid read
  // preference).
  std::string error;
};

// The whole selection over a topology description: compatibility, suitability, window.
selection_result select_servers(const topology_description& topology, operation_kind operation,
                                const read_preference& read_pref, std::span<const host_address> deprioritized = {},
                                const selection_settings& settings = {});

// Writes, transactions and reads with mode primary (kept for src/net/topology.cpp).
selection_result select_writable(const topology_description& topology,
                                 std::int32_t local_threshold_ms = default_local_threshold_ms);

}  // namespace mongowire::detail::sdam
