#include "proto/reply/cursor_reply.hpp"

#include <fmt/format.h>

#include "proto/reply/command_reply.hpp"
#include "proto/reply/reply_reader.hpp"

namespace mongowire::detail {
namespace {

error_code read_batch(reply_reader& r, bson::view cursor, cursor_reply& out) {
  bson::element batch = cursor.find("firstBatch");
  out.is_first_batch = static_cast<bool>(batch);
  if (!batch) batch = cursor.find("nextBatch");
  if (!batch) return r.invalid("cursor", "has neither firstBatch nor nextBatch");
  const std::string_view path = out.is_first_batch ? "cursor.firstBatch" : "cursor.nextBatch";
  auto array = batch.as_array();
  if (!array) return r.wrong_type(path, batch, "array");
  std::size_t count = 0;
  for (const bson::element& doc : *array) {
    if (!doc.is_document()) return r.wrong_type(fmt::format("{}[{}]", path, count), doc, "object");
    ++count;
  }
  out.batch = *array;
  out.batch_count = count;
  return {};
}

error_code read_cursor(reply_reader& r, cursor_reply& out) {
  bson::element c = r.reply().find("cursor");
  if (!c) return r.missing("cursor");
  auto cursor = c.as_document();
  if (!cursor) return r.wrong_type("cursor", c, "object");

  bson::element id = cursor->find("id");
  if (!id) return r.missing("cursor.id");
  if (id.type() != BSON_TYPE_INT64) return r.wrong_type("cursor.id", id, "long");
  out.id = *id.as_int64();

  bson::element ns = cursor->find("ns");
  if (!ns) return r.missing("cursor.ns");
  if (!ns.is_string()) return r.wrong_type("cursor.ns", ns, "string");
  out.ns = *ns.as_string();

  if (auto ec = read_batch(r, *cursor, out)) return ec;

  if (bson::element token = cursor->find("postBatchResumeToken")) {
    out.post_batch_resume_token = token.as_document();
    if (!out.post_batch_resume_token) return r.wrong_type("cursor.postBatchResumeToken", token, "object");
  }
  return {};
}

}  // namespace

error_code parse_cursor_reply(bson::view reply, cursor_reply& out, diagnostics& diag) {
  if (auto ec = check_command_reply(reply, diag)) return ec;
  reply_reader r(reply, diag);
  cursor_reply result;
  if (auto ec = read_cursor(r, result)) return ec;
  out = result;
  return {};
}

error_code parse_count_reply(bson::view reply, std::int64_t& n, diagnostics& diag) {
  if (auto ec = check_command_reply(reply, diag)) return ec;
  reply_reader r(reply, diag);
  bson::element e = reply.find("n");
  if (!e) return r.missing("n");
  auto value = integral_int64(e);
  if (!value) return r.wrong_type("n", e, "integer");
  n = *value;
  return {};
}

error_code parse_count_documents_reply(bson::view reply, std::int64_t& n, diagnostics& diag) {
  cursor_reply cursor;
  if (auto ec = parse_cursor_reply(reply, cursor, diag)) return ec;
  reply_reader r(reply, diag);
  if (cursor.batch_count == 0) {  // $group over no documents yields no document
    n = 0;
    return {};
  }
  bson::view first = *(*cursor.batch.begin()).as_document();
  bson::element e = first.find("n");
  if (!e) return r.missing("cursor.firstBatch[0].n");
  auto value = integral_int64(e);
  if (!value) return r.wrong_type("cursor.firstBatch[0].n", e, "integer");
  n = *value;
  return {};
}

error_code parse_distinct_reply(bson::view reply, bson::view& values, diagnostics& diag) {
  if (auto ec = check_command_reply(reply, diag)) return ec;
  reply_reader r(reply, diag);
  bson::element e = reply.find("values");
  if (!e) return r.missing("values");
  auto array = e.as_array();
  if (!array) return r.wrong_type("values", e, "array");
  values = *array;
  return {};
}

}  // namespace mongowire::detail
