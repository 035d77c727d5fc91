// driver-sessions.md, "Server Session Pool", "Generating a session ID locally", "endSessions".
#include <doctest/doctest.h>

#include <memory>
#include <set>

#include "proto/txn/server_session_pool.hpp"

using namespace mongowire;
using namespace mongowire::detail;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

const minutes timeout{30};
const session_time t0{};

// Ids 1, 2, 3... in the first byte, so tests can tell sessions apart.
server_session_pool counting_pool() {
  auto next = std::make_shared<std::uint8_t>(0);
  return server_session_pool([next] {
    session_id id{};
    id[0] = ++*next;
    return id;
  });
}

}  // namespace

TEST_CASE("driver-sessions.md: a new session gets a fresh id and lastUse = now when the pool is empty") {
  auto pool = counting_pool();
  server_session s = pool.acquire(t0 + seconds(5), timeout);
  CHECK(s.id[0] == 1);
  CHECK(s.last_use == t0 + seconds(5));
  CHECK(s.txn_number == 0);
  CHECK_FALSE(s.dirty);
}

TEST_CASE("driver-sessions.md: the pool is LIFO, the most recently returned session is reused first") {
  auto pool = counting_pool();
  server_session a = pool.acquire(t0, timeout);
  server_session b = pool.acquire(t0, timeout);
  pool.release(a, t0, timeout);
  pool.release(b, t0, timeout);
  CHECK(pool.acquire(t0, timeout).id[0] == b.id[0]);
  CHECK(pool.acquire(t0, timeout).id[0] == a.id[0]);
  CHECK(pool.acquire(t0, timeout).id[0] == 3);  // empty again: a new one
}

TEST_CASE("driver-sessions.md: the txnNumber is preserved when a server session is reused") {
  auto pool = counting_pool();
  server_session s = pool.acquire(t0, timeout);
  next_txn_number(s);
  next_txn_number(s);
  pool.release(s, t0, timeout);
  server_session again = pool.acquire(t0, timeout);
  CHECK(again.id == s.id);
  CHECK(again.txn_number == 2);
  CHECK(next_txn_number(again) == 3);
}

TEST_CASE("driver-sessions.md: a session with less than one minute left is discarded at checkout") {
  auto pool = counting_pool();
  server_session s = pool.acquire(t0, timeout);  // stale at t0 + 30 min
  pool.release(s, t0, timeout);
  // Exactly one minute left: still usable.
  CHECK(pool.acquire(t0 + minutes(29), timeout).id[0] == 1);
  pool.release(s, t0, timeout);
  // 59 s left: discarded, a new session is created.
  CHECK(pool.acquire(t0 + minutes(29) + seconds(1), timeout).id[0] == 2);
  CHECK(pool.size() == 0);
}

TEST_CASE(
    "driver-sessions.md: at checkin, expiring sessions are pruned from the back and an expiring returned session is "
    "discarded") {
  auto pool = counting_pool();
  server_session old1 = pool.acquire(t0, timeout);
  server_session old2 = pool.acquire(t0, timeout);
  server_session fresh = pool.acquire(t0 + minutes(10), timeout);
  pool.release(old1, t0, timeout);  // back
  pool.release(old2, t0, timeout);
  pool.release(fresh, t0 + minutes(10), timeout);  // front
  REQUIRE(pool.size() == 3);

  // At 29:30 both old ones have 30 s left; the fresh one 10:30.
  server_session returning = pool.acquire(t0 + minutes(20), timeout);  // takes `fresh` from the front
  CHECK(returning.id == fresh.id);
  returning.last_use = t0 + minutes(29) + seconds(30);
  pool.release(returning, t0 + minutes(29) + seconds(30), timeout);
  CHECK(pool.size() == 1);
  CHECK(pool.sessions().front().id == fresh.id);

  // A returned session whose own lastUse is too old is discarded.
  server_session stale = pool.acquire(t0 + minutes(30), timeout);
  stale.last_use = t0;
  pool.release(stale, t0 + minutes(29) + seconds(30), timeout);
  CHECK(pool.size() == 0);
}

TEST_CASE(
    "driver-sessions.md: pruning at checkin stops at the first session from the back that is not about to expire") {
  auto pool = counting_pool();
  server_session older = pool.acquire(t0, timeout);                // stale at 30:00
  server_session newer = pool.acquire(t0 + minutes(20), timeout);  // stale at 50:00
  pool.release(newer, t0 + minutes(20), timeout);
  pool.release(older, t0 + minutes(20), timeout);  // front: older, back: newer
  REQUIRE(pool.sessions().front().id == older.id);
  REQUIRE(pool.sessions().back().id == newer.id);

  // At 29:30 the front session has 30 s left, but the back one does not expire: the scan
  // from the back stops at once and the expiring front session stays (until checkout).
  server_session returning{};
  returning.id[0] = 99;
  returning.last_use = t0 + minutes(29) + seconds(30);
  pool.release(returning, t0 + minutes(29) + seconds(30), timeout);
  CHECK(pool.size() == 3);
  CHECK(pool.sessions().front().id == returning.id);
  CHECK(pool.sessions()[1].id == older.id);
}

