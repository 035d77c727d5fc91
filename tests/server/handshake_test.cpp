#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;

TEST_CASE("hello describes a replica-set primary with mongod's limits") {
  harness h;
  auto r = h.admin(R"({"hello": 1, "helloOk": true})");
  REQUIRE(ok(r));
  CHECK(r["isWritablePrimary"].as_bool() == true);
  CHECK(r["secondary"].as_bool() == false);
  CHECK(r["helloOk"].as_bool() == true);
  CHECK(r["setName"].as_string() == "rs0");
  CHECK(r["primary"].as_string() == "localhost:27017");
  CHECK(r["me"].as_string() == "localhost:27017");
  CHECK(r["hosts"].is_array());
  CHECK(r["minWireVersion"].as_int32() == 0);
  CHECK(r["maxWireVersion"].as_int32() == 21);
  CHECK(r["logicalSessionTimeoutMinutes"].as_int32() == 30);
  CHECK(r["maxBsonObjectSize"].as_int32() == 16777216);
  CHECK(r["maxMessageSizeBytes"].as_int32() == 48000000);
  CHECK(r["maxWriteBatchSize"].as_int32() == 100000);
  CHECK(r["connectionId"].as_int64() == h.conn.connection_id);
  CHECK(r.get_view().find_path("topologyVersion.processId").as_oid().has_value());
  CHECK(r.get_view().find_path("topologyVersion.counter").type() == BSON_TYPE_INT64);
  CHECK(r["localTime"].type() == BSON_TYPE_DATE_TIME);
  CHECK(r.get_view().find_path("$clusterTime.clusterTime").as_timestamp().has_value());
  CHECK(r["operationTime"].as_timestamp().has_value());
}

TEST_CASE("legacy isMaster answers ismaster instead of isWritablePrimary, and helloOk only when asked") {
  harness h;
  auto r = h.admin(R"({"isMaster": 1})");
  CHECK(r["ismaster"].as_bool() == true);
  CHECK_FALSE(r.get_view().contains("isWritablePrimary"));
  CHECK_FALSE(r.get_view().contains("helloOk"));
}

TEST_CASE("maxWireVersion and set name are configurable") {
  server_options o;
  o.max_wire_version = 17;
  o.set_name = "other";
  o.hosts = {"a:1", "b:2"};
  harness h(o);
  auto r = h.admin(R"({"hello": 1})");
  CHECK(r["maxWireVersion"].as_int32() == 17);
  CHECK(r["setName"].as_string() == "other");
  CHECK(r["me"].as_string() == "a:1");
}

TEST_CASE("hello client metadata sets the appName once; a second metadata document is rejected") {
  harness h;
  auto r = h.admin(
      R"({"hello": 1, "client": {"application": {"name": "myApp"}, "driver": {"name": "mw", "version": "0"}}})");
  REQUIRE(ok(r));
  CHECK(h.conn.app_name == "myApp");
  auto again = h.admin(R"({"hello": 1, "client": {"application": {"name": "x"}}})");
  CHECK(code_of(again) == 186);
  CHECK(again["codeName"].as_string() == "ClientMetadataCannotBeMutated");
}

TEST_CASE("unknown commands fail with CommandNotFound and mongod's message") {
  harness h;
  auto r = h.run(R"({"foo": 1})");
  CHECK(r["ok"].as_double() == 0.0);
  CHECK(code_of(r) == 59);
  CHECK(r["codeName"].as_string() == "CommandNotFound");
  CHECK(errmsg(r) == "no such command: 'foo'");
  CHECK(r.get_view().contains("$clusterTime"));
  CHECK(r.get_view().contains("operationTime"));
}

TEST_CASE("OP_MSG commands without $db are rejected") {
  harness h;
  auto r = h.server.handle(bson::document::from_json(R"({"ping": 1})"), {}, h.conn);
  CHECK(code_of(r) == 40571);
}

TEST_CASE("ping and buildInfo reply ok; buildInfo reports 7.0.0") {
  harness h;
  CHECK(ok(h.admin(R"({"ping": 1})")));
  auto b = h.admin(R"({"buildInfo": 1})");
  CHECK(b["version"].as_string() == "7.0.0");
  CHECK(b.get_view().find_path("versionArray.0").as_int32() == 7);
  auto s = h.admin(R"({"serverStatus": 1})");
  CHECK(s["process"].as_string() == "mongod");
}

TEST_CASE("the cluster time advances with every write") {
  harness h;
  auto before = *h.run(R"({"ping": 1})")["operationTime"].as_timestamp();
  auto w1 = h.run(R"({"insert": "c", "documents": [{"_id": 1}]})");
  auto t1 = *w1["operationTime"].as_timestamp();
  auto t2 = *h.run(R"({"insert": "c", "documents": [{"_id": 2}]})")["operationTime"].as_timestamp();
  CHECK(before < t1);
  CHECK(t1 < t2);
  CHECK(*h.run(R"({"ping": 1})").get_view().find_path("$clusterTime.clusterTime").as_timestamp() == t2);
}

