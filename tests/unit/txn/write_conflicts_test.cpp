// Write conflicts per namespace for client::gauges (issue 16): which replies count, and the
// bounded Space-Saving counter that keeps the most conflicted namespaces.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "proto/txn/write_conflicts.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {

bson::document command(std::string_view name, std::string_view coll) {
  bson::document d;
  d.append(name, coll);
  return d;
}

}  // namespace

TEST_CASE("issue 16 gauges: WriteConflict counts as the error of a reply or as one of its write errors") {
  diagnostics d;
  CHECK_FALSE(reports_write_conflict(d));
  d.server_code = 112;
  CHECK(reports_write_conflict(d));
  d.server_code = 11000;
  CHECK_FALSE(reports_write_conflict(d));
  d.write_errors.emplace_back().code = 11000;
  d.write_errors.emplace_back().code = 112;
  CHECK(reports_write_conflict(d));
}

TEST_CASE("issue 16 gauges: conflicts are counted per db.collection, most conflicted first") {
  write_conflict_counter c;
  const auto hot = command("update", "hot");
  const auto cold = command("insert", "cold");
  bson::document commit;
  commit.append("commitTransaction", std::int32_t{1});
  for (int i = 0; i < 3; ++i) c.add("app", hot.get_view());
  c.add("app", cold.get_view());
  c.add("admin", commit.get_view());
  std::vector<namespace_count> top;
  c.top(top);
  REQUIRE(top.size() == 3);
  CHECK(top[0].ns == "app.hot");
  CHECK(top[0].count == 3);
  CHECK(top[0].overcount == 0);
  CHECK(top[1].ns == "admin");  // no collection: the database; ties in name order
  CHECK(top[2].ns == "app.cold");
  CHECK(c.total() == 5);
}

TEST_CASE("issue 16 gauges: past capacity a new namespace replaces the least counted, hot ones stay") {
  write_conflict_counter c(2);
  const auto hot = command("update", "hot");
  for (int i = 0; i < 5; ++i) c.add("app", hot.get_view());
  const auto a = command("update", "a");
  const auto b = command("update", "b");
  c.add("app", a.get_view());
  c.add("app", b.get_view());  // replaces app.a (1), starting from its count
  std::vector<namespace_count> top;
  c.top(top);
  REQUIRE(top.size() == 2);
  CHECK(top[0].ns == "app.hot");
  CHECK(top[0].count == 5);
  CHECK(top[1].ns == "app.b");
  CHECK(top[1].count == 2);
  CHECK(top[1].overcount == 1);
  CHECK(c.total() == 7);
}
