// Transaction options and the rules about them (transactions.md "TransactionOptions"):
// where each option comes from, which write concern commit uses on a retry, and which
// combinations are refused. Read/write concerns and read preferences are kept in their
// server form (BSON documents) because they are sent as-is.
#pragma once

#include <cstdint>
#include <optional>

#include "mongowire/bson.hpp"
#include "mongowire/options.hpp"

namespace mongowire::detail {

using transaction_options = mongowire::transaction_options;  // public: mongowire/options.hpp

// Each option from the first level that sets it: the options given to startTransaction,
// then the session's defaultTransactionOptions, then the client
// (transactions.md, "readConcern" / "writeConcern" / "readPreference" / "maxCommitTimeMS").
transaction_options resolve_transaction_options(const std::optional<transaction_options>& given,
                                                const std::optional<transaction_options>& session_defaults,
                                                const transaction_options& client_defaults);

// read-write-concern.md: unacknowledged means w:0 without j:true.
bool is_unacknowledged(bson::view write_concern) noexcept;

// An absent read preference means primary (the default mode).
bool is_primary(const std::optional<bson::document>& read_preference) noexcept;

// True when the document carries nothing: the server default, which is never sent.
bool is_server_default(const std::optional<bson::document>& concern) noexcept;

// transactions.md, "writeConcern for commitTransaction attempts": w:"majority", other fields
// of the transaction's write concern kept, and wtimeout 10000 when none was given.
bson::document commit_retry_write_concern(const std::optional<bson::document>& transaction_write_concern);

inline constexpr std::int32_t commit_retry_wtimeout_ms = 10000;

}  // namespace mongowire::detail
