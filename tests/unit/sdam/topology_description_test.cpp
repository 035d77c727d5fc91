// TopologyDescription updates (server-discovery-and-monitoring.md, "Updating the
// TopologyDescription"). Scenarios adapted from the spec's tests/rs, tests/sharded and
// tests/single phases, with expectations derived from the current pseudocode.
#include "sdam_test_helpers.hpp"

using namespace sdam_test;

TEST_CASE(
    "sdam: initial topology type follows directConnection, replicaSet and loadBalanced (SDAM Initial TopologyType)") {
  CHECK(topology("mongodb://a").type() == topology_type::unknown);
  CHECK(topology("mongodb://a,b").type() == topology_type::unknown);
  CHECK(topology("mongodb://a/?directConnection=false").type() == topology_type::unknown);
  CHECK(topology("mongodb://a/?directConnection=true").type() == topology_type::single);
  CHECK(topology("mongodb://a/?directConnection=true&replicaSet=rs").type() == topology_type::single);
  CHECK(topology("mongodb://a,b/?replicaSet=rs").type() == topology_type::replica_set_no_primary);
  CHECK(topology("mongodb://a/?replicaSet=rs").set_name() == "rs");
  const auto lb = topology("mongodb://a/?loadBalanced=true");
  CHECK(lb.type() == topology_type::load_balanced);
  CHECK(type_of(lb, "a:27017") == server_type::load_balancer);
  // Seeds are lower-cased and de-duplicated.
  CHECK(topology("mongodb://A,a:27017,b").servers().size() == 2);
}

TEST_CASE("sdam: a primary reveals the replica set and its members (rs/discover_primary)") {
  auto t = topology("mongodb://a,b");
  const auto ch = reply(t, "a:27017", primary_hello());
  CHECK(t.type() == topology_type::replica_set_with_primary);
  CHECK(t.set_name() == "rs");
  CHECK(type_of(t, "a:27017") == server_type::rs_primary);
  CHECK(type_of(t, "b:27017") == server_type::unknown);
  CHECK(type_of(t, "c:27017") == server_type::unknown);
  CHECK(ch.added == std::vector<host_address>{addr("c:27017")});
  CHECK(ch.removed.empty());
  CHECK(ch.pool_ready);
  CHECK(t.primary()->address == addr("a"));
}

TEST_CASE("sdam: a secondary points at a PossiblePrimary and the set has no primary (rs/discover_secondary)") {
  auto t = topology("mongodb://b");
  reply(t, "b:27017", secondary_hello(R"(, "primary": "a:27017", "me": "b:27017")"));
  CHECK(t.type() == topology_type::replica_set_no_primary);
  CHECK(t.set_name() == "rs");
  CHECK(type_of(t, "a:27017") == server_type::possible_primary);
  CHECK(type_of(t, "b:27017") == server_type::rs_secondary);
  CHECK(type_of(t, "c:27017") == server_type::unknown);
}

TEST_CASE("sdam: passives and arbiters are members too (rs/discover_passives, rs/discover_arbiters)") {
  auto t = topology("mongodb://a/?replicaSet=rs");
  const auto ch =
      reply(t, "a:27017", primary_hello(R"(, "passives": ["p:27017"], "arbiters": ["x:27017"])", R"(["a:27017"])"));
  CHECK(has(t, "p:27017"));
  CHECK(has(t, "x:27017"));
  CHECK(ch.added.size() == 2);
  reply(t, "x:27017",
        R"({"ok": 1, "arbiterOnly": true, "setName": "rs", "hosts": ["a:27017"], "arbiters": ["x:27017"]})");
  CHECK(type_of(t, "x:27017") == server_type::rs_arbiter);
  CHECK(t.type() == topology_type::replica_set_with_primary);
}

TEST_CASE("sdam: the primary's member list replaces the seeds (rs/hosts_differ_from_seeds, rs/member_reconfig)") {
  auto t = topology("mongodb://a/?replicaSet=rs");
  auto ch = reply(t, "a:27017", primary_hello("", R"(["b:27017"])"));
  CHECK_FALSE(has(t, "a:27017"));
  CHECK(has(t, "b:27017"));
  CHECK(ch.removed == std::vector<host_address>{addr("a")});
  CHECK(t.type() == topology_type::replica_set_no_primary);  // the primary itself was removed

  t = topology("mongodb://a,b/?replicaSet=rs");
  reply(t, "a:27017", primary_hello("", R"(["a:27017","b:27017"])"));
  ch = reply(t, "a:27017", primary_hello("", R"(["a:27017"])"));
  CHECK_FALSE(has(t, "b:27017"));
  CHECK(ch.removed == std::vector<host_address>{addr("b")});
  CHECK(t.type() == topology_type::replica_set_with_primary);
}