TEST_CASE("driver-sessions.md: a dirty session (network error) is discarded when returned") {
  auto pool = counting_pool();
  server_session s = pool.acquire(t0, timeout);
  mark_dirty(s);
  pool.release(s, t0, timeout);
  CHECK(pool.size() == 0);
  CHECK(pool.acquire(t0, timeout).id[0] == 2);
}

TEST_CASE(
    "load-balancers.md: without logicalSessionTimeoutMinutes (load balancer mode) sessions never expire in the pool") {
  auto pool = counting_pool();
  server_session s = pool.acquire(t0, std::nullopt);
  pool.release(s, t0 + minutes(600), std::nullopt);
  CHECK(pool.acquire(t0 + minutes(900), std::nullopt).id == s.id);
}

TEST_CASE("driver-sessions.md: clearing the pool (fork) refuses sessions checked out before the clear") {
  auto pool = counting_pool();
  server_session before = pool.acquire(t0, timeout);
  server_session pooled = pool.acquire(t0, timeout);
  pool.release(pooled, t0, timeout);
  pool.clear();
  CHECK(pool.size() == 0);
  pool.release(before, t0, timeout);
  CHECK(pool.size() == 0);
  server_session after = pool.acquire(t0, timeout);
  pool.release(after, t0, timeout);
  CHECK(pool.size() == 1);
}

TEST_CASE("driver-sessions.md endSessions: pooled ids go out in batches of at most 10,000 and the pool empties") {
  auto pool = counting_pool();
  std::vector<server_session> out;
  for (int i = 0; i < 25; ++i) out.push_back(pool.acquire(t0, timeout));
  for (auto& s : out) pool.release(s, t0, timeout);
  auto batches = pool.take_end_sessions_batches(10);
  REQUIRE(batches.size() == 3);
  CHECK(batches[0].size() == 10);
  CHECK(batches[1].size() == 10);
  CHECK(batches[2].size() == 5);
  CHECK(pool.size() == 0);
  std::set<std::uint8_t> seen;
  for (auto& b : batches)
    for (auto& id : b) seen.insert(id[0]);
  CHECK(seen.size() == 25);
  CHECK(max_end_sessions_per_command == 10000);

  auto big = server_session_pool();
  for (int i = 0; i < 10001; ++i) big.release(big.acquire(t0, timeout), t0, timeout);  // LIFO: reuses one session
  CHECK(big.size() == 1);
  CHECK(big.take_end_sessions_batches().size() == 1);
  CHECK(server_session_pool().take_end_sessions_batches().empty());
}

TEST_CASE("driver-sessions.md endSessions: the command lists {id: UUID} documents") {
  session_id a{}, b{};
  a[0] = 1;
  b[15] = 2;
  const session_id ids[] = {a, b};
  bson::document cmd;
  build_end_sessions(cmd, ids);
  CHECK(cmd.get_view().first_key() == "endSessions");
  auto arr = cmd.find("endSessions").as_array();
  REQUIRE(arr);
  CHECK(arr->count() == 2);
  auto first = arr->find("0").as_document();
  REQUIRE(first);
  auto bin = first->find("id").as_binary();
  REQUIRE(bin);
  CHECK(bin->subtype == BSON_SUBTYPE_UUID);
  REQUIRE(bin->bytes.size() == 16);
  CHECK(bin->bytes[0] == 1);
}

TEST_CASE("driver-sessions.md: locally generated session ids are RFC 4122 version 4 UUIDs") {
  std::array<std::uint8_t, 16> ones{};
  ones.fill(0xFF);
  session_id u = make_uuid_v4(ones);
  CHECK(u[6] == 0x4F);
  CHECK(u[8] == 0xBF);
  session_id z = make_uuid_v4({});
  CHECK(z[6] == 0x40);
  CHECK(z[8] == 0x80);

  std::set<session_id> seen;
  for (int i = 0; i < 100; ++i) {
    session_id r = random_lsid();
    CHECK((r[6] & 0xF0) == 0x40);
    CHECK((r[8] & 0xC0) == 0x80);
    seen.insert(r);
  }
  CHECK(seen.size() == 100);
}

TEST_CASE("issue 16 gauges: the pool counts sessions in use, created and discarded as dirty, expired or stale") {
  auto pool = counting_pool();
  server_session a = pool.acquire(t0, timeout);
  server_session b = pool.acquire(t0, timeout);
  server_session c = pool.acquire(t0, timeout);
  CHECK(pool.counts().in_use == 3);
  CHECK(pool.counts().created == 3);
  mark_dirty(a);
  pool.release(a, t0, timeout);
  pool.release(b, t0, timeout);
  CHECK(pool.counts().in_use == 1);
  CHECK(pool.counts().discarded_dirty == 1);
  CHECK(pool.size() == 1);
  // b, pooled, has less than a minute left at this checkout: discarded, a new one is made.
  server_session d = pool.acquire(t0 + minutes(29) + seconds(1), timeout);
  CHECK(pool.counts().discarded_expired == 1);
  CHECK(pool.counts().created == 4);
  pool.release(d, t0 + minutes(29) + seconds(1), timeout);
  pool.clear();  // forgets d, pooled; c, checked out, is refused when it comes back
  pool.release(c, t0, timeout);
  CHECK(pool.counts().discarded_stale == 2);
  CHECK(pool.counts().in_use == 0);
  CHECK(pool.size() == 0);
}
