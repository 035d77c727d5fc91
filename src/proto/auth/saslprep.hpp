// SASLprep (RFC 4013, the "SASLprep" profile of stringprep, RFC 3454) through libidn: the
// normalisation SCRAM-SHA-256 applies to passwords (auth.md, SCRAM-SHA-256: "Passwords MUST
// be prepared with SASLprep"; user names MUST NOT be).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mongowire::detail::auth {

// The prepared form of `text` (UTF-8), treated as a stored string (RFC 3454 section 7:
// unassigned code points are refused). nullopt when `text` is not valid UTF-8 or holds a
// prohibited character (control characters, RFC 3454 C.1.2 to C.9) or breaks the
// bidirectional rules; `why` then says which, without repeating the text (it is a secret).
std::optional<std::string> saslprep(std::string_view text, std::string& why);

}  // namespace mongowire::detail::auth
