// $readPreference on commands (server-selection.md "Passing read preference to mongos and load
// balancers", "Topology type: Single", "Topology types: ReplicaSetWithPrimary or
// ReplicaSetNoPrimary") and read preference documents.
#include "proto/sdam/read_preference_argument.hpp"
#include "sdam_test_helpers.hpp"

using namespace sdam_test;

namespace {

using mode = read_preference_mode;
using arg = read_preference_argument;

std::string sent(topology_type t, server_type s, operation_kind op, const read_preference& rp) {
  bson::document d;
  build_read_preference_argument(read_preference_to_send(t, s, op, rp), rp, d);
  return d.get_view().empty() ? "-" : d.get_view().to_relaxed_json();
}

}  // namespace

TEST_CASE("$readPreference per topology type, server type and mode (server-selection.md)") {
  using tt = topology_type;
  using st = server_type;
  const auto read = operation_kind::read;
  struct row {
    tt topology;
    st server;
    mode m;
    arg expected;
  };
  const row rows[] = {
      // Single: a standalone never gets one; a replica-set member always, primaryPreferred for primary.
      {tt::single, st::standalone, mode::primary, arg::none},
      {tt::single, st::standalone, mode::secondary, arg::none},
      {tt::single, st::rs_primary, mode::primary, arg::primary_preferred},
      {tt::single, st::rs_secondary, mode::primary, arg::primary_preferred},
      {tt::single, st::rs_secondary, mode::secondary_preferred, arg::as_given},
      {tt::single, st::rs_arbiter, mode::nearest, arg::as_given},
      {tt::single, st::rs_other, mode::primary, arg::primary_preferred},
      // Single to a mongos: the mongos rule.
      {tt::single, st::mongos, mode::primary, arg::none},
      {tt::single, st::mongos, mode::secondary_preferred, arg::as_given},
      // Replica sets: nothing for primary, the read preference otherwise (whatever the server).
      {tt::replica_set_with_primary, st::rs_primary, mode::primary, arg::none},
      {tt::replica_set_with_primary, st::rs_primary, mode::primary_preferred, arg::as_given},
      {tt::replica_set_with_primary, st::rs_primary, mode::secondary_preferred, arg::as_given},
      {tt::replica_set_with_primary, st::rs_secondary, mode::secondary, arg::as_given},
      {tt::replica_set_no_primary, st::rs_secondary, mode::nearest, arg::as_given},
      // Mongos and load balancers over OP_MSG: every mode but primary.
      {tt::sharded, st::mongos, mode::primary, arg::none},
      {tt::sharded, st::mongos, mode::secondary_preferred, arg::as_given},
      {tt::sharded, st::mongos, mode::nearest, arg::as_given},
      {tt::load_balanced, st::load_balancer, mode::primary, arg::none},
      {tt::load_balanced, st::load_balancer, mode::secondary_preferred, arg::as_given},
      {tt::unknown, st::unknown, mode::secondary, arg::none},
  };
  for (const auto& r : rows) {
    CAPTURE(to_string(r.topology));
    CAPTURE(to_string(r.server));
    CAPTURE(to_string(r.m));
    CHECK(read_preference_to_send(r.topology, r.server, read, pref(r.m)) == r.expected);
    // Writes never carry a read preference.
    CHECK(read_preference_to_send(r.topology, r.server, operation_kind::write, pref(r.m)) == arg::none);
  }
}

TEST_CASE("$readPreference documents follow \"Document structure\" (server-selection.md)") {
  CHECK(sent(topology_type::single, server_type::rs_secondary, operation_kind::read, pref(mode::primary)) ==
        R"({ "mode" : "primaryPreferred" })");
  read_preference rp = pref(mode::secondary);
  rp.tag_sets = {{{"dc", "ny"}, {"rack", "1"}}, {}};
  rp.max_staleness_seconds = 120;
  CHECK(sent(topology_type::replica_set_with_primary, server_type::rs_secondary, operation_kind::read, rp) ==
        R"({ "mode" : "secondary", "tags" : [ { "dc" : "ny", "rack" : "1" }, {  } ], "maxStalenessSeconds" : 120 })");
  rp.tag_sets.clear();
  rp.max_staleness_seconds = -1;  // no maximum: not sent
  CHECK(sent(topology_type::sharded, server_type::mongos, operation_kind::read, rp) == R"({ "mode" : "secondary" })");
  CHECK(sent(topology_type::replica_set_with_primary, server_type::rs_primary, operation_kind::write, rp) == "-");
}

TEST_CASE("read preference documents: parsed, and refused with the reason") {
  read_preference rp;
  CHECK(parse_read_preference_document(
            bson::document::from_json(
                R"({"mode": "nearest", "tags": [{"dc": "ny"}, {}], "maxStalenessSeconds": 90, "hedge": {}})"),
            rp)
            .empty());
  CHECK(rp.mode == mode::nearest);
  REQUIRE(rp.tag_sets.size() == 2);
  CHECK(rp.tag_sets[0] == tag_set{{"dc", "ny"}});
  CHECK(rp.tag_sets[1].empty());
  CHECK(rp.max_staleness_seconds == 90);
  // The document round-trips (hedge is not modelled).
  bson::document back;
  build_read_preference_document(rp, back);
  CHECK(back.get_view().to_relaxed_json() ==
        R"({ "mode" : "nearest", "tags" : [ { "dc" : "ny" }, {  } ], "maxStalenessSeconds" : 90 })");

  struct bad {
    const char* json;
    const char* reason;
  };
  const bad rows[] = {
      {R"({})", "a read preference needs a 'mode'"},
      {R"({"mode": "Secondary"})", "read preference 'mode' must be one of"},
      {R"({"mode": 1})", "read preference 'mode' must be one of"},
      {R"({"mode": "secondary", "tags": {"dc": "ny"}})", "'tags' must be an array of documents"},
      {R"({"mode": "secondary", "tags": [{"dc": 1}]})", "tag 'dc' must be a string"},
      {R"({"mode": "secondary", "maxStalenessSeconds": "90"})", "'maxStalenessSeconds' must be a number"},
      {R"({"mode": "primary", "tags": [{"dc": "ny"}]})", "tag sets cannot be combined with mode primary"},
      {R"({"mode": "primary", "maxStalenessSeconds": 120})", "cannot be combined with mode primary"},
      {R"({"mode": "secondary", "tag_sets": []})", "unknown read preference field 'tag_sets'"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.json);
    const auto why = parse_read_preference_document(bson::document::from_json(r.json), rp);
    CHECK(why.find(r.reason) != std::string::npos);
  }
}
