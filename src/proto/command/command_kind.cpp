#include "proto/command/command_kind.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "proto/retry/retryable_codes.hpp"

namespace mongowire::detail {
namespace {

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& names, std::string_view name) noexcept {
  return std::find(names.begin(), names.end(), name) != names.end();
}

constexpr std::array<std::string_view, 4> read_concern_reads{"find", "aggregate", "distinct", "count"};
constexpr std::array<std::string_view, 3> enumeration_reads{"listDatabases", "listCollections", "listIndexes"};
constexpr std::array<std::string_view, 4> writes{"insert", "update", "delete", "findAndModify"};
constexpr std::array<std::string_view, 8> ddl{"create",      "drop",    "dropDatabase",     "createIndexes",
                                              "dropIndexes", "collMod", "renameCollection", "createSearchIndexes"};

// retryable-writes.md "Supported Write Operations": one multi-document statement (update
// with multi: true, delete with limit: 0) makes the whole command not retryable. No
// allocation: this runs for every write.
bool has_multi_document_statement(std::string_view name, bson::view body) noexcept {
  const auto field = name == "update" ? "updates" : name == "delete" ? "deletes" : "";
  auto array = body[field].as_array();
  if (!array) return false;
  for (const auto& e : *array)
    if (auto d = e.as_document(); d && is_multi_document_statement(name, *d)) return true;
  return false;
}

}  // namespace

bool pipeline_writes(bson::view pipeline) noexcept {
  bson::element last;
  for (const auto& stage : pipeline) last = stage;
  auto d = last.as_document();
  return d && (d->first_key() == "$out" || d->first_key() == "$merge");
}

command_kind classify_command(bson::view body) noexcept {
  command_kind k;
  if (body.empty()) return k;
  const std::string_view name = body.first_key();
  if (name == "aggregate") {
    const bool writing = pipeline_writes(body["pipeline"].as_array().value_or(bson::view()));
    k.takes_read_concern = true;
    k.takes_write_concern = writing;
    k.family = writing ? retry_family::other : retry_family::read;
  } else if (one_of(read_concern_reads, name)) {
    k.takes_read_concern = true;
    k.family = retry_family::read;
  } else if (one_of(enumeration_reads, name)) {
    k.family = retry_family::read;
  } else if (one_of(writes, name)) {
    k.takes_write_concern = true;
    k.family = has_multi_document_statement(name, body) ? retry_family::other : retry_family::write;
  } else if (one_of(ddl, name)) {
    k.takes_write_concern = true;
  }
  return k;
}

}  // namespace mongowire::detail
