// Client entity connection strings (unified-test-format.md, "client": uriOptions).
#pragma once

#include <string>

#include "mongowire/bson.hpp"
#include "value.hpp"

namespace mongowire::spec {

// `base` with every field of `options` added as a URI option; an option already in `base`
// is replaced ("Any keys in this object MUST override conflicting keys in the connection
// string"). Arrays (readPreferenceTags) become repeated options. Throws runner_error for a
// $$placeholder or a value that cannot be written into a URI.
std::string uri_with_options(const std::string& base, bson::view options);

}  // namespace mongowire::spec
