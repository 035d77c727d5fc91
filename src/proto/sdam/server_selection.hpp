// Server selection for operations that need a writable server (writes, transactions, and
// reads with read preference primary), server-selection.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mongowire/uri.hpp"
#include "proto/sdam/topology_description.hpp"

namespace mongowire::detail::sdam {

inline constexpr std::int32_t default_local_threshold_ms = 15;

struct selection_result {
  // Suitable servers within the latency window; empty when none is suitable yet (the caller
  // requests checks and waits, up to serverSelectionTimeoutMS). With several (mongoses), the
  // caller picks two at random and uses the one with fewer operations in progress.
  std::vector<host_address> candidates;
  // Non-empty when selection must fail at once (incompatible wire versions).
  std::string error;
};

selection_result select_writable(const topology_description& topology,
                                 std::int32_t local_threshold_ms = default_local_threshold_ms);

}  // namespace mongowire::detail::sdam
