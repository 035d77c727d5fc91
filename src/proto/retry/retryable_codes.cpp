#include "proto/retry/retryable_codes.hpp"

#include <algorithm>
#include <array>

#include "mongowire/error.hpp"

namespace mongowire::detail {
namespace {

namespace sc = server_code;

constexpr std::array<std::int32_t, 12> write_codes{
    sc::interrupted_at_shutdown,  sc::interrupted_due_to_repl_state_change,
    sc::not_writable_primary,     sc::not_primary_no_secondary_ok,
    sc::not_primary_or_secondary, sc::primary_stepped_down,
    sc::shutdown_in_progress,     sc::host_not_found,
    sc::host_unreachable,         sc::network_timeout,
    sc::socket_exception,         sc::exceeded_time_limit,
};

constexpr std::int32_t read_concern_majority_not_available_yet = 134;

constexpr auto make_read_codes() {
  std::array<std::int32_t, write_codes.size() + 1> out{};
  std::copy(write_codes.begin(), write_codes.end(), out.begin());
  out.back() = read_concern_majority_not_available_yet;
  return out;
}
constexpr auto read_codes = make_read_codes();

template <std::size_t N>
bool contains(const std::array<std::int32_t, N>& list, std::int32_t code) noexcept {
  return std::find(list.begin(), list.end(), code) != list.end();
}

bool truthy(const bson::element& e) noexcept {
  auto b = e.as_truthy();
  return b && *b;
}

}  // namespace

std::span<const std::int32_t> retryable_write_codes() noexcept { return write_codes; }
bool is_retryable_write_code(std::int32_t code) noexcept { return contains(write_codes, code); }
std::span<const std::int32_t> retryable_read_codes() noexcept { return read_codes; }
bool is_retryable_read_code(std::int32_t code) noexcept { return contains(read_codes, code); }

bool is_multi_document_statement(std::string_view command_name, bson::view statement) noexcept {
  if (command_name == "update") return truthy(statement.find("multi"));
  if (command_name == "delete") {
    auto limit = statement.find("limit").as_number();
    return limit && *limit == 0;
  }
  if (command_name == "bulkWrite") {
    // client-level bulkWrite ops: {update: ns, ..., multi: true} / {delete: ns, ..., multi: true}
    const bool writes_many = statement.contains("update") || statement.contains("delete");
    return writes_many && truthy(statement.find("multi"));
  }
  return false;
}

bool is_retryable_write_command(std::string_view command_name, std::span<const bson::view> statements,
                                bool acknowledged) noexcept {
  constexpr std::array<std::string_view, 5> supported{"insert", "update", "delete", "findAndModify", "bulkWrite"};
  if (!acknowledged)
    return false;  // "Write commands specifying an unacknowledged write concern ... do not support retryable behavior"
  if (std::find(supported.begin(), supported.end(), command_name) == supported.end()) return false;
  return std::none_of(statements.begin(), statements.end(),
                      [&](bson::view s) { return is_multi_document_statement(command_name, s); });
}

}  // namespace mongowire::detail
