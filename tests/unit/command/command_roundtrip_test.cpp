#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "proto/command/command_builder.hpp"
#include "encoded_sequence.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {

command_fields random_fields(std::mt19937& rng, const bson::view& cluster_time, const bson::view& token) {
  auto coin = [&] { return (rng() & 1) != 0; };
  command_fields f;
  if (coin()) f.db = "db";
  if (coin()) {
    session_id id;
    for (auto& b : id) b = static_cast<std::uint8_t>(rng());
    f.lsid = id;
  }
  if (coin()) f.txn_number = static_cast<std::int64_t>(rng() % 4 == 0 ? rng() * 1000003ull : rng() % 100);
  f.start_transaction = coin();
  f.in_transaction = coin();
  if (coin()) f.read_concern.level = "majority";
  if (coin()) f.read_concern.after_cluster_time = bson::timestamp{static_cast<std::uint32_t>(rng()), 1};
  if (coin()) {
    write_concern_fields wc;
    switch (rng() % 3) {
      case 0: wc.w = static_cast<std::int32_t>(rng() % 5); break;
      case 1: wc.w = std::string_view("majority"); break;
      default: break;
    }
    if (coin()) wc.j = coin();
    if (coin()) wc.wtimeout_ms = static_cast<std::int64_t>(rng() % 100000);
    f.write_concern = wc;
  }
  if (coin()) f.max_time_ms = static_cast<std::int64_t>(rng());
  if (coin()) f.cluster_time = cluster_time;
  if (coin()) f.recovery_token = token;
  return f;
}

// Reads the fields back from a built body and checks each against what was set.
void check_fields_read_back(bson::view body, const command_fields& f) {
  CHECK(static_cast<bool>(body.find("$db")) == !f.db.empty());
  if (f.lsid) {
    auto id = body.find_path("lsid.id").as_binary();
    REQUIRE(id);
    CHECK(id->subtype == BSON_SUBTYPE_UUID);
    CHECK(std::equal(id->bytes.begin(), id->bytes.end(), f.lsid->begin(), f.lsid->end()));
  } else {
    CHECK_FALSE(body.find("lsid"));
  }
  if (f.txn_number) {
    CHECK(body.find("txnNumber").type() == BSON_TYPE_INT64);
    CHECK(body.find("txnNumber").as_int64() == f.txn_number);
  } else {
    CHECK_FALSE(body.find("txnNumber"));
  }
  CHECK(static_cast<bool>(body.find("startTransaction")) == f.start_transaction);
  CHECK(static_cast<bool>(body.find("autocommit")) == f.in_transaction);
  CHECK(static_cast<bool>(body.find("readConcern")) == !f.read_concern.empty());
  if (f.read_concern.after_cluster_time)
    CHECK(body.find_path("readConcern.afterClusterTime").as_timestamp() == f.read_concern.after_cluster_time);
  CHECK(static_cast<bool>(body.find("writeConcern")) == f.write_concern.has_value());
  if (f.write_concern) {
    bson::element w = body.find_path("writeConcern.w");
    if (auto n = std::get_if<std::int32_t>(&f.write_concern->w)) CHECK(w.as_int32() == *n);
    if (auto s = std::get_if<std::string_view>(&f.write_concern->w)) CHECK(w.as_string() == *s);
    if (f.write_concern->wtimeout_ms)
      CHECK(body.find_path("writeConcern.wtimeout").as_int64() == f.write_concern->wtimeout_ms);
  }
  if (f.max_time_ms) CHECK(body.find("maxTimeMS").as_int64() == f.max_time_ms);
  CHECK(static_cast<bool>(body.find("$clusterTime")) == f.cluster_time.has_value());
  if (f.cluster_time) CHECK(*body.find("$clusterTime").as_document() == *f.cluster_time);
  if (f.recovery_token) CHECK(*body.find("recoveryToken").as_document() == *f.recovery_token);
}

}  // namespace