TEST_CASE("sdam: host names from replies are compared lower-cased (rs/normalize_case)") {
  auto t = topology("mongodb://a/?replicaSet=rs");
  reply(t, "a:27017", primary_hello("", R"(["A:27017","B:27017"])"));
  CHECK(type_of(t, "a:27017") == server_type::rs_primary);
  CHECK(has(t, "b:27017"));
  CHECK(t.servers().size() == 2);
}

TEST_CASE("sdam: a member of another replica set is removed (rs/wrong_set_name, rs/primary_wrong_set_name)") {
  auto t = topology("mongodb://a,b/?replicaSet=rs");
  auto ch = reply(t, "b:27017", R"({"ok": 1, "secondary": true, "setName": "wrong", "hosts": ["b:27017","c:27017"]})");
  CHECK_FALSE(has(t, "b:27017"));
  CHECK_FALSE(has(t, "c:27017"));  // its hosts are not trusted either
  CHECK(ch.removed == std::vector<host_address>{addr("b")});
  ch = reply(t, "a:27017", R"({"ok": 1, "isWritablePrimary": true, "setName": "wrong", "hosts": ["a:27017"]})");
  CHECK_FALSE(has(t, "a:27017"));
  CHECK(t.servers().empty());
  CHECK(t.type() == topology_type::replica_set_no_primary);
}

TEST_CASE(
    "sdam: a secondary of another set is removed while a primary is known (rs/secondary_wrong_set_name_with_primary)") {
  auto t = topology("mongodb://a,b/?replicaSet=rs");
  reply(t, "a:27017", primary_hello("", R"(["a:27017","b:27017"])"));
  reply(t, "b:27017", R"({"ok": 1, "secondary": true, "setName": "wrong", "hosts": ["a:27017","b:27017"]})");
  CHECK_FALSE(has(t, "b:27017"));
  CHECK(t.type() == topology_type::replica_set_with_primary);
}

TEST_CASE("sdam: a member whose 'me' differs from its address is removed (rs/secondary_mismatched_me)") {
  auto t = topology("mongodb://localhost:27017/?replicaSet=rs");
  const auto ch = reply(t, "localhost:27017", secondary_hello(R"(, "me": "a:27017")", R"(["a:27017","b:27017"])"));
  CHECK_FALSE(has(t, "localhost:27017"));
  CHECK(has(t, "a:27017"));
  CHECK(has(t, "b:27017"));
  CHECK(ch.removed == std::vector<host_address>{addr("localhost")});

  // With a primary known, too (rs/primary_to_no_primary_mismatched_me is the primary's variant).
  t = topology("mongodb://a,b/?replicaSet=rs");
  reply(t, "a:27017", primary_hello("", R"(["a:27017","b:27017"])"));
  reply(t, "b:27017", secondary_hello(R"(, "me": "c:27017")", R"(["a:27017","b:27017"])"));
  CHECK_FALSE(has(t, "b:27017"));
  CHECK(t.type() == topology_type::replica_set_with_primary);
}

TEST_CASE("sdam: a primary is not removed for a mismatched 'me' (rs/primary_mismatched_me_not_removed)") {
  auto t = topology("mongodb://localhost:27017,localhost:27018/?replicaSet=rs");
  reply(
      t, "localhost:27017",
      primary_hello(R"(, "primary": "localhost:27017", "me": "a:27017")", R"(["localhost:27017","localhost:27018"])"));
  CHECK(type_of(t, "localhost:27017") == server_type::rs_primary);
  reply(t, "localhost:27018",
        secondary_hello(R"(, "primary": "localhost:27017", "me": "localhost:27018")",
                        R"(["localhost:27017","localhost:27018"])"));
  CHECK(type_of(t, "localhost:27018") == server_type::rs_secondary);
  CHECK(t.type() == topology_type::replica_set_with_primary);
}

