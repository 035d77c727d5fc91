// The state of a session's transaction (transactions.md "ClientSession changes"). One
// declaration, shared by the public session API and the sans-I/O state machine.
#pragma once

#include <string_view>

namespace mongowire {

enum class transaction_state { none, starting, in_progress, committed, committed_empty, aborted };

std::string_view to_string(transaction_state s) noexcept;

}  // namespace mongowire
