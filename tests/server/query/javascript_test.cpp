#include "query/test_util.hpp"

using namespace mongowire;
using namespace mongowire::testd::query;
using namespace mongowire::testd::query::test;

namespace {

// Matches `document` against {$where: code}; the effects say what the JavaScript did.
bool where(const std::string& code, const char* document, javascript_effects& fx) {
  bson::document filter;
  filter.append("$where", code);
  auto m = ok(matcher::compile(filter, {.javascript = &fx}));
  return m.matches(doc(document));
}

bool where(const std::string& code, const char* document = "{}") {
  javascript_effects fx;
  bool matched = where(code, document, fx);
  if (fx.error) FAIL("unexpected error " << fx.error->message);
  return matched;
}

query_error javascript_error(const std::string& code) {
  bson::document filter;
  filter.append("$where", code);
  javascript_effects fx;
  return err(matcher::compile(filter, {.javascript = &fx}));
}

}  // namespace

TEST_CASE("$where sleep(ms) records the sleep and returns undefined, so `sleep(n) || true` matches") {
  javascript_effects fx;
  CHECK(where("sleep(2000) || true", R"({"_id": 1})", fx));
  CHECK(fx.sleep_ms == 2000);
  CHECK_FALSE(fx.error);
  CHECK(where("sleep(2000) || true", R"({"_id": 2})", fx));
  CHECK(fx.sleep_ms == 4000);                    // mongod sleeps once per document it evaluates
  CHECK_FALSE(where("sleep(10)", R"({})", fx));  // undefined is falsy
  CHECK(fx.sleep_ms == 4010);
  CHECK_FALSE(where("sleep(10) && true", R"({})", fx));  // && stops at the falsy undefined
  CHECK(fx.sleep_ms == 4020);
  CHECK(where("true || sleep(10)", R"({})", fx));  // short-circuit: no sleep
  CHECK(fx.sleep_ms == 4020);
}

TEST_CASE("$where evaluates this/obj fields, comparisons and logic with JavaScript's rules") {
  CHECK(where("this.a == 1", R"({"a": 1})"));
  CHECK(where("obj.a === 1", R"({"a": 1.0})"));
  CHECK_FALSE(where("this.a === '1'", R"({"a": 1})"));
  CHECK(where("this.a == '1'", R"({"a": 1})"));  // loose equality converts the string
  CHECK(where("this.credits == this.debits", R"({"credits": 5, "debits": 5})"));
  CHECK(where("this.a.b > 2 && this.c != null", R"({"a": {"b": 3}, "c": "x"})"));
  CHECK_FALSE(where("this.missing != undefined", R"({})"));
  CHECK(where("this.missing == null", R"({})"));
  CHECK(where("this.s + 'b' === 'ab'", R"({"s": "a"})"));
  CHECK(where("'B' < 'a'"));  // code unit order
  CHECK(where("(this.a + 2) * 3 % 4 === 1", R"({"a": 1})"));
  CHECK_FALSE(where("this.a > 0", R"({"a": "x"})"));  // NaN compares false
  CHECK(where("!this.flag", R"({"flag": false})"));
  CHECK(where("this['my field'] === -1", R"({"my field": -1})"));
  CHECK(where("this.arr", R"({"arr": []})"));  // an array is an object: truthy
  CHECK_FALSE(where("this.n", R"({"n": 0})"));
}

TEST_CASE("$where takes a function or a function body as mongod's createFunction does") {
  CHECK(where("function() { return this.a == 1; }", R"({"a": 1})"));
  CHECK(where("function f() { sleep(5); return true }", R"({})"));
  CHECK(where("return this.a == 1", R"({"a": 1})"));
  CHECK(where("sleep(1); return this.a", R"({"a": 1})"));
  CHECK_FALSE(where("this.a == 1; this.b == 2", R"({"a": 1})"));  // a body without return: undefined
  CHECK(where("this.a == 1;", R"({"a": 1})"));
  CHECK(where("this.returned == 1", R"({"returned": 1})"));  // "return" inside a word                             //
                                                             // one final ';' still gets the return
  CHECK(where("/* why */ this.a // trailing\n", R"({"a": 1})") == false);  // two lines: a body
}

TEST_CASE("$where refuses JavaScript the test server cannot evaluate, saying what and where") {
  auto e = javascript_error("db.foo.find().count() > 0");
  CHECK(e.code == 139);
  CHECK(e.code_name == "JSInterpreterFailure");
  CHECK(e.message.find("'db' at offset 0") != std::string::npos);
  CHECK(javascript_error("this.a = 1").message.find("'=' at offset 7") != std::string::npos);
  CHECK(javascript_error("Math.random() > 0.5").code == 139);
  CHECK(javascript_error("function(x) { return x; }").message.find("parameters") != std::string::npos);
  CHECK(javascript_error("this.a == ").message.find("unexpected end") != std::string::npos);
  CHECK(javascript_error("'unterminated").code == 139);
  CHECK(javascript_error("this.a b").message.find("unexpected token") != std::string::npos);
  CHECK(javascript_error("sleep(1) sleep(2); return 1").message.find("missing ; before statement at offset 9") !=
        std::string::npos);
}

TEST_CASE("$where runtime errors fail the match instead of answering") {
  javascript_effects fx;
  CHECK_FALSE(where("this.a.b == 1", R"({})", fx));
  REQUIRE(fx.error);
  CHECK(fx.error->code == 139);
  CHECK(fx.error->message == "TypeError: this.a is undefined");
  javascript_effects fx2;
  CHECK_FALSE(where("this.n == 5", R"({"n": {"$numberLong": "5"}})", fx2));  // NumberLong: not evaluated
  REQUIRE(fx2.error);
  CHECK(fx2.error->message.find("cannot evaluate") != std::string::npos);
  javascript_effects fx3;
  CHECK_FALSE(where("sleep('x') || true", R"({})", fx3));
  REQUIRE(fx3.error);
  CHECK(fx3.error->message == "sleep takes a single numeric argument -- sleep(milliseconds)");
}

TEST_CASE("$where is refused where mongod refuses JavaScript, and checks its type") {
  CHECK(err(matcher::compile(doc(R"({"$where": "true"})"))).message == "$where is not allowed in this context");
  javascript_effects fx;
  CHECK(err(matcher::compile(doc(R"({"a": {"$elemMatch": {"$where": "true"}}})"), {.javascript = &fx})).message ==
        "$elemMatch cannot contain $where expression");
  CHECK(err(matcher::compile(doc(R"({"$where": 1})"), {.javascript = &fx})).message == "$where got bad type");
  auto nested =
      ok(matcher::compile(doc(R"({"$or": [{"a": 1}, {"$where": "sleep(3) || this.b"}]})"), {.javascript = &fx}));
  CHECK(nested.matches(doc(R"({"b": true})")));
  CHECK(fx.sleep_ms == 3);
}
