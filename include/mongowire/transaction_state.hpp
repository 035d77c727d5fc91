// The state of a session's transaction (transactions.md "ClientSession changes"). One
// declaration, shared by the public session API and the sans-I/O state machine.
#pragma once

#include <string_view>

namespace mongowire {

// session::current_transaction_state(). Any command sent after a commit or an abort moves
// the session back to `none`.
enum class transaction_state {
  none,             // no transaction
  starting,         // start_transaction done, no command sent yet
  in_progress,      // a command of the transaction was sent
  committed,        // commitTransaction was sent, whatever its outcome (session::last_commit)
  committed_empty,  // committed without a command: nothing was sent
  aborted,          // abort_transaction (or an abort by with_transaction or the session's end)
};

std::string_view to_string(transaction_state s) noexcept;

}  // namespace mongowire