TEST_CASE("sdam: a primary that becomes standalone, mongos or ghost leaves no primary (rs/primary_becomes_*)") {
  for (const char* hello :
       {R"({"ok": 1, "isWritablePrimary": true})", R"({"ok": 1, "isWritablePrimary": true, "msg": "isdbgrid"})"}) {
    CAPTURE(hello);
    auto t = topology("mongodb://a/?replicaSet=rs");
    reply(t, "a:27017", primary_hello("", R"(["a:27017"])"));
    const auto ch = reply(t, "a:27017", hello);
    CHECK_FALSE(has(t, "a:27017"));
    CHECK(ch.removed.size() == 1);
    CHECK(t.type() == topology_type::replica_set_no_primary);
  }
  auto t = topology("mongodb://a/?replicaSet=rs");
  reply(t, "a:27017", primary_hello("", R"(["a:27017"])"));
  reply(t, "a:27017", R"({"ok": 1, "isreplicaset": true})");
  CHECK(type_of(t, "a:27017") == server_type::rs_ghost);  // kept: it may recover
  CHECK(t.type() == topology_type::replica_set_no_primary);
}

TEST_CASE("sdam: a disconnected primary leaves ReplicaSetNoPrimary (rs/primary_disconnect)") {
  auto t = topology("mongodb://a/?replicaSet=rs");
  reply(t, "a:27017", primary_hello("", R"(["a:27017","b:27017"])"));
  t.apply_check_failure(addr("a"), "connection reset");
  CHECK(type_of(t, "a:27017") == server_type::unknown);
  CHECK(t.find(addr("a"))->error == "connection reset");
  CHECK(t.type() == topology_type::replica_set_no_primary);
  CHECK(t.set_name() == "rs");
}

TEST_CASE("sdam: a secondary that was the primary turns the set to no primary (updateRSWithPrimaryFromMember)") {
  auto t = topology("mongodb://a,b/?replicaSet=rs");
  reply(t, "a:27017", primary_hello("", R"(["a:27017","b:27017"])"));
  reply(t, "a:27017", secondary_hello(R"(, "primary": "b:27017")", R"(["a:27017","b:27017"])"));
  CHECK(type_of(t, "a:27017") == server_type::rs_secondary);
  CHECK(type_of(t, "b:27017") == server_type::possible_primary);
  CHECK(t.type() == topology_type::replica_set_no_primary);
}

TEST_CASE(
    "sdam: an unexpected mongos or standalone is removed from a replica set (rs/unexpected_mongos, "
    "rs/member_standalone)") {
  auto t = topology("mongodb://a,b/?replicaSet=rs");
  reply(t, "b:27017", R"({"ok": 1, "isWritablePrimary": true, "msg": "isdbgrid"})");
  CHECK_FALSE(has(t, "b:27017"));
  reply(t, "a:27017", R"({"ok": 1, "isWritablePrimary": true})");
  CHECK_FALSE(has(t, "a:27017"));
  CHECK(t.type() == topology_type::replica_set_no_primary);
}

TEST_CASE("sdam: with Unknown topology a standalone means Single for one seed and removal for several") {
  auto one = topology("mongodb://a");
  reply(one, "a:27017", R"({"ok": 1, "isWritablePrimary": true})");
  CHECK(one.type() == topology_type::single);
  CHECK(type_of(one, "a:27017") == server_type::standalone);

  auto two = topology("mongodb://a,b");
  const auto ch = reply(two, "b:27017", R"({"ok": 1, "isWritablePrimary": true})");
  CHECK(two.type() == topology_type::unknown);
  CHECK_FALSE(has(two, "b:27017"));
  CHECK(ch.removed == std::vector<host_address>{addr("b")});
}

TEST_CASE("sdam: a ghost leaves the topology Unknown (rs/discover_ghost) and a check failure keeps the server") {
  auto t = topology("mongodb://a,b");
  reply(t, "a:27017", R"({"ok": 1, "isreplicaset": true})");
  CHECK(t.type() == topology_type::unknown);
  CHECK(type_of(t, "a:27017") == server_type::rs_ghost);
  t.apply_check_failure(addr("b"), "timeout");
  CHECK(has(t, "b:27017"));
  CHECK(t.type() == topology_type::unknown);
}

