// bulkWrite, MongoDB 8.0's client-level write command (bulk_write.cpp, bulk_write_common.cpp,
// bulk_write_parser.idl): inserts, updates and deletes on several namespaces in one command on
// admin; a cursor (ns "admin.$cmd.bulkWrite") of per-write results, or with errorsOnly of the
// failed writes only, and summary counts beside it. Each write is a statement as in insert,
// update and delete: retryable writes record it, a failure is a write error that aborts a
// transaction and stops an ordered bulk write.
#include "core/core_impl.hpp"

namespace mongowire::testd {
namespace {

using impl = server_core::impl;

constexpr std::int32_t bulk_write_min_wire_version = 25;  // MongoDB 8.0
constexpr std::string_view results_ns = "admin.$cmd.bulkWrite";

enum class op_kind { insert, update, remove };

// One entry of `ops`, checked before anything runs (a malformed entry fails the command).
struct bulk_op {
  op_kind kind = op_kind::insert;
  std::int32_t idx = 0;
  std::size_t ns = 0;  // index into nsInfo
  bson::view entry;
};

std::string field_path(std::size_t i, std::string_view field) {
  return "BSON field 'bulkWrite.ops." + std::to_string(i) + "." + std::string(field) + "'";
}

bson::view required_document(bson::view entry, std::size_t i, std::string_view field) {
  auto e = entry[field];
  if (!e) throw command_error(code::missing_field, field_path(i, field) + " is missing but a required field");
  if (!e.is_document())
    throw command_error(code::type_mismatch, field_path(i, field) + " is the wrong type '" +
                                                 std::string(bson::type_name(e.type())) + "', expected type 'object'");
  return *e.as_document();
}

// bulk_write_common.cpp validateRequest: each namespace a valid "db.coll".
std::vector<std::string> namespaces_of(const op_context& op) {
  std::vector<std::string> out;
  for (auto e : array_field(op, "nsInfo")) {
    auto entry = e.as_document();
    auto ns = entry ? (*entry)["ns"].as_string() : std::nullopt;
    if (!ns)
      throw command_error(code::type_mismatch,
                          "BSON field 'bulkWrite.nsInfo." + std::to_string(out.size()) + ".ns' must be a string");
    const auto dot = ns->find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == ns->size())
      throw command_error(code::invalid_namespace, "Invalid namespace specified '" + std::string(*ns) + "'");
    out.emplace_back(*ns);
  }
  if (out.empty()) throw command_error(code::bad_value, "nsInfo must contain at least one namespace");
  return out;
}

bulk_op parse_op(const bson::element& e, std::size_t i, std::size_t namespaces) {
  auto entry = e.as_document();
  if (!entry || entry->empty())
    throw command_error(code::type_mismatch, "BSON field 'bulkWrite.ops." + std::to_string(i) + "' must be an object");
  bulk_op op;
  op.entry = *entry;
  op.idx = static_cast<std::int32_t>(i);
  const auto name = entry->first_key();
  if (name == "insert") op.kind = op_kind::insert;
  else if (name == "update") op.kind = op_kind::update;
  else if (name == "delete") op.kind = op_kind::remove;
  else throw command_error(code::failed_to_parse, "Unrecognized bulkWrite op '" + std::string(name) + "'");
  auto index = (*entry)[name].as_int32();
  if (!index || *index < 0 || static_cast<std::size_t>(*index) >= namespaces)
    throw command_error(code::bad_value, "BulkWrite ops entry " + std::to_string(i) + " has an invalid nsInfo index.");
  op.ns = static_cast<std::size_t>(*index);
  return op;
}

std::vector<bulk_op> ops_of(const op_context& op, std::size_t namespaces, std::int32_t max_batch) {
  std::vector<bulk_op> ops;
  std::size_t i = 0;
  for (auto e : write_statements(op, "ops", max_batch)) ops.push_back(parse_op(e, i++, namespaces));
  return ops;
}

struct bulk_counts {
  std::int64_t errors = 0, inserted = 0, upserted = 0, matched = 0, modified = 0, deleted = 0;
};

// {ok: 1, idx, n, nModified?, upserted?: {_id}} (BulkWriteReplyItem).
bson::document success_item(const bulk_op& b, std::int64_t n, const update_outcome* update) {
  bson::document item;
  item.append("ok", 1.0);
  item.append("idx", b.idx);
  item.append("n", static_cast<std::int32_t>(n));
  if (update) {
    item.append("nModified", static_cast<std::int32_t>(update->modified));
    if (update->upserted_id) item.append("upserted", *update->upserted_id);
  }
  return item;
}

// {ok: 0, idx, code, codeName, errmsg, <extra>, n: 0}
bson::document error_item(const bulk_op& b, const command_error& e) {
  bson::document item;
  item.append("ok", 0.0);
  item.append("idx", b.idx);
  item.append("code", e.code());
  item.append("codeName", code_name(e.code()));
  item.append("errmsg", e.message());
  item.concat(e.extra());
  item.append("n", std::int32_t{0});
  return item;
}

update_outcome run_update(impl& self, op_context& op, const std::string& ns, const bulk_op& b, std::int32_t stmt) {
  if (const bson::document* retried = self.retried_statement(op, stmt)) return update_outcome_of(*retried);
  auto filter = required_document(b.entry, static_cast<std::size_t>(b.idx), "filter");
  auto mods = b.entry["updateMods"];
  if (!mods.is_document() && !mods.is_array())
    throw command_error(code::missing_field,
                        field_path(static_cast<std::size_t>(b.idx), "updateMods") + " is missing but a required field");
  const bool multi = b.entry["multi"].as_truthy().value_or(false);
  const bool upsert = b.entry["upsert"].as_truthy().value_or(false);
  return self.update_statement(op, ns, filter, mods, multi, upsert, stmt);
}

// Runs one write; returns its reply item and adds to the counts.
bson::document run_op(impl& self, op_context& op, const bulk_op& b, const std::string& ns, bulk_counts& counts) {
  const std::int32_t stmt = statement_id(op, b.idx);
  if (b.kind == op_kind::insert) {
    if (!self.retried_statement(op, stmt)) {
      auto doc = required_document(b.entry, static_cast<std::size_t>(b.idx), "document");
      self.on_primary_transactional_write(op);
      self.insert_statement(op, ns, doc, stmt);
    }
    ++counts.inserted;
    return success_item(b, 1, nullptr);
  }
  if (b.kind == op_kind::remove) {
    const bson::document* retried = self.retried_statement(op, stmt);
    const std::int64_t n = retried ? (*retried)["n"].as_integer().value_or(0)
                                   : self.delete_statement(op, ns, required_document(b.entry, b.idx, "filter"),
                                                           b.entry["multi"].as_truthy().value_or(false), stmt);
    counts.deleted += n;
    return success_item(b, n, nullptr);
  }
  const update_outcome u = run_update(self, op, ns, b, stmt);
  if (u.upserted_id) ++counts.upserted;
  else counts.matched += u.n;
  counts.modified += u.modified;
  return success_item(b, u.n, &u);
}

void append_counts(bson::document& reply, const bulk_counts& c) {
  reply.append("nErrors", static_cast<std::int32_t>(c.errors));
  reply.append("nInserted", static_cast<std::int32_t>(c.inserted));
  reply.append("nUpserted", static_cast<std::int32_t>(c.upserted));
  reply.append("nMatched", static_cast<std::int32_t>(c.matched));
  reply.append("nModified", static_cast<std::int32_t>(c.modified));
  reply.append("nDeleted", static_cast<std::int32_t>(c.deleted));
}

}  // namespace

