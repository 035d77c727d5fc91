#include "core/command_error.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace mongowire::testd {
namespace {

// Subset of src/mongo/base/error_codes.yml (7.0): every code the server raises itself
// plus those the driver spec tests inject through failCommand.
constexpr std::pair<std::int32_t, std::string_view> kNames[] = {
    {1, "InternalError"},
    {2, "BadValue"},
    {4, "NoSuchKey"},
    {6, "HostUnreachable"},
    {7, "HostNotFound"},
    {8, "UnknownError"},
    {9, "FailedToParse"},
    {11, "UserNotFound"},
    {13, "Unauthorized"},
    {14, "TypeMismatch"},
    {16, "InvalidLength"},
    {17, "ProtocolError"},
    {18, "AuthenticationFailed"},
    {20, "IllegalOperation"},
    {24, "LockTimeout"},
    {26, "NamespaceNotFound"},
    {27, "IndexNotFound"},
    {40, "ConflictingUpdateOperators"},
    {43, "CursorNotFound"},
    {46, "LockBusy"},
    {48, "NamespaceExists"},
    {50, "MaxTimeMSExpired"},
    {51, "ManualInterventionRequired"},
    {52, "DollarPrefixedFieldName"},
    {53, "InvalidIdField"},
    {59, "CommandNotFound"},
    {63, "StaleShardVersion"},
    {64, "WriteConcernFailed"},
    {66, "ImmutableField"},
    {67, "CannotCreateIndex"},
    {68, "IndexAlreadyExists"},
    {72, "InvalidOptions"},
    {73, "InvalidNamespace"},
    {79, "UnknownReplWriteConcern"},
    {85, "IndexOptionsConflict"},
    {86, "IndexKeySpecsConflict"},
    {89, "NetworkTimeout"},
    {90, "CallbackCanceled"},
    {91, "ShutdownInProgress"},
    {96, "OperationFailed"},
    {100, "UnsatisfiableWriteConcern"},
    {112, "WriteConflict"},
    {115, "CommandNotSupported"},
    {117, "ConflictingOperationInProgress"},
    {121, "DocumentValidationFailure"},
    {123, "NotAReplicaSet"},
    {133, "FailedToSatisfyReadPreference"},
    {134, "ReadConcernMajorityNotAvailableYet"},
    {150, "StaleEpoch"},
    {186, "ClientMetadataCannotBeMutated"},
    {189, "PrimarySteppedDown"},
    {206, "NoSuchSession"},
    {217, "IncompleteTransactionHistory"},
    {225, "TransactionTooOld"},
    {234, "RetryChangeStream"},
    {237, "CursorKilled"},
    {239, "SnapshotTooOld"},
    {244, "TransactionAborted"},
    {246, "SnapshotUnavailable"},
    {249, "StaleDbVersion"},
    {250, "StaleChunkHistory"},
    {251, "NoSuchTransaction"},
    {256, "TransactionCommitted"},
    {257, "TransactionTooLarge"},
    {262, "ExceededTimeLimit"},
    {263, "OperationNotSupportedInTransaction"},
    {267, "PreparedTransactionInProgress"},
    {334, "MechanismUnavailable"},
    {9001, "SocketException"},
    {10107, "NotWritablePrimary"},
    {10334, "BSONObjectTooLarge"},
    {11000, "DuplicateKey"},
    {11600, "InterruptedAtShutdown"},
    {11601, "Interrupted"},
    {11602, "InterruptedDueToReplStateChange"},
    {13388, "StaleConfig"},
    {13435, "NotPrimaryNoSecondaryOk"},
    {13436, "NotPrimaryOrSecondary"},
};

// Category RetriableError in error_codes.yml.
constexpr std::int32_t kRetriable[] = {6, 7, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436};
// Category ShutdownError.
constexpr std::int32_t kShutdown[] = {91, 11600};
// Category NotPrimaryError alone.
constexpr std::int32_t kNotPrimary[] = {189, 10058, 10107, 11602, 13435, 13436};
// Categories SnapshotError and NeedRetargettingError.
constexpr std::int32_t kSnapshotOrRetarget[] = {63, 150, 239, 246, 250, 13388};

template <std::size_t N>
bool contains(const std::int32_t (&table)[N], std::int32_t code) {
  return std::find(std::begin(table), std::end(table), code) != std::end(table);
}

}  // namespace

std::string code_name(std::int32_t code) {
  for (auto& [c, name] : kNames)
    if (c == code) return std::string(name);
  return "Location" + std::to_string(code);
}

bool is_retriable_error(std::int32_t code) noexcept { return contains(kRetriable, code); }

bool is_shutdown_error(std::int32_t code) noexcept { return contains(kShutdown, code); }

bool is_not_primary_error(std::int32_t code) noexcept { return contains(kNotPrimary, code); }

bool is_transient_transaction_error(std::int32_t code, bool has_write_concern_error, bool is_commit_or_abort) noexcept {
  switch (code) {
    case 112:  // WriteConflict
    case 24:   // LockTimeout
    case 267:  // PreparedTransactionInProgress
    case 249:  // StaleDbVersion
      return true;
    default: break;
  }
  if (contains(kSnapshotOrRetarget, code)) return true;
  if (is_commit_or_abort) return code == 251 && !has_write_concern_error;
  return is_retriable_error(code) || code == 251;
}

}  // namespace mongowire::testd
