// The "?key=value&..." part of a connection string: option table, value types, and the rules
// that involve several options (uri-options.md, connection-string-spec.md "Values").
#pragma once

#include <string>
#include <string_view>

#include "mongowire/uri.hpp"

namespace mongowire::detail::uri {

// Parses the (still percent-encoded) query into `out`. Returns false with `why` set on an error.
bool apply_uri_options(std::string_view query, connection_string& out, const uri_parse_settings& settings,
                       std::string& why);

// Rules spanning several options and the host list; run after all options are applied.
bool validate_option_combinations(const connection_string& cs, std::string& why);

}  // namespace mongowire::detail::uri
