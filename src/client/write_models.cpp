#include "client/write_models.hpp"

namespace mongowire::detail {

error_code check_update_document(bson::view update_doc, diagnostics& diag) {
  if (!update_doc.empty() && update_doc.first_key().starts_with('$')) return {};
  diag.client_message = "update document must contain only atomic modifiers (its first key must start with '$')";
  return client_errc::invalid_argument;
}

error_code check_replacement_document(bson::view replacement, diagnostics& diag) {
  if (replacement.empty() || !replacement.first_key().starts_with('$')) return {};
  diag.client_message = "replacement document must not contain atomic modifiers";
  return client_errc::invalid_argument;
}

bson::view with_id(bson::view doc, bson::document& staged, bson::document& id_out) {
  id_out.clear();
  if (auto id = doc["_id"]) {
    id_out.append("_id", id);
    return doc;
  }
  auto oid = bson::object_id::generate();
  staged.clear();
  staged.append("_id", oid);
  staged.concat(doc);
  id_out.append("_id", oid);
  return staged;
}

hint_value hint_of(const std::optional<index_hint>& hint) {
  if (!hint) return {};
  if (auto* name = std::get_if<std::string>(&*hint)) return std::string_view(*name);
  return std::get<bson::document>(*hint).get_view();
}

error_code prepare_write_model(write_model& model, diagnostics& diag) {
  using kind = write_model::kind;
  if (model.type == kind::replace_one) return check_replacement_document(model.update, diag);
  if ((model.type == kind::update_one || model.type == kind::update_many) && !model.update_is_pipeline)
    return check_update_document(model.update, diag);
  if (model.type != kind::insert_one) return {};
  bson::document id, staged;
  if (with_id(model.document, staged, id).data() == staged.data()) model.document = std::move(staged);
  return {};
}

write_limits write_limits_of(client_impl& client) {
  using sdam::server_type;
  write_limits limits;
  for (const auto& server : client.topology().description().servers()) {
    const auto t = server.type;
    if (t != server_type::rs_primary && t != server_type::standalone && t != server_type::mongos &&
        t != server_type::load_balancer)
      continue;
    limits.max_bson_object_size = server.max_bson_object_size;
    limits.max_message_size_bytes = server.max_message_size_bytes;
    limits.max_write_batch_size = server.max_write_batch_size;
    break;
  }
  return limits;
}

}  // namespace mongowire::detail
