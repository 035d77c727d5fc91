// Heap allocation counting for txnbench: the binary replaces the global operator new and
// installs a libbson allocator, and counts only on threads that enrolled (the client's
// threads), so that the in-process test server's own allocations are not charged to the
// engine. Optionally samples call stacks of allocations to show where they come from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace txnbench::alloc {

// Installs the libbson allocator; call once from main before any libbson use.
void install();

// Enrolls the calling thread: its allocations are counted from now on.
void enroll_this_thread();

// Allocations so far on all enrolled threads (operator new + libbson malloc/calloc/realloc).
std::uint64_t total();

// Call-stack sampling of counted allocations (off by default).
void start_sampling(std::size_t max_samples);
void stop_sampling();
struct site {
  std::uint64_t count = 0;
  std::vector<std::string> frames;  // innermost first, demangled where possible
};
// The sampled stacks grouped by identical frames, most frequent first.
std::vector<site> sampled_sites();

}  // namespace txnbench::alloc
