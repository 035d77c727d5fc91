#include "proto/reply/client_bulk_write_reply.hpp"

#include <fmt/format.h>

#include <string>

#include "proto/reply/reply_reader.hpp"

namespace mongowire::detail {
namespace {

error_code read_required_count(reply_reader& r, bson::view doc, std::string_view key, std::string_view path,
                               std::int64_t& out) {
  bson::element e = doc.find(key);
  if (!e) return r.missing(path);
  auto value = integral_int64(e);
  if (!value || *value < 0) return r.wrong_type(path, e, "non-negative integer");
  out = *value;
  return {};
}

// Where an item's field is, for error messages only (built on the error path).
struct item_path {
  std::string_view batch_field;
  std::size_t position;
  std::string operator()(std::string_view key) const { return fmt::format("{}[{}].{}", batch_field, position, key); }
};

// {ok: 0, idx, code, codeName?, errmsg?, errInfo?}
error_code read_item_error(reply_reader& r, bson::view item, const item_path& path, client_bulk_write_item& out) {
  bson::element code = item.find("code");
  if (!code) return r.missing(path("code"));
  auto code_value = integral_int32(code);
  if (!code_value) return r.wrong_type(path("code"), code, "32-bit integer");
  // A zero code would turn into an error_code that reads as success.
  if (*code_value == 0) return r.invalid(path("code"), "is 0, expected a non-zero error code");
  std::optional<std::string_view> code_name, errmsg;
  if (auto ec = read_optional_string(r, item, "codeName", path("codeName"), code_name)) return ec;
  if (auto ec = read_optional_string(r, item, "errmsg", path("errmsg"), errmsg)) return ec;
  out.error.index = out.idx;
  out.error.code = *code_value;
  out.error.code_name = code_name ? std::string(*code_name) : std::string(server_code_name(*code_value));
  if (errmsg) out.error.errmsg = *errmsg;
  if (bson::element info = item.find("errInfo")) {
    auto info_doc = info.as_document();
    if (!info_doc) return r.wrong_type(path("errInfo"), info, "object");
    out.error.err_info = bson::document(*info_doc);
  }
  return {};
}

// {ok: 1, idx, n, nModified?, upserted?: {_id}}
error_code read_item_success(reply_reader& r, bson::view item, const item_path& path, client_bulk_write_item& out) {
  if (auto ec = read_required_count(r, item, "n", path("n"), out.n)) return ec;
  if (bson::element modified = item.find("nModified")) {
    out.n_modified = integral_int64(modified);
    if (!out.n_modified) return r.wrong_type(path("nModified"), modified, "integer");
  }
  if (bson::element upserted = item.find("upserted")) {
    auto doc = upserted.as_document();
    if (!doc) return r.wrong_type(path("upserted"), upserted, "object");
    bson::element id = doc->find("_id");
    if (!id) return r.missing(path("upserted._id"));
    out.upserted_id = id;
  }
  return {};
}

}  // namespace

error_code parse_client_bulk_write_reply(bson::view reply, client_bulk_write_reply& out, diagnostics& diag) {
  client_bulk_write_reply result;
  if (auto ec = parse_cursor_reply(reply, result.cursor, diag)) return ec;  // ok: 0 included
  reply_reader r(reply, diag);
  const std::pair<std::string_view, std::int64_t*> counts[] = {
      {"nErrors", &result.n_errors},   {"nInserted", &result.n_inserted}, {"nUpserted", &result.n_upserted},
      {"nMatched", &result.n_matched}, {"nModified", &result.n_modified}, {"nDeleted", &result.n_deleted}};
  for (const auto& [key, slot] : counts)
    if (auto ec = read_required_count(r, reply, key, key, *slot)) return ec;
  out = result;
  return {};
}

error_code parse_client_bulk_write_item(bson::view item, std::string_view batch_field, std::size_t position,
                                        client_bulk_write_item& out, diagnostics& diag) {
  reply_reader r(item, diag);
  const item_path path{batch_field, position};
  client_bulk_write_item result;
  bson::element ok = item.find("ok");
  if (!ok) return r.missing(path("ok"));
  auto ok_value = ok.as_number();
  if (!ok_value) return r.wrong_type(path("ok"), ok, "number");
  result.ok = *ok_value == 1.0;
  bson::element idx = item.find("idx");
  if (!idx) return r.missing(path("idx"));
  auto idx_value = integral_int32(idx);
  if (!idx_value || *idx_value < 0) return r.wrong_type(path("idx"), idx, "non-negative int32");
  result.idx = *idx_value;
  const error_code ec = result.ok ? read_item_success(r, item, path, result) : read_item_error(r, item, path, result);
  if (ec) return ec;
  out = std::move(result);
  return {};
}

}  // namespace mongowire::detail
