// Percent-encoding (RFC 3986, section 2.1) for connection strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mongowire::detail::uri {

// Decodes %XX escapes. `part` names the component for the error message ("user name",
// "host", "option 'appName'"). Fails on a '%' not followed by two hex digits and on an
// encoded NUL byte (it would truncate the value wherever a C string is made of it).
// '+' is left as is: the connection string spec recommends %20 for spaces.
std::optional<std::string> percent_decode(std::string_view text, std::string_view part, std::string& why);

// Encodes everything but RFC 3986 "unreserved" characters, for to_string().
std::string percent_encode(std::string_view text);

}  // namespace mongowire::detail::uri
