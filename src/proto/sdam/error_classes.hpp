// Server error classes of server-discovery-and-monitoring.md, "not writable primary" and
// "node is recovering". Shared by SDAM error handling and the retry rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "mongowire/error.hpp"

namespace mongowire::detail::sdam {

// "node is recovering": InterruptedAtShutdown, InterruptedDueToReplStateChange,
// NotPrimaryOrSecondary, PrimarySteppedDown, ShutdownInProgress.
constexpr bool is_node_recovering_error(std::int32_t code) noexcept {
  using namespace server_code;
  return code == interrupted_at_shutdown || code == interrupted_due_to_repl_state_change ||
         code == not_primary_or_secondary || code == primary_stepped_down || code == shutdown_in_progress;
}

// "not writable primary": NotWritablePrimary, NotPrimaryNoSecondaryOk, LegacyNotPrimary.
constexpr bool is_not_primary_error(std::int32_t code) noexcept {
  using namespace server_code;
  return code == not_writable_primary || code == not_primary_no_secondary_ok || code == legacy_not_primary;
}

// "node is shutting down", the subset of "node is recovering" that clears the pool on any server.
constexpr bool is_shutdown_error(std::int32_t code) noexcept {
  return code == server_code::interrupted_at_shutdown || code == server_code::shutdown_in_progress;
}

// A State Change Error: "not writable primary" or "node is recovering".
constexpr bool is_state_change_error(std::int32_t code) noexcept {
  return is_not_primary_error(code) || is_node_recovering_error(code);
}

// Fallback when a reply has no code (SDAM, "use error messages to detect ..."): only then may
// the message be used.
constexpr bool is_node_recovering_message(std::string_view errmsg) noexcept {
  return errmsg.find("node is recovering") != std::string_view::npos ||
         errmsg.find("not master or secondary") != std::string_view::npos;
}
constexpr bool is_not_primary_message(std::string_view errmsg) noexcept {
  return !is_node_recovering_message(errmsg) && errmsg.find("not master") != std::string_view::npos;
}

// Code when present, message otherwise (SDAM: "If the response includes an error code, it
// MUST be solely used").
constexpr bool is_node_recovering(std::optional<std::int32_t> code, std::string_view errmsg) noexcept {
  return code ? is_node_recovering_error(*code) : is_node_recovering_message(errmsg);
}
constexpr bool is_not_primary(std::optional<std::int32_t> code, std::string_view errmsg) noexcept {
  return code ? is_not_primary_error(*code) : is_not_primary_message(errmsg);
}
constexpr bool is_state_change(std::optional<std::int32_t> code, std::string_view errmsg) noexcept {
  return is_node_recovering(code, errmsg) || is_not_primary(code, errmsg);
}

}  // namespace mongowire::detail::sdam