TEST_CASE("sdam: mongoses make the topology Sharded and other types are removed (sharded/*)") {
  auto t = topology("mongodb://a,b,c");
  reply(t, "a:27017",
        R"({"ok": 1, "isWritablePrimary": true, "msg": "isdbgrid", "minWireVersion": 8, "maxWireVersion": 21})");
  CHECK(t.type() == topology_type::sharded);
  reply(t, "b:27017", R"({"ok": 1, "isWritablePrimary": true})");
  CHECK_FALSE(has(t, "b:27017"));
  reply(t, "c:27017", primary_hello());
  CHECK_FALSE(has(t, "c:27017"));
  t.apply_check_failure(addr("a"), "down");
  CHECK(has(t, "a:27017"));
  CHECK(t.type() == topology_type::sharded);
}

TEST_CASE("sdam: Single keeps its one server of any type and verifies the set name (SDAM TopologyType Single)") {
  auto t = topology("mongodb://a/?directConnection=true");
  reply(t, "a:27017", secondary_hello());
  CHECK(t.type() == topology_type::single);
  CHECK(t.servers().size() == 1);  // hosts are not followed
  CHECK(type_of(t, "a:27017") == server_type::rs_secondary);

  auto named = topology("mongodb://a/?directConnection=true&replicaSet=other");
  const auto ch = reply(named, "a:27017", secondary_hello());
  CHECK(type_of(named, "a:27017") == server_type::unknown);
  CHECK(named.find(addr("a"))->error.find("replica set name mismatch: expected 'other'") != std::string::npos);
  CHECK_FALSE(ch.pool_ready);
  reply(named, "a:27017", R"({"ok": 1, "isWritablePrimary": true})");
  CHECK(type_of(named, "a:27017") == server_type::unknown);  // no setName is wrong too
}

TEST_CASE("sdam: pools become ready for data-bearing servers, and for any known server in Single") {
  auto t = topology("mongodb://a,b,c/?replicaSet=rs");
  CHECK(reply(t, "a:27017", primary_hello()).pool_ready);
  CHECK(reply(t, "b:27017", secondary_hello()).pool_ready);
  CHECK_FALSE(reply(t, "c:27017",
                    R"({"ok": 1, "arbiterOnly": true, "setName": "rs", "hosts": ["a:27017","b:27017","c:27017"]})")
                  .pool_ready);
  auto single = topology("mongodb://c/?directConnection=true");
  CHECK(reply(single, "c:27017", R"({"ok": 1, "arbiterOnly": true, "setName": "rs"})").pool_ready);
}

TEST_CASE("sdam: replies from servers no longer in the topology are ignored (rs/response_from_removed)") {
  auto t = topology("mongodb://a,b/?replicaSet=rs");
  reply(t, "a:27017", primary_hello("", R"(["a:27017"])"));
  const auto ch = reply(t, "b:27017", secondary_hello("", R"(["a:27017","b:27017"])"));
  CHECK(ch.ignored);
  CHECK_FALSE(has(t, "b:27017"));
  CHECK(reply(t, "z:27017", primary_hello()).ignored);
}

TEST_CASE("sdam: an older topologyVersion is ignored, an equal or newer one replaces (rs/topology_version_*)") {
  auto t = topology("mongodb://a/?replicaSet=rs");
  auto tv = [](int process, int counter) {
    return fmt::format(R"(, "topologyVersion": {{"processId": {}, "counter": {{"$numberLong": "{}"}}}})", oid(process),
                       counter);
  };
  reply(t, "a:27017", primary_hello(tv(1, 5), R"(["a:27017","b:27017"])"));
  auto ch = reply(t, "a:27017", primary_hello(tv(1, 4), R"(["a:27017","b:27017","c:27017"])"));
  CHECK(ch.ignored);
  CHECK_FALSE(has(t, "c:27017"));
  ch = reply(t, "a:27017", primary_hello(tv(1, 5), R"(["a:27017","b:27017","c:27017"])"));
  CHECK_FALSE(ch.ignored);
  CHECK(has(t, "c:27017"));
  ch = reply(t, "a:27017", primary_hello(tv(2, 0), R"(["a:27017"])"));  // restarted process
  CHECK_FALSE(ch.ignored);
  CHECK_FALSE(has(t, "c:27017"));
  CHECK(t.find(addr("a"))->topology_version->counter == 0);
  // A failed check carries no topologyVersion and is never stale.
  CHECK_FALSE(t.apply_check_failure(addr("a"), "down").ignored);
}

