#include "frame_normalizer.hpp"

#include <array>

#include "proto/wire/legacy.hpp"
#include "proto/wire/op_msg.hpp"

namespace mongowire::tools {

namespace wire = detail::wire;

namespace {
constexpr std::string_view stable_address = "127.0.0.1:27017";
constexpr std::int64_t stable_date_ms = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  if (from.empty()) return text;
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// Values that name the build machine rather than the protocol.
bool is_machine_metadata(const std::string& path) {
  return path.starts_with("client.os.") || path == "client.platform";
}
}  // namespace

frame_normalizer::frame_normalizer(std::string server_address) : server_address_(std::move(server_address)) {}

std::int32_t frame_normalizer::request_id(std::int32_t id, bool from_client) {
  auto& ids = from_client ? client_ids_ : server_ids_;
  return ids.try_emplace(id, static_cast<std::int32_t>(ids.size() + 1)).first->second;
}

// Session ids, times and ids given out by the server: same type, stable value.
bool frame_normalizer::copy_volatile(const bson::element& e, bson::document& out, const std::string& path) {
  const auto key = e.key();
  if (auto bin = e.as_binary(); bin && bin->subtype == BSON_SUBTYPE_UUID && bin->bytes.size() == 16) {
    const std::string raw(bin->bytes.begin(), bin->bytes.end());
    const auto n = session_ids_.try_emplace(raw, static_cast<std::uint8_t>(session_ids_.size() + 1)).first->second;
    std::array<std::uint8_t, 16> uuid{0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, n};
    out.append(key, bson::binary_ref{BSON_SUBTYPE_UUID, uuid});
  } else if (auto ts = e.as_timestamp()) {
    const auto n = timestamps_.try_emplace({ts->t, ts->i}, static_cast<std::uint32_t>(timestamps_.size() + 1));
    out.append(key, bson::timestamp{1'700'000'000, n.first->second});
  } else if (e.type() == BSON_TYPE_DATE_TIME) {
    out.append_date(key, stable_date_ms);
  } else if (key == "processId" && e.as_oid()) {
    const auto n = process_ids_.try_emplace(e.as_oid()->to_hex(), static_cast<std::uint8_t>(process_ids_.size() + 1));
    bson::object_id id{};
    id.bytes[11] = n.first->second;
    out.append(key, id);
  } else if (key == "connectionId" && e.as_integer()) {
    const auto n = connection_ids_.try_emplace(*e.as_integer(), static_cast<std::int64_t>(connection_ids_.size() + 1));
    if (e.type() == BSON_TYPE_INT32) out.append(key, static_cast<std::int32_t>(n.first->second));
    else out.append(key, n.first->second);
  } else if (is_machine_metadata(path) && e.is_string()) {
    out.append(key, "(build machine)");
  } else {
    return false;
  }
  return true;
}

void frame_normalizer::copy_value(const bson::element& e, bson::document& out, const std::string& path) {
  if (copy_volatile(e, out, path)) return;
  if (e.is_document() || e.is_array()) {
    bson::document child;
    copy_fields(e.is_document() ? *e.as_document() : *e.as_array(), child, path + ".");
    if (e.is_document()) out.append(e.key(), child);
    else out.append_array(e.key(), child);
  } else if (auto s = e.as_string(); s && !server_address_.empty()) {
    out.append(e.key(), replace_all(std::string(*s), server_address_, stable_address));
  } else {
    out.append(e.key(), e);
  }
}

void frame_normalizer::copy_fields(bson::view in, bson::document& out, const std::string& path) {
  for (const bson::element& e : in) copy_value(e, out, path + std::string(e.key()));
}

bson::document frame_normalizer::normalize_document(bson::view in) {
  bson::document out;
  copy_fields(in, out, "");
  return out;
}

std::vector<std::uint8_t> frame_normalizer::normalize_op_msg(std::span<const std::uint8_t> frame) {
  wire::op_msg_view msg;
  if (wire::op_msg_view::parse(frame, msg)) return {};
  const bool from_client = msg.header().response_to == 0;
  const std::int32_t id = request_id(msg.header().request_id, from_client);
  const std::int32_t response_to = from_client ? 0 : request_id(msg.header().response_to, true);
  std::vector<std::uint8_t> out;
  wire::op_msg_encoder enc(out);
  enc.begin(id, response_to, msg.flag_bits() & ~wire::msg_flag::checksum_present);
  const bson::document body = normalize_document(msg.body());
  enc.body(body);
  for (const wire::document_sequence& seq : msg.sequences()) {
    std::vector<bson::document> docs;
    for (bson::view d : seq) docs.push_back(normalize_document(d));
    const std::vector<bson::view> views(docs.begin(), docs.end());
    enc.add_sequence(seq.identifier(), views);
  }
  if (enc.finish(msg.checksum_present())) return {};
  return out;
}

std::vector<std::uint8_t> frame_normalizer::normalize_legacy(std::span<const std::uint8_t> frame) {
  std::vector<std::uint8_t> out;
  wire::op_query_view q;
  if (!wire::parse_op_query(frame, q)) {
    const bson::document query = normalize_document(q.query);
    if (wire::encode_op_query(out, request_id(q.header.request_id, true), q.full_collection_name, q.flags,
                              q.number_to_skip, q.number_to_return, query))
      return {};
    return out;
  }
  wire::op_reply_view r;
  if (wire::parse_op_reply(frame, r)) return {};
  const bson::document doc = normalize_document(r.first_document);
  wire::encode_op_reply(out, request_id(r.header.request_id, false), request_id(r.header.response_to, true), doc,
                        r.response_flags);
  return out;
}

std::vector<std::uint8_t> frame_normalizer::normalize(std::span<const std::uint8_t> frame) {
  if (frame.size() < wire::header_size) return {};
  const auto op_code = wire::read_header(frame.data()).op_code;
  if (op_code == static_cast<std::int32_t>(wire::opcode::msg)) return normalize_op_msg(frame);
  return normalize_legacy(frame);
}

}  // namespace mongowire::tools
