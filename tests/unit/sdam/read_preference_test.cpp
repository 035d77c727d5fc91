// Read preferences and selection for reads (server-selection.md): validation, staleness,
// tag sets, modes per topology type, deprioritization, the latency window and the
// operationCount-based choice.
#include <cmath>
#include <random>

#include "sdam_test_helpers.hpp"

using namespace sdam_test;

namespace {

server_description server(const char* address, server_type type, double rtt_ms = 5, tag_set tags = {},
                          std::int64_t last_write_ms = 0, std::int64_t last_update_ms = 0) {
  server_description s;
  s.address = addr(address);
  s.type = type;
  s.round_trip_time_ms = rtt_ms;
  s.tags = std::move(tags);
  s.last_write_date_ms = last_write_ms;
  s.last_update_time_ms = last_update_ms;
  return s;
}

// Addresses of the suitable servers, "a,b" style, in topology order.
std::string suitable(topology_type type, const std::vector<server_description>& servers, operation_kind op,
                     const read_preference& rp, std::vector<host_address> deprioritized = {},
                     selection_settings settings = {}) {
  server_list out;
  const auto error = find_suitable_servers(type, servers, op, rp, deprioritized, settings, out);
  if (!error.empty()) return "error";
  std::string names;
  for (const auto* s : out) names += (names.empty() ? "" : ",") + s->address.host;
  return names;
}

using mode = read_preference_mode;
const tag_set nyc{{"dc", "nyc"}};
const tag_set sf{{"dc", "sf"}};

}  // namespace

TEST_CASE("read preference: tags and maxStalenessSeconds are invalid with mode primary (server-selection.md)") {
  struct row {
    read_preference rp;
    bool valid;
  };
  const row rows[] = {
      {pref(mode::primary), true},
      {pref(mode::primary, {tag_set{}}), true},  // the default [{}] is not a non-empty tag set
      {pref(mode::primary, {nyc}), false},
      {pref(mode::primary, {}, -1.0), true},  // -1 means no maximum
      {pref(mode::primary, {}, 120.0), false},
      {pref(mode::secondary, {nyc}, 120.0), true},
      {pref(mode::nearest, {}, NAN), false},
  };
  for (const auto& r : rows) {
    CAPTURE(to_string(r.rp));
    CHECK(read_preference_error(r.rp).empty() == r.valid);
  }
}

