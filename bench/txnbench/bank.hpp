// txnbench --workload bank (issue 14): a bank-transfer soak under injected faults and
// failovers, then a check that nothing was lost, duplicated or leaked. See README "Bank soak".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "histogram.hpp"
#include "options.hpp"

namespace txnbench::bank {

inline constexpr std::int64_t initial_balance = 1000;
inline constexpr const char* accounts_collection = "bank_accounts";
inline constexpr const char* transfers_collection = "bank_transfers";

// What --faults injects into a chosen transaction (all but contention through a failCommand
// fail point with times: 1, set just before the transaction).
enum class fault_kind { commit_close, statement_close, transient, unknown_commit, stall, contention };
inline constexpr std::size_t fault_kind_count = 6;
std::string_view to_string(fault_kind k) noexcept;

// What the client saw of each transfer it attempted, by transfer id.
struct outcomes {
  std::vector<std::int64_t> committed;
  std::vector<std::int64_t> aborted;     // definitively not committed (declined or failed with a definite answer)
  std::vector<std::int64_t> unknown;     // the commit's outcome stayed unknown after resolve_commit
  std::uint64_t declined = 0;            // the source account could not pay: aborted by the workload
  std::uint64_t failed = 0;              // gave up on an error that is not retried
  std::uint64_t resolved_by_commit = 0;  // unknown commit outcomes resolve_commit learned
  std::vector<std::string> first_errors;
  void merge(const outcomes& other);
};

struct fault_counts {
  std::array<std::uint64_t, fault_kind_count> injected{};  // fail points set (contention: hot transfers)
  std::uint64_t fired = 0;  // fail points the server reports having entered (same member before and after)
  std::uint64_t total() const noexcept;
};

// The end-of-run check (bank_check.cpp).
struct check_result {
  std::int64_t expected_total = 0, actual_total = 0;
  std::uint64_t negative_balances = 0;
  std::uint64_t ledger_mismatches = 0;                       // accounts whose balance is not seed + transfers in - out
  std::uint64_t lost = 0;                                    // committed, not present
  std::uint64_t duplicated = 0;                              // transfer ids present more than once
  std::uint64_t aborted_present = 0;                         // definitively aborted, yet present
  std::uint64_t phantom = 0;                                 // present, never attempted by the client
  std::uint64_t unknown_committed = 0, unknown_aborted = 0;  // unknown outcomes, resolved by reading
  std::uint64_t transfers_present = 0;
  std::uint64_t open_transactions = 0;  // serverStatus transactions.currentOpen, all members
  std::uint64_t client_sessions_in_use = 0;
  std::optional<std::uint64_t> leaked_connections;  // none: the server cannot say (--uri)
  std::vector<std::string> problems;                // each failed check, in words
  std::uint64_t leaked_sessions() const noexcept { return open_transactions + client_sessions_in_use; }
  bool ok() const noexcept { return problems.empty(); }
};

// Runs the whole soak (seed, transfers, check, report); returns the exit status.
int run_bank(const bench_options& o);

}  // namespace txnbench::bank
