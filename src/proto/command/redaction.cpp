#include "proto/command/redaction.hpp"

#include <algorithm>
#include <cctype>

namespace mongowire::detail {

namespace {

// Command names are matched without regard to case: legacy hello has two casings
// (isMaster, ismaster) and a redaction too many is harmless, one too few leaks a secret.
bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

}  // namespace

bool is_sensitive_command(std::string_view name, bson::view command) noexcept {
  static constexpr std::string_view always[] = {"authenticate",   "saslStart",       "saslContinue",
                                                "getnonce",       "createUser",      "updateUser",
                                                "copydbgetnonce", "copydbsaslstart", "copydb"};
  for (auto n : always)
    if (iequals(name, n)) return true;
  // "hello (or legacy hello) when speculativeAuthenticate is present".
  if (iequals(name, "hello") || iequals(name, "ismaster")) return command.contains("speculativeAuthenticate");
  return false;
}

diagnostics redacted_failure(const diagnostics& diag) {
  diagnostics out;
  out.server_code = diag.server_code;
  out.code_name = diag.code_name;
  out.labels = diag.labels;
  return out;
}

}  // namespace mongowire::detail