TEST_CASE("read preference: maxStalenessSeconds is at least 90 and heartbeatFrequencyMS + 10 s in replica sets") {
  struct row {
    double seconds;
    std::int64_t heartbeat_ms;
    topology_type type;
    bool valid;
  };
  const row rows[] = {
      {90, 10'000, topology_type::replica_set_with_primary, true},
      {89, 10'000, topology_type::replica_set_no_primary, false},
      {0, 10'000, topology_type::replica_set_no_primary, false},      // set but zero: too small
      {100, 95'000, topology_type::replica_set_with_primary, false},  // 95 s + idleWritePeriod 10 s = 105 s
      {105, 95'000, topology_type::replica_set_with_primary, true},
      {1, 10'000, topology_type::sharded, true},  // passed to mongos, not checked here
      {1, 10'000, topology_type::unknown, true},
      {1, 10'000, topology_type::single, true},
  };
  for (const auto& r : rows) {
    CAPTURE(r.seconds);
    CAPTURE(r.heartbeat_ms);
    CAPTURE(to_string(r.type));
    CHECK(max_staleness_error(pref(mode::nearest, {}, r.seconds), r.type, r.heartbeat_ms).empty() == r.valid);
  }
  const auto message = max_staleness_error(pref(mode::nearest, {}, 10.4), topology_type::replica_set_no_primary, 500);
  CHECK(message.find("maxStalenessSeconds is 10.4 but must be at least 90 seconds") != std::string::npos);
}

TEST_CASE("read preference: staleness against the primary, or against the freshest secondary without one") {
  const std::vector<server_description> with_primary{
      server("a", server_type::rs_primary, 5, {}, 125'002, 0),
      server("b", server_type::rs_secondary, 5, {}, 2, 0),
      server("c", server_type::rs_secondary, 5, {}, 1, 50'000),
  };
  const auto p = find_staleness_baseline(topology_type::replica_set_with_primary, with_primary);
  REQUIRE(p.primary == &with_primary[0]);
  CHECK(staleness_ms(with_primary[0], p, 25'000) == 0);  // non-secondaries have zero staleness
  CHECK(staleness_ms(with_primary[1], p, 25'000) == (0 - 2) - (0 - 125'002) + 25'000);
  CHECK(staleness_ms(with_primary[2], p, 25'000) == (50'000 - 1) - (0 - 125'002) + 25'000);

  const std::vector<server_description> no_primary{
      server("a", server_type::rs_secondary, 5, {}, 1'000'000),
      server("b", server_type::rs_secondary, 5, {}, 900'000),
  };
  const auto s = find_staleness_baseline(topology_type::replica_set_no_primary, no_primary);
  CHECK(s.primary == nullptr);
  CHECK(staleness_ms(no_primary[0], s, 10'000) == 10'000);
  CHECK(staleness_ms(no_primary[1], s, 10'000) == 110'000);
}

TEST_CASE("read preference: suitable servers per mode and tag sets in a replica set with a primary") {
  const std::vector<server_description> rs{
      server("a", server_type::rs_primary, 5, nyc), server("b", server_type::rs_secondary, 5, nyc),
      server("c", server_type::rs_secondary, 5, sf), server("d", server_type::rs_arbiter, 5, nyc),  // never a candidate
  };
  const tag_set nowhere{{"dc", "tokyo"}};
  struct row {
    read_preference rp;
    const char* expected;
  };
  const row rows[] = {
      {pref(mode::primary), "a"},
      {pref(mode::primary_preferred, {nowhere}), "a"},
      {pref(mode::secondary), "b,c"},
      {pref(mode::secondary, {sf}), "c"},
      {pref(mode::secondary, {nowhere, sf, nyc}), "c"},  // the first matching tag set decides
      {pref(mode::secondary, {nowhere}), ""},
      {pref(mode::secondary_preferred, {nowhere}), "a"},
      {pref(mode::secondary_preferred, {nyc}), "b"},
      {pref(mode::nearest, {nyc}), "a,b"},
      {pref(mode::nearest, {tag_set{}}), "a,b,c"},
  };
  for (const auto& r : rows) {
    CAPTURE(to_string(r.rp));
    CHECK(suitable(topology_type::replica_set_with_primary, rs, operation_kind::read, r.rp) == r.expected);
  }
  CHECK(suitable(topology_type::replica_set_with_primary, rs, operation_kind::write, pref(mode::secondary)) == "a");
  CHECK(suitable(topology_type::replica_set_no_primary, rs, operation_kind::write, pref(mode::primary)) == "");
}

TEST_CASE("read preference: read preference is ignored outside replica sets") {
  struct row {
    topology_type type;
    server_description only;
    const char* expected;
  };
  const row rows[] = {
      {topology_type::single, server("a", server_type::rs_secondary), "a"},
      {topology_type::single, server("a", server_type::possible_primary), ""},  // not available
      {topology_type::sharded, server("a", server_type::mongos), "a"},
      {topology_type::sharded, server("a", server_type::unknown), ""},
      {topology_type::load_balanced, server("a", server_type::load_balancer), "a"},
      {topology_type::unknown, server("a", server_type::rs_ghost), ""},
  };
  for (const auto& r : rows) {
    CAPTURE(to_string(r.type));
    const std::vector<server_description> servers{r.only};
    CHECK(suitable(r.type, servers, operation_kind::read, pref(mode::secondary, {sf})) == r.expected);
    CHECK(suitable(r.type, servers, operation_kind::write, pref(mode::primary)) == r.expected);
  }
}

TEST_CASE("read preference: maxStalenessSeconds filters before tag sets (server-selection.md Q&A)") {
  // heartbeat 25 s; b (tokyo) is 125 + 25 = 150 s stale, c (nyc) 150.001 s.
  const std::vector<server_description> rs{
      server("a", server_type::rs_primary, 5, {}, 125'002),
      server("b", server_type::rs_secondary, 5, {{"dc", "tokyo"}}, 2),
      server("c", server_type::rs_secondary, 5, nyc, 1),
  };
  selection_settings settings;
  settings.heartbeat_frequency_ms = 25'000;
  const auto rp = pref(mode::secondary, {nyc, {{"dc", "tokyo"}}}, 150.0);
  CHECK(suitable(topology_type::replica_set_with_primary, rs, operation_kind::read, rp, {}, settings) == "b");
  CHECK(suitable(topology_type::replica_set_with_primary, rs, operation_kind::read, pref(mode::nearest, {}, 89.0), {},
                 settings) == "error");
}

TEST_CASE("read preference: deprioritized servers are used only when nothing else is suitable") {
  const std::vector<server_description> rs{
      server("a", server_type::rs_primary),
      server("b", server_type::rs_secondary),
  };
  const auto type = topology_type::replica_set_with_primary;
  CHECK(suitable(type, rs, operation_kind::read, pref(mode::primary_preferred), {addr("a")}) == "b");
  CHECK(suitable(type, rs, operation_kind::read, pref(mode::secondary_preferred), {addr("b")}) == "a");
  CHECK(suitable(type, rs, operation_kind::read, pref(mode::primary), {addr("a")}) == "a");
  CHECK(suitable(type, rs, operation_kind::read, pref(mode::nearest), {addr("a"), addr("b")}) == "a,b");
}

TEST_CASE("read preference: the latency window is [fastest, fastest + localThresholdMS], both ends included") {
  const std::vector<server_description> servers{
      server("a", server_type::mongos, 10), server("b", server_type::mongos, 25),
      server("c", server_type::mongos, 25.5), server("d", server_type::mongos, 10)};
  struct row {
    std::int32_t threshold;
    std::size_t expected;
  };
  for (const auto& r : {row{15, 3}, row{0, 2}, row{16, 4}}) {
    server_list list;
    for (const auto& s : servers) list.push_back(&s);
    keep_latency_window(list, r.threshold);
    CAPTURE(r.threshold);
    CHECK(list.size() == r.expected);
  }
}

TEST_CASE("read preference: of two random picks, the one with fewer operations in progress wins") {
  const std::vector<std::uint64_t> counts{3, 6, 20};
  struct row {
    std::size_t first, second, expected;
  };
  // `second` is drawn from the servers other than `first`: 1 -> index 2 when first is 1.
  for (const auto& r : {row{0, 0, 0}, row{1, 0, 0}, row{1, 1, 1}, row{2, 1, 1}, row{2, 0, 0}}) {
    CAPTURE(r.first);
    CAPTURE(r.second);
    CHECK(choose_less_busy(counts, r.first, r.second) == r.expected);
  }
  const std::vector<std::uint64_t> tied{4, 4};
  CHECK(choose_less_busy(tied, 1, 0) == 1);  // a tie keeps the first pick
  const std::vector<std::uint64_t> one{9};
  std::mt19937 random(1);
  CHECK(choose_less_busy(one, random) == 0);
  int busiest = 0;
  for (int i = 0; i < 1000; ++i) busiest += choose_less_busy(counts, random) == 2;
  CHECK(busiest == 0);  // the busiest server never wins a pair
}

TEST_CASE("read preference: from a connection string, and select_servers over a topology description") {
  const auto cs = parse_uri(
      "mongodb://a,b/?replicaSet=rs&readPreference=secondary&readPreferenceTags=dc:ny"
      "&readPreferenceTags=&maxStalenessSeconds=120");
  const auto rp = read_preference::from(cs);
  CHECK(rp.mode == mode::secondary);
  REQUIRE(rp.tag_sets.size() == 2);
  CHECK(rp.tag_sets[1].empty());
  CHECK(rp.max_staleness_seconds == 120.0);

  auto t = topology("mongodb://a,b/?replicaSet=rs");
  reply(t, "a:27017", primary_hello("", R"(["a:27017","b:27017"])"));
  reply(t, "b:27017", secondary_hello("", R"(["a:27017","b:27017"])"));
  CHECK(select_servers(t, operation_kind::read, pref(mode::secondary)).candidates ==
        std::vector<host_address>{addr("b")});
  CHECK(select_servers(t, operation_kind::read, pref(mode::primary, {nyc})).error.find("mode primary") !=
        std::string::npos);
  CHECK(select_writable(t).candidates == std::vector<host_address>{addr("a")});
}

TEST_CASE("read preference: RTT samples must be non-negative; the first sample is the average") {
  const auto hello = bson::document::from_json(R"({"ok": 1})");
  CHECK(server_description::from_hello(addr("a"), hello, 0.0).round_trip_time_ms == 0.0);
  CHECK(server_description::from_hello(addr("a"), hello, 5.0, 0.0).round_trip_time_ms == doctest::Approx(1.0));
  const auto negative = server_description::from_hello(addr("a"), hello, -1.0, 3.0);
  CHECK(negative.type == server_type::unknown);
  CHECK(negative.error.find("invalid round-trip time sample") != std::string::npos);
  CHECK(server_description::from_hello(addr("a"), hello, NAN).type == server_type::unknown);
  CHECK(server_description::from_hello(addr("a"), hello, 1.0, std::nullopt, 42).last_update_time_ms == 42);
}
