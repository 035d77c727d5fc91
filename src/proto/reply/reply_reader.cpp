#include "proto/reply/reply_reader.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace mongowire::detail {

error_code reply_reader::invalid(std::string_view path, std::string_view problem) {
  diag_.server_code = 0;
  diag_.client_message = fmt::format("invalid reply: field '{}' {}", path, problem);
  diag_.reply = bson::document(reply_);
  return client_errc::invalid_reply;
}

error_code reply_reader::missing(std::string_view path) { return invalid(path, "is missing"); }

error_code reply_reader::wrong_type(std::string_view path, const bson::element& e, std::string_view expected) {
  return invalid(path, fmt::format("has type {}, expected {}", bson::type_name(e.type()), expected));
}

error_code reply_reader::server_error(error_code ec) {
  diag_.reply = bson::document(reply_);
  return ec;
}

std::optional<std::int64_t> integral_int64(const bson::element& e) noexcept {
  if (auto i = e.as_int64()) return i;  // int32 or int64
  auto d = e.as_double();
  // 2^63 is exactly representable; anything at or beyond it does not fit.
  if (!d || std::trunc(*d) != *d || !(*d >= -9223372036854775808.0 && *d < 9223372036854775808.0)) return std::nullopt;
  return static_cast<std::int64_t>(*d);
}

std::optional<std::int32_t> integral_int32(const bson::element& e) noexcept {
  auto v = integral_int64(e);
  if (!v || *v < std::numeric_limits<std::int32_t>::min() || *v > std::numeric_limits<std::int32_t>::max())
    return std::nullopt;
  return static_cast<std::int32_t>(*v);
}

error_code read_error_labels(reply_reader& r, const bson::element& labels, std::string_view path, label_set& out) {
  auto array = labels.as_array();
  if (!array) return r.wrong_type(path, labels, "array of strings");
  std::size_t index = 0;
  for (const bson::element& label : *array) {
    if (!label.is_string()) return r.wrong_type(fmt::format("{}[{}]", path, index), label, "string");
    ++index;
  }
  for (const bson::element& label : *array) out.add(*label.as_string());
  return {};
}

error_code read_optional_string(reply_reader& r, bson::view doc, std::string_view key, std::string_view path,
                                std::optional<std::string_view>& out) {
  bson::element e = doc.find(key);
  if (!e) return {};
  if (!e.is_string()) return r.wrong_type(path, e, "string");
  out = e.as_string();
  return {};
}

}  // namespace mongowire::detail
