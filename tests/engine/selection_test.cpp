// net::topology::async_select with read preferences against a three-member embedded replica
// set (server-selection.md).
#include <set>

#include "engine_support.hpp"
#include "proto/sdam/server_description.hpp"

namespace mongowire::enginetest {
namespace {

using sdam_type = detail::sdam::server_type;
using detail::sdam::operation_kind;
using detail::sdam::read_preference;

struct replica_set_fixture {
  asio::io_context io;
  testd::embedded_replica_set set{3};
  std::shared_ptr<net::topology> topology;

  replica_set_fixture() {
    auto opts = topology_options_for(set.member(0), false);
    // Every member in the latency window, whatever the load on the machine: these tests are
    // about suitability and operation counts.
    opts.local_threshold_ms = 10'000;
    topology = std::make_shared<net::topology>(io.get_executor(), std::move(opts));
    topology->start();
    // Discovery finds the two secondaries from the primary's hosts list.
    REQUIRE(run_until(
        io,
        [&] {
          std::size_t secondaries = 0;
          for (const auto& s : topology->description().servers()) secondaries += s.type == sdam_type::rs_secondary;
          return secondaries == 2;
        },
        5s));
  }
  ~replica_set_fixture() {
    topology->close();
    run_for(io, 30ms);
  }

  std::pair<error_code, net::selected_server> select(operation_kind kind, const read_preference& rp,
                                                     std::vector<host_address> deprioritized = {}) {
    net::selected_server out;
    diagnostics diag;
    auto ec = run(io, topology->async_select(kind, rp, deprioritized, out, diag), 5s);
    return {ec, out};
  }
  host_address member(std::size_t i) { return address_of(set.member(i)); }
};

read_preference mode(read_preference_mode m) {
  read_preference rp;
  rp.mode = m;
  return rp;
}

TEST_CASE("server selection: a read with mode secondary goes to a secondary, primaryPreferred to the primary") {
  replica_set_fixture f;
  for (int i = 0; i < 10; ++i) {
    auto [ec, s] = f.select(operation_kind::read, mode(read_preference_mode::secondary));
    REQUIRE(!ec);
    CHECK(s.description->type == sdam_type::rs_secondary);
    CHECK(s.description->address != f.member(0));
    CHECK(s.server_pool->address() == s.description->address.to_string());
  }
  auto [ec, s] = f.select(operation_kind::read, mode(read_preference_mode::primary_preferred));
  REQUIRE(!ec);
  CHECK(s.description->address == f.member(0));
  // A write ignores the read preference.
  auto [wec, w] = f.select(operation_kind::write, mode(read_preference_mode::secondary));
  REQUIRE(!wec);
  CHECK(w.description->type == sdam_type::rs_primary);
}

TEST_CASE("server selection: both secondaries are used, and a deprioritized one only when nothing else is suitable") {
  replica_set_fixture f;
  std::set<host_address> seen;
  for (int i = 0; i < 40; ++i)
    seen.insert(f.select(operation_kind::read, mode(read_preference_mode::secondary)).second.description->address);
  CHECK(seen == std::set<host_address>{f.member(1), f.member(2)});
  for (int i = 0; i < 10; ++i) {
    auto [ec, s] = f.select(operation_kind::read, mode(read_preference_mode::secondary), {f.member(1)});
    REQUIRE(!ec);
    CHECK(s.description->address == f.member(2));
  }
  auto [ec, s] = f.select(operation_kind::read, mode(read_preference_mode::secondary), {f.member(1), f.member(2)});
  REQUIRE(!ec);
  CHECK(s.description->type == sdam_type::rs_secondary);
}

TEST_CASE("server selection: of two random servers in the latency window, the one with fewer operations wins") {
  replica_set_fixture f;
  // Three connections in use on member 1 make it the busiest: it loses every pair it is in.
  std::vector<std::unique_ptr<net::connection>> held;
  auto [ec0, busy] = f.select(operation_kind::read, mode(read_preference_mode::secondary), {f.member(2)});
  REQUIRE(!ec0);
  REQUIRE(busy.description->address == f.member(1));
  for (int i = 0; i < 3; ++i) {
    held.push_back(run(f.io, [&]() -> asio::awaitable<std::unique_ptr<net::connection>> {
      std::unique_ptr<net::connection> c;
      diagnostics diag;
      REQUIRE(!co_await busy.server_pool->async_checkout(c, diag));
      co_return c;
    }()));
  }
  CHECK(f.topology->operation_count(f.member(1)) == 3);
  std::set<host_address> seen;
  for (int i = 0; i < 40; ++i)
    seen.insert(f.select(operation_kind::read, mode(read_preference_mode::nearest)).second.description->address);
  CHECK(seen.count(f.member(1)) == 0);
  CHECK(seen.size() == 2);
  for (auto& c : held) busy.server_pool->checkin(std::move(c));
}

TEST_CASE("server selection: an invalid read preference fails at once") {
  replica_set_fixture f;
  read_preference rp = mode(read_preference_mode::primary);
  rp.tag_sets.push_back({{"dc", "ny"}});
  const auto started = clock::now();
  auto [ec, s] = f.select(operation_kind::read, rp);
  CHECK(ec == client_errc::invalid_argument);
  CHECK(clock::now() - started < 1s);
  CHECK(!s.server_pool);
}

}  // namespace
}  // namespace mongowire::enginetest
