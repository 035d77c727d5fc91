#include "mask_password.hpp"

#include <array>
#include <cctype>

namespace mongowire::tools {

namespace {

bool is_secret_option(std::string_view key) {
  // The options whose values are secrets (uri-options.md; socks5.md).
  static constexpr std::array<std::string_view, 2> secrets{"tlscertificatekeyfilepassword", "proxypassword"};
  std::string lower;
  for (char c : key) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto s : secrets)
    if (lower == s) return true;
  return false;
}

// The password of the user information: it ends at the last '@' before the options, so it is
// masked even when it holds an unencoded '/' (an invalid string is printed before it is parsed).
void mask_user_password(std::string& uri, std::size_t authority_start) {
  const auto authority_end = uri.find('?', authority_start);
  const auto authority = std::string_view(uri).substr(authority_start, authority_end - authority_start);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return;
  const auto colon = authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return;
  uri.replace(authority_start + colon + 1, at - colon - 1, "****");
}

void mask_secret_options(std::string& uri) {
  auto pos = uri.find('?');
  while (pos != std::string::npos) {
    const auto start = pos + 1;
    const auto end = uri.find('&', start);
    const auto eq = uri.find('=', start);
    const auto pair_end = end == std::string::npos ? uri.size() : end;
    if (eq != std::string::npos && eq < pair_end && is_secret_option(std::string_view(uri).substr(start, eq - start)))
      uri.replace(eq + 1, pair_end - eq - 1, "****");
    pos = uri.find('&', start);
  }
}

}  // namespace

std::string mask_password(std::string_view uri) {
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return std::string(uri);
  std::string masked(uri);
  mask_user_password(masked, scheme_end + 3);
  mask_secret_options(masked);
  return masked;
}

}  // namespace mongowire::tools
