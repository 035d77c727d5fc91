// Makes a traced conversation reproducible for docs/protocol.md: each frame is re-encoded
// with its volatile values replaced by stable ones of the same type. Request ids count from
// 1 per side (responseTo follows), session ids become 00000000-0000-4000-8000-00000000000N in
// order of appearance, timestamps become Timestamp(1700000000, N) (equal stays equal, order
// is kept), dates a fixed instant, connectionId and processId their order of appearance, the
// server's address 127.0.0.1:27017, and the client metadata that names the build machine
// (client.os, client.platform) a placeholder. Everything else is kept as it was sent.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mongowire/bson.hpp"

namespace mongowire::tools {

class frame_normalizer {
 public:
  // `server_address`: "127.0.0.1:<port>" as the server advertises itself.
  explicit frame_normalizer(std::string server_address);

  // The frame re-encoded (OP_MSG, OP_QUERY or OP_REPLY); empty when it cannot be parsed.
  std::vector<std::uint8_t> normalize(std::span<const std::uint8_t> frame);
  // A document on its own (e.g. for prose next to the frames).
  bson::document normalize_document(bson::view in);

 private:
  void copy_fields(bson::view in, bson::document& out, const std::string& path);
  void copy_value(const bson::element& e, bson::document& out, const std::string& path);
  bool copy_volatile(const bson::element& e, bson::document& out, const std::string& path);
  std::int32_t request_id(std::int32_t id, bool from_client);
  std::vector<std::uint8_t> normalize_op_msg(std::span<const std::uint8_t> frame);
  std::vector<std::uint8_t> normalize_legacy(std::span<const std::uint8_t> frame);

  std::string server_address_;
  std::map<std::string, std::uint8_t> session_ids_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> timestamps_;
  std::map<std::int64_t, std::int64_t> connection_ids_;
  std::map<std::string, std::uint8_t> process_ids_;
  std::map<std::int32_t, std::int32_t> client_ids_, server_ids_;
};

}  // namespace mongowire::tools
