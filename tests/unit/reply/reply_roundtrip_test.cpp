#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "proto/reply/command_reply.hpp"
#include "proto/reply/cursor_reply.hpp"
#include "proto/reply/write_reply.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {

struct expected_write_error {
  std::int32_t index;
  std::int32_t code;
  std::string errmsg;
};

std::string random_text(std::mt19937& rng) {
  std::string s(rng() % 40, ' ');
  for (char& c : s) c = static_cast<char>('a' + rng() % 26);
  return s;
}

// Every parser, so that each table row runs through all of them.
std::vector<error_code> run_all_parsers(bson::view reply, std::vector<diagnostics>& diags) {
  diags.assign(9, diagnostics{});
  reply_metadata m;
  write_result w;
  find_and_modify_result f;
  cursor_reply c;
  std::int64_t n = 0;
  bson::view values;
  return {check_command_reply(reply, diags[0]),
          check_write_concern_reply(reply, diags[1]),
          parse_reply_metadata(reply, m, diags[2]),
          parse_write_reply(reply, w, diags[3]),
          parse_find_and_modify_reply(reply, f, diags[4]),
          parse_cursor_reply(reply, c, diags[5]),
          parse_count_reply(reply, n, diags[6]),
          parse_count_documents_reply(reply, n, diags[7]),
          parse_distinct_reply(reply, values, diags[8])};
}

}  // namespace

TEST_CASE("reply: randomized write replies parse back to the counts and errors they were built from") {
  std::mt19937 rng(12345);
  for (int round = 0; round < 300; ++round) {
    const std::int64_t n = rng() % 1000;
    const std::optional<std::int64_t> n_modified =
        (rng() & 1) ? std::optional<std::int64_t>(rng() % 1000) : std::nullopt;
    std::vector<expected_write_error> errors(rng() % 4);
    for (std::size_t i = 0; i < errors.size(); ++i)
      errors[i] = {static_cast<std::int32_t>(i * 2), static_cast<std::int32_t>(1 + rng() % 20000), random_text(rng)};
    const bool has_wce = (rng() & 1) != 0;
    const std::int32_t wce_code = static_cast<std::int32_t>(1 + rng() % 20000);
    const std::size_t upserts = rng() % 3;

    bson::document reply;
    reply.append("n", static_cast<std::int32_t>(n));
    if (n_modified) reply.append("nModified", *n_modified);  // int64 on purpose
    if (upserts) {
      reply.append_array_of("upserted", [&](bson::array_builder& a) {
        for (std::size_t i = 0; i < upserts; ++i) {
          bson::document u;
          u.append("index", static_cast<std::int32_t>(i));
          u.append("_id", bson::object_id::generate());
          a.push(u);
        }
      });
    }
    if (!errors.empty()) {
      reply.append_array_of("writeErrors", [&](bson::array_builder& a) {
        for (const auto& e : errors) {
          bson::document d;
          d.append("index", e.index).append("code", e.code).append("errmsg", e.errmsg);
          a.push(d);
        }
      });
    }
    if (has_wce) reply.append_document("writeConcernError", [&](bson::document& d) { d.append("code", wce_code); });
    reply.append("ok", 1.0);  // `ok` last and a double, as servers send it

    write_result w;
    diagnostics diag;
    error_code ec = parse_write_reply(reply, w, diag);
    CHECK(w.n == n);
    CHECK(w.n_modified == n_modified);
    CHECK(w.upserted_count == upserts);
    REQUIRE(diag.write_errors.size() == errors.size());
    for (std::size_t i = 0; i < errors.size(); ++i) {
      CHECK(diag.write_errors[i].index == errors[i].index);
      CHECK(diag.write_errors[i].code == errors[i].code);
      CHECK(diag.write_errors[i].errmsg == errors[i].errmsg);
    }
    CHECK(diag.write_concern.has_value() == has_wce);
    if (!errors.empty()) CHECK(ec == make_server_error(errors.front().code));
    else if (has_wce) CHECK(ec == make_server_error(wce_code));
    else CHECK_FALSE(ec);
  }
}

