// Redaction of sensitive commands in command monitoring (command-logging-and-monitoring.md,
// "Security"): the events of these commands must not leak credentials or nonces.
#pragma once

#include <string_view>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"

namespace mongowire::detail {

// True for authenticate, saslStart, saslContinue, getnonce, createUser, updateUser,
// copydbgetnonce, copydbsaslstart, copydb, and hello / legacy hello (either casing) when the
// command carries speculativeAuthenticate. Such a command's started event carries an empty
// command and its succeeded event an empty reply.
bool is_sensitive_command(std::string_view name, bson::view command) noexcept;

// The failure of a sensitive command as its failed event may show it: only code, codeName
// and errorLabels survive ("all fields besides the following redacted").
diagnostics redacted_failure(const diagnostics& diag);

}  // namespace mongowire::detail
