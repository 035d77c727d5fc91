#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace txnbench {

log_linear_histogram::log_linear_histogram(int precision_bits) : precision_(precision_bits) {
  if (precision_bits < 1 || precision_bits > 16) throw std::invalid_argument("histogram precision must be 1..16 bits");
  // Index of UINT64_MAX + 1: (63 - p) shifts, each adding 2^p buckets above the exact range.
  counts_.assign(bucket_index(UINT64_MAX) + 1, 0);
}

// Values with their most significant bit at position msb >= p keep their top p+1 bits:
// index = shift * 2^p + (value >> shift), with shift = msb - p. Below 2^(p+1) the shift is
// 0 and the index is the value itself (exact).
std::size_t log_linear_histogram::bucket_index(std::uint64_t value) const noexcept {
  const int msb = value ? 63 - std::countl_zero(value) : 0;
  const int shift = std::max(0, msb - precision_);
  return (static_cast<std::size_t>(shift) << precision_) + static_cast<std::size_t>(value >> shift);
}

std::uint64_t log_linear_histogram::bucket_lowest(std::size_t index) const noexcept {
  const std::size_t group = index >> precision_;
  if (group <= 1) return index;
  const int shift = static_cast<int>(group) - 1;
  const std::uint64_t top = (index & ((std::size_t{1} << precision_) - 1)) + (std::uint64_t{1} << precision_);
  return top << shift;
}

std::uint64_t log_linear_histogram::bucket_width(std::size_t index) const noexcept {
  const std::size_t group = index >> precision_;
  return group <= 1 ? 1 : std::uint64_t{1} << (group - 1);
}

void log_linear_histogram::record(std::uint64_t value, std::uint64_t times) noexcept {
  if (times == 0) return;
  counts_[bucket_index(value)] += times;
  count_ += times;
  sum_ += value * times;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void log_linear_histogram::merge(const log_linear_histogram& other) {
  if (other.precision_ != precision_) throw std::invalid_argument("cannot merge histograms of different precision");
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void log_linear_histogram::reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

std::uint64_t log_linear_histogram::value_at_percentile(double percentile) const noexcept {
  if (count_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  // The rank of the wanted value, 1-based: at least one value is always covered.
  const auto wanted = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) return std::min(max_, bucket_lowest(i) + bucket_width(i) - 1);
  }
  return max_;
}

log_linear_histogram difference(const log_linear_histogram& later, const log_linear_histogram& earlier) {
  if (later.precision_bits() != earlier.precision_bits())
    throw std::invalid_argument("cannot subtract histograms of different precision");
  log_linear_histogram d(later.precision_bits());
  for (std::size_t i = 0; i < later.bucket_count(); ++i)
    if (later.count_at(i) > earlier.count_at(i))
      d.record(later.bucket_lowest(i), later.count_at(i) - earlier.count_at(i));
  return d;
}

concurrent_histogram::concurrent_histogram(int precision_bits)
    : layout_(precision_bits), counts_(new std::atomic<std::uint64_t>[layout_.bucket_count()]) {
  for (std::size_t i = 0; i < layout_.bucket_count(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void concurrent_histogram::record(std::uint64_t value) noexcept {
  counts_[layout_.bucket_index(value)].fetch_add(1, std::memory_order_relaxed);
}

log_linear_histogram concurrent_histogram::snapshot() const {
  log_linear_histogram h(layout_.precision_bits());
  for (std::size_t i = 0; i < layout_.bucket_count(); ++i)
    if (auto n = counts_[i].load(std::memory_order_relaxed)) h.record(layout_.bucket_lowest(i), n);
  return h;
}

}  // namespace txnbench