TEST_CASE("reply: any BSON type in any checked field gives success or invalid_reply naming that field") {
  const char* values[] = {"1",
                          R"({"$numberLong": "1"})",
                          "1.5",
                          "2.0",
                          R"("s")",
                          "{}",
                          "[]",
                          R"(["a"])",
                          "true",
                          "null",
                          R"({"$timestamp": {"t": 1, "i": 1}})",
                          "[{}]",
                          R"([1])",
                          R"({"$oid": "000000000000000000000001"})",
                          R"({"$numberLong": "0"})",
                          "0"};
  struct slot {
    const char* field;  // the path an error about this slot must name
    const char* before;
    const char* after;
  };
  const slot slots[] = {
      {"ok", R"({"ok": )", R"(, "n": 1})"},
      {"n", R"({"ok": 1, "n": )", "}"},
      {"nModified", R"({"ok": 1, "n": 1, "nModified": )", "}"},
      {"code", R"({"ok": 0, "code": )", "}"},
      {"codeName", R"({"ok": 0, "code": 2, "codeName": )", "}"},
      {"errmsg", R"({"ok": 0, "errmsg": )", "}"},
      {"errorLabels", R"({"ok": 0, "code": 1, "errorLabels": )", "}"},
      {"errorLabels", R"({"ok": 1, "errorLabels": )", "}"},
      {"writeConcernError", R"({"ok": 1, "writeConcernError": )", "}"},
      {"writeConcernError.code", R"({"ok": 1, "writeConcernError": {"code": )", "}}"},
      {"writeConcernError.errorLabels", R"({"ok": 1, "writeConcernError": {"code": 64, "errorLabels": )", "}}"},
      {"writeErrors", R"({"ok": 1, "writeErrors": )", "}"},
      {"writeErrors[0].index", R"({"ok": 1, "writeErrors": [{"code": 1, "index": )", "}]}"},
      {"writeErrors[0].code", R"({"ok": 1, "writeErrors": [{"index": 0, "code": )", "}]}"},
      {"upserted", R"({"ok": 1, "upserted": )", "}"},
      {"cursor", R"({"ok": 1, "cursor": )", "}"},
      {"cursor.id", R"({"ok": 1, "cursor": {"ns": "a.b", "firstBatch": [], "id": )", "}}"},
      {"cursor.ns", R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "firstBatch": [], "ns": )", "}}"},
      {"cursor.firstBatch", R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "ns": "a.b", "firstBatch": )", "}}"},
      {"$clusterTime", R"({"ok": 1, "$clusterTime": )", "}"},
      {"$clusterTime.clusterTime", R"({"ok": 1, "$clusterTime": {"clusterTime": )", "}}"},
      {"operationTime", R"({"ok": 1, "operationTime": )", "}"},
      {"recoveryToken", R"({"ok": 1, "recoveryToken": )", "}"},
      {"value", R"({"ok": 1, "value": )", "}"},
      {"lastErrorObject", R"({"ok": 1, "lastErrorObject": )", "}"},
      {"values", R"({"ok": 1, "values": )", "}"},
  };
  std::vector<diagnostics> diags;
  for (const slot& s : slots) {
    for (const char* v : values) {
      std::string json = std::string(s.before) + v + s.after;
      CAPTURE(json);
      auto reply = bson::document::from_json(json);
      auto results = run_all_parsers(reply, diags);
      for (std::size_t i = 0; i < results.size(); ++i) {
        CAPTURE(i);
        const error_code& ec = results[i];
        if (ec != client_errc::invalid_reply) {
          CHECK((!ec || ec.category() == server_category()));
          continue;
        }
        const std::string& msg = diags[i].client_message;
        CAPTURE(msg);
        // The error names this slot's field, or a field the slot's template leaves out
        // that this parser requires (e.g. `cursor` for a write reply).
        bool names_slot = msg.find(std::string("field '") + s.field) != std::string::npos;
        bool names_missing = msg.find("is missing") != std::string::npos || msg.find("neither") != std::string::npos;
        CHECK((names_slot || names_missing));
      }
    }
  }
}

TEST_CASE("reply: randomly corrupted replies never crash a parser") {
  auto base = bson::document::from_json(R"({"ok": 1, "n": 2, "nModified": 1,
      "writeErrors": [{"index": 0, "code": 11000, "errmsg": "dup", "errInfo": {}}],
      "writeConcernError": {"code": 64, "errorLabels": ["RetryableWriteError"]},
      "cursor": {"id": {"$numberLong": "1"}, "ns": "a.b", "firstBatch": [{"n": 1}]},
      "$clusterTime": {"clusterTime": {"$timestamp": {"t": 1, "i": 1}}, "signature": {}},
      "errorLabels": ["x"], "value": {"a": 1}, "values": [1], "lastErrorObject": {"n": 1}})");
  std::mt19937 rng(99);
  std::vector<diagnostics> diags;
  std::size_t parsed = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<std::uint8_t> bytes(base.data(), base.data() + base.size());
    for (int flips = 1 + rng() % 3; flips > 0; --flips)
      bytes[4 + rng() % (bytes.size() - 5)] = static_cast<std::uint8_t>(rng());
    auto view = bson::view::validate(bytes);
    if (!view) continue;
    ++parsed;
    for (const error_code& ec : run_all_parsers(*view, diags))
      CHECK((!ec || ec.category() == server_category() || ec == client_errc::invalid_reply));
  }
  CHECK(parsed > 100);  // enough corrupted-but-valid BSON reached the parsers
}

TEST_CASE("reply: validate rejects an embedded document with a bad terminator before any parser sees it") {
  // {"a": {}} with the inner document's terminator changed: libbson's own bson_validate
  // lets this through, and copying the child would then use an uninitialised bson_t.
  std::vector<std::uint8_t> bytes = {13, 0, 0, 0, 0x03, 'a', 0, 5, 0, 0, 0, 0x73, 0};
  std::string why;
  CHECK_FALSE(bson::view::validate(bytes, &why));
  CHECK(why.find("embedded document") != std::string::npos);
  bytes[11] = 0;
  CHECK(bson::view::validate(bytes));
}

TEST_CASE("reply: validate rejects hostile nesting instead of recursing without bound") {
  bson::document doc;
  doc.append("x", std::int32_t{1});
  for (int i = 0; i < 300; ++i) {
    bson::document outer;
    outer.append("d", doc);
    doc = std::move(outer);
  }
  std::string why;
  CHECK_FALSE(bson::view::validate(doc.get_view().bytes(), &why));
  CHECK(why.find("nesting deeper") != std::string::npos);
}
