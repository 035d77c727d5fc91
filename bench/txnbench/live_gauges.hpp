// The client's gauges in txnbench (issue 16 "live gauges", mongowire runs): the progress line's
// live figures and the merge of each client's final gauges for the report.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "mongowire/gauges.hpp"

namespace txnbench {

// Sums over the clients of a run. client::gauges() must be read on the client's own thread, so
// each client's sampler publishes there the change since its previous sample; the controlling
// thread reads the totals without a lock.
class live_gauges {
 public:
  struct values {
    std::int64_t sessions_in_use = 0, wait_queue = 0, write_conflicts = 0;
  };
  // `last` is what this sampler published before (updated to `now`).
  void publish(values& last, const mongowire::client_gauges& now) noexcept;
  std::optional<values> read() const noexcept;  // none until a sampler has published

 private:
  std::atomic<std::int64_t> sessions_in_use_{0}, wait_queue_{0}, write_conflicts_{0};
  std::atomic<bool> published_{false};
};

// " sessions 12  waitq 0  conflicts 34" for the progress line; "" until gauges were published.
std::string progress_gauges(const live_gauges& g);

// Adds one client's gauges to a run's: sessions and counters summed, pools merged by address
// (generation: the highest; clears: all, by time), write conflicts merged by namespace.
void merge_gauges(mongowire::client_gauges& into, const mongowire::client_gauges& from);

}  // namespace txnbench
