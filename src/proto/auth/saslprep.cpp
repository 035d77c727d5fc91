#include "proto/auth/saslprep.hpp"

#include <openssl/crypto.h>
#include <stringprep.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "proto/auth/crypto.hpp"

namespace mongowire::detail::auth {

std::optional<std::string> saslprep(std::string_view text, std::string& why) {
  // libidn reads a NUL-terminated string; U+0000 is a prohibited control character anyway
  // (RFC 3454 C.2.1).
  if (text.find('\0') != std::string_view::npos) {
    why = "SASLprep: the string contains a prohibited character (NUL)";
    return std::nullopt;
  }
  std::string input(text);
  char* prepared = nullptr;
  const int rc = stringprep_profile(input.c_str(), &prepared, "SASLprep", STRINGPREP_NO_UNASSIGNED);
  wipe(input);
  // The C buffer holds the secret too: overwritten before it is freed.
  auto release = [](char* p) {
    if (p) OPENSSL_cleanse(p, std::strlen(p));
    std::free(p);
  };
  std::unique_ptr<char, decltype(release)> owner(prepared, release);
  if (rc != STRINGPREP_OK || !prepared) {
    why = std::string("SASLprep: ") + stringprep_strerror(static_cast<Stringprep_rc>(rc));
    return std::nullopt;
  }
  return std::string(prepared);
}

}  // namespace mongowire::detail::auth
