// Which error replies carry topologyVersion (mongod's appendErrorLabelsAndTopologyVersion,
// service_entry_point_common.cpp): SDAM compares it to decide whether an error is stale.
#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;

namespace {
bool has_topology_version(const bson::document& reply) { return reply.get_view().contains("topologyVersion"); }

void fail_next_insert(harness& h, const std::string& data) {
  REQUIRE(ok(
      h.admin(R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["insert"], )" +
              data + "}}")));
}
}  // namespace

TEST_CASE("shutdown errors carry topologyVersion only in quiesce mode (T1)") {
  harness h;
  for (int code : {91, 11600}) {
    fail_next_insert(h, R"("errorCode": )" + std::to_string(code));
    auto r = h.run(R"({"insert": "c", "documents": [{}]})");
    CHECK(code_of(r) == code);
    CHECK_FALSE(has_topology_version(r));
  }
  const auto before = *h.admin(R"({"hello": 1})").get_view().find_path("topologyVersion.counter").as_int64();
  h.server.enter_quiesce_mode();
  fail_next_insert(h, R"("errorCode": 91)");
  auto r = h.run(R"({"insert": "c", "documents": [{}]})");
  CHECK(code_of(r) == 91);
  CHECK(r.get_view().find_path("topologyVersion.counter").as_int64() == before + 1);
}

TEST_CASE("in quiesce mode hello fails with ShutdownInProgress and topologyVersion; other commands still run") {
  harness h;
  h.server.enter_quiesce_mode();
  auto hello = h.admin(R"({"hello": 1})");
  CHECK(code_of(hello) == 91);
  CHECK(has_topology_version(hello));
  CHECK(ok(h.run(R"({"insert": "c", "documents": [{}]})")));
}

TEST_CASE("NotPrimary errors always carry topologyVersion") {
  harness h;
  fail_next_insert(h, R"("errorCode": 10107)");
  CHECK(has_topology_version(h.run(R"({"insert": "c", "documents": [{}]})")));
}

TEST_CASE("an ok reply whose writeConcernError has a NotPrimary code carries topologyVersion (T2)") {
  harness h;
  fail_next_insert(h, R"("writeConcernError": {"code": 10107, "errmsg": "not primary"})");
  auto r = h.run(R"({"insert": "c", "documents": [{}], "writeConcern": {"w": 1}})");
  CHECK(ok(r));
  CHECK(r.get_view().find_path("writeConcernError.code").as_int32() == 10107);
  CHECK(has_topology_version(r));
  fail_next_insert(h, R"("writeConcernError": {"code": 91, "errmsg": "shutting down"})");
  auto shutdown = h.run(R"({"insert": "c", "documents": [{}], "writeConcern": {"w": 1}})");
  CHECK(ok(shutdown));
  CHECK_FALSE(has_topology_version(shutdown));
  fail_next_insert(h, R"("writeConcernError": {"code": 64, "errmsg": "waiting for replication timed out"})");
  CHECK_FALSE(has_topology_version(h.run(R"({"insert": "c", "documents": [{}], "writeConcern": {"w": 1}})")));
}
