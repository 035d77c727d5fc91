// Write conflicts per namespace (issue 16 "live gauges": where the hot documents are), sans-I/O.
// A bounded Space-Saving counter (Metwally, Agrawal, El Abbadi, "Efficient Computation of
// Frequent and Top-k Elements in Data Streams", 2005): at most `capacity` namespaces are
// tracked; a new one replaces the least counted and inherits its count as `overcount`, so the
// most conflicted namespaces stay, whatever the number of namespaces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"
#include "mongowire/gauges.hpp"

namespace mongowire::detail {

// A reply that reports WriteConflict (112) as its error or as one of its write errors.
bool reports_write_conflict(const diagnostics& diag) noexcept;

class write_conflict_counter {
 public:
  static constexpr std::size_t default_capacity = 16;
  explicit write_conflict_counter(std::size_t capacity = default_capacity) : capacity_(capacity ? capacity : 1) {}

  // One conflict of the command `body` (its first value names the collection) run on `db`.
  // Allocates only for a namespace not tracked yet.
  void add(std::string_view db, bson::view body);
  std::uint64_t total() const noexcept { return total_; }
  // Most conflicted first (then by name); `out` keeps its capacity.
  void top(std::vector<namespace_count>& out) const;

 private:
  namespace_count* find(std::string_view db, std::string_view coll) noexcept;

  std::size_t capacity_;
  std::uint64_t total_ = 0;
  std::vector<namespace_count> entries_;
};

}  // namespace mongowire::detail