TEST_CASE("a secondary refuses writes with NotWritablePrimary and reads without secondaryOk") {
  server_options o;
  o.role = member_role::secondary;
  o.primary = "other:27017";
  harness h(o);
  auto hello = h.admin(R"({"hello": 1})");
  CHECK(hello["isWritablePrimary"].as_bool() == false);
  CHECK(hello["secondary"].as_bool() == true);
  CHECK(hello["primary"].as_string() == "other:27017");
  auto w = h.run(R"({"insert": "c", "documents": [{"_id": 1}]})");
  CHECK(code_of(w) == 10107);
  CHECK(errmsg(w) == "not primary");
  CHECK(w.get_view().contains("topologyVersion"));
  CHECK(code_of(h.run(R"({"find": "c"})")) == 13435);
  CHECK(ok(h.run(R"({"find": "c", "$readPreference": {"mode": "secondaryPreferred"}})")));
}

TEST_CASE("switching roles at runtime changes hello and bumps topologyVersion.counter") {
  harness h;
  auto c0 = *h.admin(R"({"hello": 1})").get_view().find_path("topologyVersion.counter").as_int64();
  h.server.set_role(member_role::secondary);
  auto r = h.admin(R"({"hello": 1})");
  CHECK(r["isWritablePrimary"].as_bool() == false);
  CHECK(*r.get_view().find_path("topologyVersion.counter").as_int64() == c0 + 1);
  CHECK(code_of(h.run(R"({"insert": "c", "documents": [{}]})")) == 10107);
  h.server.set_role(member_role::primary);
  CHECK(ok(h.run(R"({"insert": "c", "documents": [{}]})")));
}

TEST_CASE("the command log callback sees every command and its reply") {
  std::vector<std::string> names;
  server_options o;
  o.command_log = [&](const command_log_entry& e) { names.emplace_back(e.command_name); };
  harness h(o);
  h.admin(R"({"ping": 1})");
  h.run(R"({"find": "c"})");
  CHECK(names == std::vector<std::string>{"ping", "find"});
}

TEST_CASE("kind-1 document sequences are merged into the command as the named array") {
  harness h;
  auto body = bson::document::from_json(R"({"insert": "c", "$db": "test"})");
  auto d1 = bson::document::from_json(R"({"_id": 1})");
  auto d2 = bson::document::from_json(R"({"_id": 2})");
  sequence seq{"documents", {d1.get_view(), d2.get_view()}};
  auto r = h.server.handle(body, std::span<const sequence>(&seq, 1), h.conn);
  CHECK(r["n"].as_int32() == 2);
}

TEST_CASE("hello negotiates compression: the client's compressors the server has, in the client's order") {
  using detail::wire::compressor_id;
  server_options only_zlib_zstd;
  only_zlib_zstd.compressors = {"zlib", "zstd"};
  harness h(only_zlib_zstd);
  auto r = h.admin(R"({"hello": 1, "compression": ["snappy", "zstd", "snoopy", "zlib"]})");
  REQUIRE(ok(r));
  CHECK(r["compression"].as_array()->count() == 2);
  CHECK(r.get_view().find_path("compression.0").as_string() == "zstd");
  CHECK(h.conn.compressors == std::vector{compressor_id::zstd, compressor_id::zlib});
  // A later hello without the field keeps the negotiation (mongod's serverNegotiate).
  r = h.admin(R"({"hello": 1})");
  CHECK(r["compression"].as_array()->count() == 2);
  // None in common: no compression field, nothing negotiated (OP_COMPRESSED.md).
  r = h.admin(R"({"hello": 1, "compression": ["snappy"]})");
  CHECK_FALSE(r.get_view().contains("compression"));
  CHECK(h.conn.compressors.empty());
  CHECK(h.admin(R"({"hello": 1, "compression": "zlib"})")["code"].as_int32() == 2);
  CHECK(h.admin(R"({"hello": 1, "compression": [1]})")["code"].as_int32() == 2);
}

TEST_CASE("serverStatus reports the bytes each compressor and decompressor handled (network.compression)") {
  harness h;
  h.server.record_compression(detail::wire::compressor_id::zstd, false, 40, 100);
  h.server.record_compression(detail::wire::compressor_id::zstd, true, 300, 90);
  auto r = h.admin(R"({"serverStatus": 1})");
  auto v = r.get_view();
  CHECK(v.find_path("network.compression.zstd.decompressor.bytesIn").as_int64() == 40);
  CHECK(v.find_path("network.compression.zstd.decompressor.bytesOut").as_int64() == 100);
  CHECK(v.find_path("network.compression.zstd.compressor.bytesIn").as_int64() == 300);
  CHECK(v.find_path("network.compression.zstd.compressor.bytesOut").as_int64() == 90);
  CHECK(v.find_path("network.compression.snappy.compressor.bytesOut").as_int64() == 0);
}

TEST_CASE("buildInfo and serverStatus report the release of the maxWireVersion played (7.0 by default)") {
  struct row {
    std::int32_t wire;
    const char* version;
  };
  for (auto r : {row{21, "7.0.0"}, row{17, "6.0.0"}, row{25, "8.0.0"}, row{13, "5.0.0"}, row{12, "4.4.0"}}) {
    server_options o;
    o.max_wire_version = r.wire;
    harness h(o);
    CAPTURE(r.wire);
    auto info = h.admin(R"({"buildInfo": 1})");
    CHECK(info["version"].as_string() == std::optional<std::string_view>(r.version));
    CHECK(info.get_view().find_path("versionArray.0").as_int32() == r.version[0] - '0');
    CHECK(h.admin(R"({"serverStatus": 1})")["version"].as_string() == std::optional<std::string_view>(r.version));
  }
}
