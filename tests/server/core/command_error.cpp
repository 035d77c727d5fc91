#include "core/command_error.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace mongowire::testd {
namespace {

// Category RetriableError in error_codes.yml.
constexpr std::int32_t kRetriable[] = {code::host_unreachable,
                                       code::host_not_found,
                                       code::network_timeout,
                                       code::shutdown_in_progress,
                                       code::read_concern_majority_not_available_yet,
                                       code::primary_stepped_down,
                                       code::exceeded_time_limit,
                                       code::socket_exception,
                                       code::not_writable_primary,
                                       code::interrupted_at_shutdown,
                                       code::interrupted_due_to_repl_state_change,
                                       code::not_primary_no_secondary_ok,
                                       code::not_primary_or_secondary};
// Category ShutdownError.
constexpr std::int32_t kShutdown[] = {code::shutdown_in_progress, code::interrupted_at_shutdown};
// Category NotPrimaryError alone.
constexpr std::int32_t kNotPrimary[] = {code::primary_stepped_down,        code::legacy_not_primary,
                                        code::not_writable_primary,        code::interrupted_due_to_repl_state_change,
                                        code::not_primary_no_secondary_ok, code::not_primary_or_secondary};
// Categories SnapshotError and NeedRetargettingError.
constexpr std::int32_t kSnapshotOrRetarget[] = {code::stale_shard_version, code::stale_epoch,
                                                code::snapshot_too_old,    code::snapshot_unavailable,
                                                code::stale_chunk_history, code::stale_config};

template <std::size_t N>
bool contains(const std::int32_t (&table)[N], std::int32_t code) {
  return std::find(std::begin(table), std::end(table), code) != std::end(table);
}

}  // namespace

std::string code_name(std::int32_t code) {
  if (auto name = server_code_name(code); !name.empty()) return std::string(name);
  return "Location" + std::to_string(code);
}

bool is_retriable_error(std::int32_t code) noexcept { return contains(kRetriable, code); }

bool is_shutdown_error(std::int32_t code) noexcept { return contains(kShutdown, code); }

bool is_not_primary_error(std::int32_t code) noexcept { return contains(kNotPrimary, code); }

bool is_transient_transaction_error(std::int32_t code, bool has_write_concern_error, bool is_commit_or_abort) noexcept {
  switch (code) {
    case server_code::write_conflict:
    case server_code::lock_timeout:
    case server_code::prepared_transaction_in_progress:
    case server_code::stale_db_version: return true;
    default: break;
  }
  if (contains(kSnapshotOrRetarget, code)) return true;
  if (is_commit_or_abort) return code == server_code::no_such_transaction && !has_write_concern_error;
  return is_retriable_error(code) || code == server_code::no_such_transaction;
}

}  // namespace mongowire::testd
