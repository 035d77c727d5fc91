#include "mask_password.hpp"

namespace mongowire::tools {

std::string mask_password(std::string_view uri) {
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return std::string(uri);
  const auto authority_start = scheme_end + 3;
  // The user information ends at the last '@' before the options: a password is masked even
  // when it holds an unencoded '/' (an invalid string is printed before it is parsed).
  const auto authority_end = uri.find('?', authority_start);
  const auto authority = uri.substr(authority_start, authority_end - authority_start);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(uri);
  const auto colon = authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return std::string(uri);
  std::string masked(uri);
  masked.replace(authority_start + colon + 1, at - colon - 1, "****");
  return masked;
}

}  // namespace mongowire::tools
