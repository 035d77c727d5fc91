#include "proto/reply/command_reply.hpp"

#include "proto/reply/reply_reader.hpp"

namespace mongowire::detail {
namespace {

error_code read_ok(reply_reader& r, bool& ok) {
  bson::element e = r.reply().find("ok");
  if (!e) return r.missing("ok");
  auto truthy = e.as_truthy();
  if (!truthy) return r.wrong_type("ok", e, "number or bool");
  ok = *truthy;
  return {};
}

// The pieces of an ok:0 reply, checked before anything is copied into diagnostics.
struct command_error_fields {
  std::optional<std::int32_t> code;
  std::optional<std::string_view> code_name;
  std::optional<std::string_view> errmsg;
};

error_code read_command_error(reply_reader& r) {
  const bson::view reply = r.reply();
  command_error_fields f;
  if (bson::element e = reply.find("code")) {
    f.code = integral_int32(e);
    if (!f.code) return r.wrong_type("code", e, "32-bit integer");
  }
  if (auto ec = read_optional_string(r, reply, "codeName", "codeName", f.code_name)) return ec;
  if (auto ec = read_optional_string(r, reply, "errmsg", "errmsg", f.errmsg)) return ec;
  label_set labels;
  if (bson::element e = reply.find("errorLabels")) {
    if (auto ec = read_error_labels(r, e, "errorLabels", labels)) return ec;
  }

  diagnostics& diag = r.diag();
  if (f.code) {
    diag.server_code = *f.code;
  } else if (f.code_name) {
    diag.server_code = server_code_from_name(*f.code_name).value_or(0);
  }
  if (f.code_name) diag.code_name = *f.code_name;
  if (diag.code_name.empty()) diag.code_name = server_code_name(diag.server_code);
  if (f.errmsg) diag.server_message = *f.errmsg;
  for (const std::string& label : labels.items()) diag.labels.add(label);
  // error_code value 0 would read as success: see missing_error_code.
  std::int32_t code = diag.server_code != 0 ? diag.server_code : missing_error_code;
  return r.server_error(make_server_error(code));
}

error_code read_top_level_labels(reply_reader& r) {
  bson::element e = r.reply().find("errorLabels");
  if (!e) return {};
  return read_error_labels(r, e, "errorLabels", r.diag().labels);
}

}  // namespace

error_code check_command_reply(bson::view reply, diagnostics& diag) {
  reply_reader r(reply, diag);
  bool ok = false;
  if (auto ec = read_ok(r, ok)) return ec;
  if (!ok) return read_command_error(r);
  return read_top_level_labels(r);
}

error_code parse_write_concern_error(bson::view reply, diagnostics& diag) {
  reply_reader r(reply, diag);
  bson::element e = reply.find("writeConcernError");
  if (!e) return {};
  auto wce = e.as_document();
  if (!wce) return r.wrong_type("writeConcernError", e, "object");

  write_concern_error out;
  bson::element code = wce->find("code");
  if (!code) return r.missing("writeConcernError.code");
  auto code_value = integral_int32(code);
  if (!code_value) return r.wrong_type("writeConcernError.code", code, "32-bit integer");
  // A zero code would turn into an error_code that reads as success.
  if (*code_value == 0) return r.invalid("writeConcernError.code", "is 0, expected a non-zero error code");
  out.code = *code_value;

  std::optional<std::string_view> code_name, errmsg;
  if (auto ec = read_optional_string(r, *wce, "codeName", "writeConcernError.codeName", code_name)) return ec;
  if (auto ec = read_optional_string(r, *wce, "errmsg", "writeConcernError.errmsg", errmsg)) return ec;
  out.code_name = code_name ? *code_name : server_code_name(out.code);
  if (errmsg) out.errmsg = *errmsg;
  if (bson::element info = wce->find("errInfo")) {
    auto info_doc = info.as_document();
    if (!info_doc) return r.wrong_type("writeConcernError.errInfo", info, "object");
    out.err_info = bson::document(*info_doc);
  }
  // Servers before 4.4 put the labels inside writeConcernError (retryable-writes.md,
  // "Determining Retryable Errors").
  if (bson::element labels = wce->find("errorLabels")) {
    if (auto ec = read_error_labels(r, labels, "writeConcernError.errorLabels", out.labels)) return ec;
  }
  diag.write_concern = std::move(out);
  return {};
}

error_code check_write_concern_reply(bson::view reply, diagnostics& diag) {
  if (auto ec = check_command_reply(reply, diag)) {
    // An ok:0 reply can carry a writeConcernError too: mongod waits for the write concern on
    // the error path (after a no-op write for NoSuchTransaction), and then withholds
    // TransientTransactionError from a commit. transactions.md "UnknownTransactionCommitResult"
    // needs it ("write concern failed / timeout"). A malformed one leaves the server's error.
    if (ec.category() == server_category() && parse_write_concern_error(reply, diag)) diag.write_concern.reset();
    return ec;
  }
  if (auto ec = parse_write_concern_error(reply, diag)) return ec;
  if (!diag.write_concern) return {};
  reply_reader r(reply, diag);
  return r.server_error(make_server_error(diag.write_concern->code));
}

namespace {

error_code read_cluster_time(reply_reader& r, const bson::element& e, std::optional<cluster_time_ref>& out) {
  auto doc = e.as_document();
  if (!doc) return r.wrong_type("$clusterTime", e, "object");
  bson::element ts = doc->find("clusterTime");
  if (!ts) return r.missing("$clusterTime.clusterTime");
  auto ts_value = ts.as_timestamp();
  if (!ts_value) return r.wrong_type("$clusterTime.clusterTime", ts, "timestamp");
  cluster_time_ref ref{*doc, *ts_value, std::nullopt};
  if (bson::element sig = doc->find("signature")) {
    ref.signature = sig.as_document();
    if (!ref.signature) return r.wrong_type("$clusterTime.signature", sig, "object");
  }
  out = ref;
  return {};
}

error_code read_optional_document(reply_reader& r, std::string_view key, std::optional<bson::view>& out) {
  bson::element e = r.reply().find(key);
  if (!e) return {};
  out = e.as_document();
  if (!out) return r.wrong_type(key, e, "object");
  return {};
}

}  // namespace

error_code parse_reply_metadata(bson::view reply, reply_metadata& out, diagnostics& diag) {
  reply_reader r(reply, diag);
  reply_metadata m;
  if (bson::element e = reply.find("$clusterTime")) {
    if (auto ec = read_cluster_time(r, e, m.cluster_time)) return ec;
  }
  if (bson::element e = reply.find("operationTime")) {
    m.operation_time = e.as_timestamp();
    if (!m.operation_time) return r.wrong_type("operationTime", e, "timestamp");
  }
  if (auto ec = read_optional_document(r, "recoveryToken", m.recovery_token)) return ec;
  if (auto ec = read_optional_document(r, "topologyVersion", m.topology_version)) return ec;
  out = m;
  return {};
}

}  // namespace mongowire::detail
