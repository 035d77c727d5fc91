// Connection strings in logs, traces and reports, without their secret.
#pragma once

#include <string>
#include <string_view>

namespace mongowire::tools {

// `uri` with the password of its user information and the values of secret options
// (tlsCertificateKeyFilePassword, proxyPassword) replaced by "****"
// ("mongodb://ada:****@host/"); unchanged when it has none.
std::string mask_password(std::string_view uri);

}  // namespace mongowire::tools