TEST_CASE("sdam: a new primary invalidates the old one, which must be checked again (rs/new_primary)") {
  auto t = topology("mongodb://a,b/?replicaSet=rs");
  reply(t, "a:27017", primary_hello(R"(, "maxWireVersion": 21)", R"(["a:27017","b:27017"])"));
  const auto ch = reply(t, "b:27017", primary_hello("", R"(["a:27017","b:27017"])"));
  CHECK(type_of(t, "a:27017") == server_type::unknown);
  CHECK(t.find(addr("a"))->error.find("primary marked stale due to discovery of newer primary") != std::string::npos);
  CHECK(type_of(t, "b:27017") == server_type::rs_primary);
  CHECK(ch.request_check == std::vector<host_address>{addr("a")});
  CHECK(ch.clear_pool.empty());  // 4.2+: connections survive a step-down
}

TEST_CASE("sdam: an invalidated primary keeps its pool, whatever its wire version (SDAM updateRSFromPrimary note)") {
  auto t = topology("mongodb://a,b/?replicaSet=rs");
  reply(t, "a:27017",
        R"({"ok": 1, "ismaster": true, "setName": "rs", "hosts": ["a:27017","b:27017"], "maxWireVersion": 7})");
  const auto ch = reply(t, "b:27017", primary_hello("", R"(["a:27017","b:27017"])"));
  CHECK(ch.clear_pool.empty());
  CHECK(ch.request_check == std::vector<host_address>{addr("a")});
}

TEST_CASE(
    "sdam: 6.0+ stale primary detection orders by electionId, then setVersion, null lowest (updateRSFromPrimary)") {
  auto hello = [](const std::string& election, const char* set_version) {
    std::string extra = R"(, "maxWireVersion": 17)";
    if (!election.empty()) extra += R"(, "electionId": )" + election;
    if (*set_version) extra += std::string(R"(, "setVersion": )") + set_version;
    return primary_hello(extra, R"(["a:27017","b:27017","c:27017"])");
  };
  auto t = topology("mongodb://a/?replicaSet=rs");
  reply(t, "a:27017", hello(oid(1), "2"));
  CHECK(t.max_election_id()->to_hex() == "000000000000000000000001");
  CHECK(t.max_set_version() == 2);

  // rs/set_version_can_rollback: a higher electionId wins even with a lower setVersion.
  reply(t, "b:27017", hello(oid(2), "1"));
  CHECK(type_of(t, "b:27017") == server_type::rs_primary);
  CHECK(type_of(t, "a:27017") == server_type::unknown);
  CHECK(t.max_set_version() == 1);
  CHECK(t.max_election_id()->to_hex() == "000000000000000000000002");

  // The old primary still answering with its old electionId is stale.
  reply(t, "a:27017", hello(oid(1), "2"));
  CHECK(type_of(t, "a:27017") == server_type::unknown);
  CHECK(t.find(addr("a"))->error ==
        "primary marked stale due to electionId/setVersion mismatch, {electionId: 000000000000000000000001, "
        "setVersion: 2} is stale compared to {electionId: 000000000000000000000002, setVersion: 1} (older electionId)");
  CHECK(type_of(t, "b:27017") == server_type::rs_primary);

  // Same electionId, lower setVersion: stale.
  reply(t, "c:27017", hello(oid(2), "0"));
  CHECK(t.find(addr("c"))->error.find("primary marked stale due to electionId/setVersion mismatch") == 0);
  CHECK(t.find(addr("c"))->error.find("(older setVersion)") != std::string::npos);
  CHECK(type_of(t, "b:27017") == server_type::rs_primary);

  // No electionId at all is lower than any (null_election_id).
  reply(t, "c:27017", hello("", "5"));
  CHECK(type_of(t, "c:27017") == server_type::unknown);
  CHECK(type_of(t, "b:27017") == server_type::rs_primary);

  // Same electionId and a higher setVersion: accepted, both maxima follow.
  reply(t, "c:27017", hello(oid(2), "3"));
  CHECK(type_of(t, "c:27017") == server_type::rs_primary);
  CHECK(type_of(t, "b:27017") == server_type::unknown);
  CHECK(t.max_set_version() == 3);
  CHECK(t.type() == topology_type::replica_set_with_primary);
}

