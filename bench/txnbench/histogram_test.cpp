#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <thread>
#include <vector>

#include "histogram.hpp"

using txnbench::log_linear_histogram;

TEST_CASE("values below 2^(precision+1) are counted exactly") {
  log_linear_histogram h(4);
  for (std::uint64_t v = 0; v < 32; ++v) {
    CHECK(h.bucket_index(v) == v);
    CHECK(h.bucket_lowest(v) == v);
    CHECK(h.bucket_width(v) == 1);
  }
}

TEST_CASE("every value falls inside its bucket, and buckets tile the number line") {
  for (int p : {1, 3, 7, 12}) {
    log_linear_histogram h(p);
    std::uint64_t expected_low = 0;
    for (std::size_t i = 0; i < h.bucket_index(1ull << 40); ++i) {
      CHECK(h.bucket_lowest(i) == expected_low);  // no gap, no overlap
      expected_low = h.bucket_lowest(i) + h.bucket_width(i);
    }
    std::mt19937_64 gen(p);
    for (int n = 0; n < 10000; ++n) {
      std::uint64_t v = gen() >> (gen() % 64);
      auto i = h.bucket_index(v);
      CHECK(h.bucket_lowest(i) <= v);
      CHECK(v - h.bucket_lowest(i) < h.bucket_width(i));
    }
    CHECK(h.bucket_lowest(h.bucket_index(UINT64_MAX)) + (h.bucket_width(h.bucket_index(UINT64_MAX)) - 1) == UINT64_MAX);
  }
}

TEST_CASE("a bucket's width is at most value / 2^precision (bounded relative error)") {
  log_linear_histogram h(7);
  for (std::uint64_t v : std::vector<std::uint64_t>{255, 256, 1000, 123456, 99999999, 1ull << 50, UINT64_MAX}) {
    auto i = h.bucket_index(v);
    CHECK(h.bucket_width(i) <= std::max<std::uint64_t>(1, v >> 7));
  }
}

TEST_CASE("percentiles of 1..10000 are within the precision of the exact ranks") {
  log_linear_histogram h(7);
  for (std::uint64_t v = 1; v <= 10000; ++v) h.record(v);
  CHECK(h.count() == 10000);
  CHECK(h.min() == 1);
  CHECK(h.max() == 10000);
  CHECK(h.mean() == doctest::Approx(5000.5));
  for (double pct : {50.0, 90.0, 99.0, 99.9}) {
    const double exact = pct * 100;
    const auto got = static_cast<double>(h.value_at_percentile(pct));
    CHECK(got >= exact);
    CHECK(got <= exact * (1 + 1.0 / 128));
  }
  CHECK(h.value_at_percentile(100) == 10000);
  CHECK(h.value_at_percentile(0) == 1);
}

TEST_CASE("the percentile never exceeds the maximum recorded value") {
  log_linear_histogram h(2);
  h.record(1000);
  CHECK(h.value_at_percentile(50) == 1000);
  CHECK(h.value_at_percentile(99.99) == 1000);
}

TEST_CASE("an empty histogram reports zeros") {
  log_linear_histogram h;
  CHECK(h.count() == 0);
  CHECK(h.value_at_percentile(99) == 0);
  CHECK(h.min() == 0);
  CHECK(h.max() == 0);
  CHECK(h.mean() == 0);
}

TEST_CASE("merge equals recording everything into one histogram") {
  log_linear_histogram a, b, all;
  std::mt19937_64 gen(7);
  for (int i = 0; i < 5000; ++i) {
    std::uint64_t v = gen() % 1000000;
    (i % 2 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.min() == all.min());
  CHECK(a.max() == all.max());
  for (double pct : {1.0, 50.0, 99.0, 99.9}) CHECK(a.value_at_percentile(pct) == all.value_at_percentile(pct));
  CHECK_THROWS(a.merge(log_linear_histogram(3)));
}

TEST_CASE("record with a count, and reset") {
  log_linear_histogram h;
  h.record(10, 99);
  h.record(1000000, 1);
  CHECK(h.value_at_percentile(99) == 10);
  CHECK(h.value_at_percentile(100) == 1000000);
  h.reset();
  CHECK(h.count() == 0);
  CHECK(h.value_at_percentile(50) == 0);
}

TEST_CASE("precision outside 1..16 bits is refused") {
  CHECK_THROWS(log_linear_histogram(0));
  CHECK_THROWS(log_linear_histogram(17));
}

TEST_CASE("concurrent_histogram: snapshots taken while threads record; their difference is what came between") {
  txnbench::concurrent_histogram live(7);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&live, t] {
      for (std::uint64_t v = 1; v <= 1000; ++v) live.record(v * 1000 + static_cast<std::uint64_t>(t));
    });
  for (auto& t : threads) t.join();
  const auto first = live.snapshot();
  CHECK(first.count() == 4000);
  CHECK(static_cast<double>(first.value_at_percentile(50)) == doctest::Approx(500'000).epsilon(0.01));
  for (int i = 0; i < 100; ++i) live.record(5'000'000);
  const auto second = live.snapshot();
  const auto between = txnbench::difference(second, first);
  CHECK(between.count() == 100);
  CHECK(static_cast<double>(between.value_at_percentile(50)) == doctest::Approx(5'000'000).epsilon(0.01));
  CHECK(txnbench::difference(first, first).count() == 0);
}