void server_core::impl::cmd_bulk_write(op_context& op, bson::document& reply) {
  // mongod 7.0 has no such command; 8.0's is admin-only (Command::adminOnly).
  if (options.max_wire_version < bulk_write_min_wire_version)
    throw command_error(code::command_not_found, "no such command: 'bulkWrite'");
  if (op.db != "admin")
    throw command_error(code::unauthorized, "bulkWrite may only be run against the admin database.");
  check_known_fields(
      op, {"ops", "nsInfo", "cursor", "bypassDocumentValidation", "ordered", "errorsOnly", "let", "stmtId", "stmtIds"});
  const auto namespaces = namespaces_of(op);
  const auto ops = ops_of(op, namespaces.size(), options.max_write_batch_size);
  const bool ordered = op.cmd["ordered"].as_truthy().value_or(true);
  const bool errors_only = op.cmd["errorsOnly"].as_truthy().value_or(false);
  bulk_counts counts;
  std::vector<bson::document> items;
  for (const bulk_op& b : ops) {
    try {
      auto item = run_op(*this, op, b, namespaces[b.ns], counts);
      if (!errors_only) items.push_back(std::move(item));
    } catch (const command_error& e) {
      const bool stop = statement_failed(op, e, ordered);
      ++counts.errors;
      items.push_back(error_item(b, e));
      if (stop) break;
    }
  }
  const auto cursor = op.cmd["cursor"].as_document().value_or(bson::view());
  const auto batch = cursor["batchSize"].as_integer().value_or(INT64_MAX);
  reply_with_cursor(op, reply, std::string(results_ns), std::move(items), batch, false);
  append_counts(reply, counts);
}

}  // namespace mongowire::testd
