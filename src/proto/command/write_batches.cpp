#include "proto/command/write_batches.hpp"

#include <algorithm>
#include <unordered_set>

namespace mongowire::detail {

std::size_t max_statement_size(std::string_view command_name, const write_limits& limits) noexcept {
  const auto object = static_cast<std::size_t>(std::max(limits.max_bson_object_size, 0));
  return command_name == "insert" ? object : object + command_fields_allowance;
}

std::size_t next_batch_count(std::span<const std::size_t> statement_sizes, std::size_t body_size,
                             std::string_view sequence_field, const write_limits& limits) noexcept {
  // MsgHeader (16) + flagBits (4) + kind 0 (1 + body) + kind 1 (1 + size 4 + identifier + NUL).
  const std::size_t fixed = 16 + 4 + 1 + body_size + 1 + 4 + sequence_field.size() + 1 + command_fields_allowance;
  const auto max_message = static_cast<std::size_t>(std::max(limits.max_message_size_bytes, 0));
  const auto max_count = static_cast<std::size_t>(std::max(limits.max_write_batch_size, 1));
  std::size_t total = fixed, n = 0;
  while (n < statement_sizes.size() && n < max_count) {
    total += statement_sizes[n];
    if (n > 0 && total > max_message) break;  // the first always goes: its size was checked
    ++n;
  }
  return std::max<std::size_t>(n, statement_sizes.empty() ? 0 : 1);
}

void copy_with_statements(bson::view body, std::string_view field, std::size_t first, std::size_t count,
                          bson::document& out) {
  out.clear();
  for (const auto& e : body) {
    if (e.key() != field || !e.is_array()) {
      out.append(e.key(), e);
      continue;
    }
    bson::array_builder statements;
    const bson::view all = *e.as_array();
    std::size_t i = 0;
    for (const auto& s : all) {
      if (i >= first && i < first + count) statements.push(s);
      ++i;
    }
    out.append_array(field, statements.get_view());
  }
}

// ---------------------------------------------------------------- client bulk write

std::size_t ns_info_entry_size(std::string_view ns) noexcept {
  // int32 size, type byte, "ns\0", int32 string length, the bytes, their NUL, the document's NUL.
  return 4 + 1 + 3 + 4 + ns.size() + 1 + 1;
}

std::vector<std::size_t> client_write_entry_sizes(std::span<const client_write> writes) {
  std::vector<std::size_t> sizes;
  sizes.reserve(writes.size());
  bson::document scratch;
  for (const client_write& w : writes) {
    build_client_write_entry(scratch, w, 0);
    sizes.push_back(scratch.size());
  }
  return sizes;
}

std::size_t next_client_bulk_write_count(std::span<const client_write> writes, std::span<const std::size_t> entry_sizes,
                                         std::size_t head_size, const write_limits& limits) {
  const auto max_message = static_cast<std::size_t>(std::max(limits.max_message_size_bytes, 0));
  const auto max_count = static_cast<std::size_t>(std::max(limits.max_write_batch_size, 1));
  if (max_message < client_bulk_write_message_overhead + head_size) return 0;
  const std::size_t budget = max_message - client_bulk_write_message_overhead - head_size;
  std::unordered_set<std::string_view> namespaces;
  std::size_t used = 0, n = 0;
  while (n < writes.size() && n < max_count) {
    const bool new_namespace = !namespaces.contains(writes[n].ns);
    const std::size_t added = entry_sizes[n] + (new_namespace ? ns_info_entry_size(writes[n].ns) : 0);
    if (used + added > budget) break;
    used += added;
    if (new_namespace) namespaces.insert(writes[n].ns);
    ++n;
  }
  return n;
}

}  // namespace mongowire::detail