TEST_CASE("sdam: pre-6.0 stale primary detection orders by setVersion, then electionId (updateRSFromPrimary)") {
  auto hello = [](const std::string& election, const char* set_version) {
    std::string extra = R"(, "maxWireVersion": 13)";
    if (!election.empty()) extra += R"(, "electionId": )" + election;
    if (*set_version) extra += std::string(R"(, "setVersion": )") + set_version;
    return primary_hello(extra, R"(["a:27017","b:27017","c:27017"])");
  };
  auto t = topology("mongodb://a/?replicaSet=rs");
  reply(t, "a:27017", hello(oid(2), "1"));
  // rs/new_primary_new_setversion: a higher setVersion wins over a lower electionId.
  reply(t, "b:27017", hello(oid(1), "2"));
  CHECK(type_of(t, "b:27017") == server_type::rs_primary);
  CHECK(type_of(t, "a:27017") == server_type::unknown);
  // Lower setVersion: stale.
  reply(t, "a:27017", hello(oid(3), "1"));
  CHECK(t.find(addr("a"))->error.find("(older setVersion)") != std::string::npos);
  // Same setVersion, lower electionId: stale.
  reply(t, "c:27017", hello(oid(0), "2"));
  CHECK(t.find(addr("c"))->error.find("(older electionId)") != std::string::npos);
  // Without an electionId the primary is trusted (setversion_without_electionid-pre-6.0)...
  reply(t, "c:27017", hello("", "2"));
  CHECK(type_of(t, "c:27017") == server_type::rs_primary);
  // ...and a setVersion alone only raises the maximum.
  CHECK(t.max_set_version() == 2);
  reply(t, "a:27017", hello("", "1"));
  CHECK(type_of(t, "a:27017") == server_type::rs_primary);  // use_setversion_without_electionid-pre-6.0
  CHECK(t.max_set_version() == 2);
}

TEST_CASE("sdam: wire version compatibility of known servers (rs/too_new, rs/too_old, rs/compatible)") {
  auto t = topology("mongodb://a,b/?replicaSet=rs", client_min_wire_version);
  reply(t, "a:27017", primary_hello(R"(, "minWireVersion": 8, "maxWireVersion": 21)", R"(["a:27017","b:27017"])"));
  CHECK(t.compatible());
  reply(t, "b:27017", secondary_hello(R"(, "minWireVersion": 26, "maxWireVersion": 30)", R"(["a:27017","b:27017"])"));
  CHECK_FALSE(t.compatible());
  CHECK(t.compatibility_error() ==
        "Server at b:27017 requires wire version 26, but this version of mongowire only supports up to 25.");
  reply(t, "b:27017", secondary_hello(R"(, "minWireVersion": 0, "maxWireVersion": 7)", R"(["a:27017","b:27017"])"));
  CHECK(t.compatibility_error() ==
        "Server at b:27017 reports wire version 7, but this version of mongowire requires at least 8 (MongoDB 4.2).");
  t.apply_check_failure(addr("b"), "down");  // Unknown servers do not count (rs/compatible_unknown)
  CHECK(t.compatible());
}

TEST_CASE(
    "sdam: logicalSessionTimeoutMinutes is the minimum over data-bearing servers, null if one lacks it "
    "(rs/ls_timeout)") {
  auto t = topology("mongodb://a,b,c,d/?replicaSet=rs");
  CHECK_FALSE(t.logical_session_timeout_minutes());  // nothing known yet
  const char* hosts = R"(["a:27017","b:27017","c:27017","d:27017"])";
  reply(t, "a:27017", primary_hello(R"(, "logicalSessionTimeoutMinutes": 3)", hosts));
  CHECK(t.logical_session_timeout_minutes() == 3);
  reply(t, "b:27017", secondary_hello(R"(, "logicalSessionTimeoutMinutes": 2)", hosts));
  CHECK(t.logical_session_timeout_minutes() == 2);
  // An arbiter without the field does not count.
  reply(t, "c:27017",
        R"({"ok": 1, "arbiterOnly": true, "setName": "rs", "hosts": ["a:27017","b:27017","c:27017","d:27017"]})");
  CHECK(t.logical_session_timeout_minutes() == 2);
  // A data-bearing member without it makes the topology's value null.
  reply(t, "d:27017", secondary_hello("", hosts));
  CHECK_FALSE(t.logical_session_timeout_minutes());
  t.apply_check_failure(addr("d"), "down");
  CHECK(t.logical_session_timeout_minutes() == 2);
}

TEST_CASE("sdam: a load balancer is never monitored, its description stays LoadBalancer") {
  auto t = topology("mongodb://a/?loadBalanced=true");
  CHECK(reply(t, "a:27017", R"({"ok": 1, "isWritablePrimary": true})").ignored);
  CHECK(type_of(t, "a:27017") == server_type::load_balancer);
}
