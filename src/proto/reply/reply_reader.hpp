// Shared helpers of the reply parsers: typed reads that turn a wrong or missing field
// into client_errc::invalid_reply with a message naming the field. Messages (and the
// copy of the reply kept in diagnostics) are only built on the error path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"

namespace mongowire::detail {

class reply_reader {
 public:
  reply_reader(bson::view reply, diagnostics& diag) noexcept : reply_(reply), diag_(diag) {}

  bson::view reply() const noexcept { return reply_; }
  diagnostics& diag() noexcept { return diag_; }

  // "invalid reply: field '<path>' <problem>"; also keeps a copy of the reply.
  error_code invalid(std::string_view path, std::string_view problem);
  error_code missing(std::string_view path);
  error_code wrong_type(std::string_view path, const bson::element& e, std::string_view expected);

  // Marks `ec` as the outcome of a server error: keeps a copy of the reply.
  error_code server_error(error_code ec);

 private:
  bson::view reply_;
  diagnostics& diag_;
};

// Integral numbers in any numeric BSON type (int32, int64, or a double without
// fraction), as servers and mongos do not always agree on the width. nullopt when the
// element is not a number, has a fraction, or does not fit.
std::optional<std::int32_t> integral_int32(const bson::element& e) noexcept;
std::optional<std::int64_t> integral_int64(const bson::element& e) noexcept;

// Checks that `labels` (the element at `path`) is an array of strings, then adds them to
// `out`. Nothing is added when any entry is wrong.
error_code read_error_labels(reply_reader& r, const bson::element& labels, std::string_view path, label_set& out);

// Optional string field: missing -> nullopt and no error; wrong type -> invalid_reply.
error_code read_optional_string(reply_reader& r, bson::view doc, std::string_view key, std::string_view path,
                                std::optional<std::string_view>& out);

}  // namespace mongowire::detail
