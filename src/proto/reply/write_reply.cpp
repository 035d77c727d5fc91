#include "proto/reply/write_reply.hpp"

#include <fmt/format.h>

#include <vector>

#include "proto/reply/command_reply.hpp"
#include "proto/reply/reply_reader.hpp"

namespace mongowire::detail {
namespace {

// Optional count: missing -> 0 (unchanged); present -> an integral number.
error_code read_count(reply_reader& r, bson::view doc, std::string_view key, std::string_view path,
                      std::optional<std::int64_t>& out) {
  bson::element e = doc.find(key);
  if (!e) return {};
  out = integral_int64(e);
  if (!out) return r.wrong_type(path, e, "integer");
  return {};
}

error_code read_upserted(reply_reader& r, write_result& out) {
  bson::element e = r.reply().find("upserted");
  if (!e) return {};
  auto array = e.as_array();
  if (!array) return r.wrong_type("upserted", e, "array");
  std::size_t i = 0;
  for (const bson::element& entry : *array) {
    auto doc = entry.as_document();
    if (!doc) return r.wrong_type(fmt::format("upserted[{}]", i), entry, "object");
    bson::element index = doc->find("index");
    if (!index) return r.missing(fmt::format("upserted[{}].index", i));
    if (!integral_int32(index)) return r.wrong_type(fmt::format("upserted[{}].index", i), index, "32-bit integer");
    if (!doc->find("_id")) return r.missing(fmt::format("upserted[{}]._id", i));
    ++i;
  }
  out.upserted = *array;
  out.upserted_count = i;
  return {};
}

error_code read_write_error(reply_reader& r, const bson::element& entry, std::size_t i, write_error& out) {
  auto doc = entry.as_document();
  if (!doc) return r.wrong_type(fmt::format("writeErrors[{}]", i), entry, "object");
  auto path = [i](std::string_view key) { return fmt::format("writeErrors[{}].{}", i, key); };
  bson::element index = doc->find("index");
  if (!index) return r.missing(path("index"));
  auto index_value = integral_int32(index);
  if (!index_value) return r.wrong_type(path("index"), index, "32-bit integer");
  bson::element code = doc->find("code");
  if (!code) return r.missing(path("code"));
  auto code_value = integral_int32(code);
  if (!code_value) return r.wrong_type(path("code"), code, "32-bit integer");
  // A zero code would turn into an error_code that reads as success.
  if (*code_value == 0) return r.invalid(path("code"), "is 0, expected a non-zero error code");
  std::optional<std::string_view> code_name, errmsg;
  if (auto ec = read_optional_string(r, *doc, "codeName", path("codeName"), code_name)) return ec;
  if (auto ec = read_optional_string(r, *doc, "errmsg", path("errmsg"), errmsg)) return ec;

  out.index = *index_value;
  out.code = *code_value;
  out.code_name = code_name ? *code_name : server_code_name(out.code);
  if (errmsg) out.errmsg = *errmsg;
  if (bson::element info = doc->find("errInfo")) {
    auto info_doc = info.as_document();
    if (!info_doc) return r.wrong_type(path("errInfo"), info, "object");
    out.err_info = bson::document(*info_doc);
  }
  return {};
}

error_code read_write_errors(reply_reader& r) {
  bson::element e = r.reply().find("writeErrors");
  if (!e) return {};
  auto array = e.as_array();
  if (!array) return r.wrong_type("writeErrors", e, "array");
  std::vector<write_error> errors;
  std::size_t i = 0;
  for (const bson::element& entry : *array) {
    if (auto ec = read_write_error(r, entry, i++, errors.emplace_back())) return ec;
  }
  for (write_error& w : errors) r.diag().write_errors.push_back(std::move(w));
  return {};
}

// The outcome of an ok:1 reply that may carry a write concern error.
error_code finish(bson::view reply, diagnostics& diag) {
  error_code ec = write_reply_error(diag);
  if (!ec) return {};
  reply_reader r(reply, diag);
  return r.server_error(ec);
}

}  // namespace

upserted_entry upserted_entry_of(const bson::element& entry) noexcept {
  upserted_entry out;
  auto doc = entry.as_document();
  if (!doc) return out;
  out.index = integral_int32(doc->find("index")).value_or(0);
  out.id = doc->find("_id");
  return out;
}

error_code parse_write_reply(bson::view reply, write_result& out, diagnostics& diag) {
  if (auto ec = check_command_reply(reply, diag)) return ec;
  reply_reader r(reply, diag);
  write_result result;
  std::optional<std::int64_t> n;
  if (auto ec = read_count(r, reply, "n", "n", n)) return ec;
  result.n = n.value_or(0);
  if (auto ec = read_count(r, reply, "nModified", "nModified", result.n_modified)) return ec;
  if (auto ec = read_upserted(r, result)) return ec;
  if (auto ec = read_write_errors(r)) return ec;
  if (auto ec = parse_write_concern_error(reply, diag)) return ec;
  out = result;
  return finish(reply, diag);
}

error_code write_reply_error(const diagnostics& diag) noexcept {
  if (!diag.write_errors.empty()) return make_server_error(diag.write_errors.front().code);
  if (diag.write_concern) return make_server_error(diag.write_concern->code);
  return {};
}

error_code parse_find_and_modify_reply(bson::view reply, find_and_modify_result& out, diagnostics& diag) {
  if (auto ec = check_command_reply(reply, diag)) return ec;
  reply_reader r(reply, diag);
  find_and_modify_result result;
  if (bson::element value = reply.find("value"); value && !value.is_null()) {
    result.value = value.as_document();
    if (!result.value) return r.wrong_type("value", value, "object or null");
  }
  if (bson::element leo = reply.find("lastErrorObject")) {
    auto doc = leo.as_document();
    if (!doc) return r.wrong_type("lastErrorObject", leo, "object");
    std::optional<std::int64_t> n;
    if (auto ec = read_count(r, *doc, "n", "lastErrorObject.n", n)) return ec;
    result.n = n.value_or(0);
    if (bson::element updated = doc->find("updatedExisting")) {
      result.updated_existing = updated.as_bool();
      if (!result.updated_existing) return r.wrong_type("lastErrorObject.updatedExisting", updated, "bool");
    }
    if (bson::element upserted = doc->find("upserted")) result.upserted_id = upserted;
  }
  if (auto ec = parse_write_concern_error(reply, diag)) return ec;
  out = result;
  return finish(reply, diag);
}

}  // namespace mongowire::detail