TEST_CASE("command: randomized session fields read back with the values and types that were set") {
  auto cluster_time = bson::document::from_json(R"({"clusterTime": {"$timestamp": {"t": 1, "i": 2}}})");
  auto token = bson::document::from_json(R"({"shard": "a"})");
  std::mt19937 rng(20240611);
  bson::document body;  // reused across iterations, as the executor does
  for (int i = 0; i < 500; ++i) {
    command_fields f = random_fields(rng, cluster_time, token);
    build_find(body, "c", bson::view{});
    append_command_fields(body, f);
    REQUIRE(bson::view::validate(body.get_view().bytes()));
    check_fields_read_back(body, f);
  }
}

TEST_CASE("command: randomized inserts split into a body without documents plus the same documents") {
  std::mt19937 rng(7);
  bson::document body, rest;
  for (int i = 0; i < 200; ++i) {
    std::vector<bson::document> docs(rng() % 20);
    std::vector<bson::view> views;
    for (std::size_t k = 0; k < docs.size(); ++k) {
      docs[k].append("_id", static_cast<std::int32_t>(k));
      docs[k].append("pad", std::string(rng() % 300, 'x'));
      views.push_back(docs[k]);
    }
    build_insert(body, "c", views, (rng() & 1) != 0);
    command_fields f;
    f.db = "db";
    f.txn_number = i;
    append_command_fields(body, f);

    auto seq = encode_with_sequence(body, rest);
    REQUIRE(seq);
    CHECK_FALSE(rest.find("documents"));
    CHECK(rest.get_view().size() + seq->array.size() + 1 + sizeof "documents" == body.size());
    std::size_t k = 0;
    for (const bson::element& e : seq->array) {
      REQUIRE(k < views.size());
      CHECK(*e.as_document() == views[k]);
      ++k;
    }
    CHECK(k == views.size());
  }
}

namespace {

// Counts libbson's heap calls; a builder that reuses its document's buffer makes none.
std::size_t g_bson_allocations = 0;
void* counting_malloc(std::size_t n) { return ++g_bson_allocations, std::malloc(n); }
void* counting_calloc(std::size_t c, std::size_t n) { return ++g_bson_allocations, std::calloc(c, n); }
void* counting_realloc(void* p, std::size_t n) { return ++g_bson_allocations, std::realloc(p, n); }
void* counting_aligned_alloc(std::size_t a, std::size_t n) { return ++g_bson_allocations, std::aligned_alloc(a, n); }

struct bson_allocation_counter {
  bson_allocation_counter() {
    bson_mem_vtable_t vt{};
    vt.malloc = counting_malloc;
    vt.calloc = counting_calloc;
    vt.realloc = counting_realloc;
    vt.free = std::free;
    vt.aligned_alloc = counting_aligned_alloc;
    g_bson_allocations = 0;
    bson_mem_set_vtable(&vt);
  }
  ~bson_allocation_counter() { bson_mem_restore_vtable(); }
  std::size_t count() const { return g_bson_allocations; }
};

void build_transaction_insert(bson::document& body, bson::document& rest, std::span<const bson::view> docs,
                              const command_fields& f) {
  build_insert(body, "coll", docs, true);
  append_command_fields(body, f);
  encode_with_sequence(body, rest);
}

}  // namespace

TEST_CASE("command: a reused body and split buffer allocate nothing once warm") {
  auto d = bson::document::from_json(R"({"_id": 1, "name": "a fairly long string value to outgrow inline storage"})");
  bson::view docs[] = {d, d, d, d};
  auto cluster_time =
      bson::document::from_json(R"({"clusterTime": {"$timestamp": {"t": 1, "i": 2}}, "signature": {}})");
  command_fields f;
  f.db = "db";
  f.lsid = session_id{};
  f.txn_number = 1;
  f.start_transaction = true;
  f.in_transaction = true;
  f.read_concern.level = "snapshot";
  f.cluster_time = cluster_time.get_view();

  bson::document body, rest;
  build_transaction_insert(body, rest, docs, f);  // warm: buffers grow here
  REQUIRE(body.size() > 120);                     // beyond libbson's inline storage

  bson_allocation_counter counter;
  for (int i = 0; i < 10; ++i) {
    f.txn_number = i;
    build_transaction_insert(body, rest, docs, f);
  }
  CHECK(counter.count() == 0);

  // The counter does see allocations: cold buffers must grow past inline storage.
  bson::document cold_body, cold_rest;
  build_transaction_insert(cold_body, cold_rest, docs, f);
  CHECK(counter.count() > 0);
}
