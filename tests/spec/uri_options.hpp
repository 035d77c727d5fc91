// Client entity connection strings (unified-test-format.md, "client": uriOptions).
#pragma once

#include <string>
#include <vector>

#include "mongowire/bson.hpp"
#include "value.hpp"

namespace mongowire::spec {

// `base` with every field of `options` added as a URI option; an option already in `base`
// is replaced ("Any keys in this object MUST override conflicting keys in the connection
// string"). Arrays (readPreferenceTags) become repeated options. Throws runner_error for a
// $$placeholder or a value that cannot be written into a URI.
std::string uri_with_options(const std::string& base, bson::view options);

// `base` with its host list replaced by `hosts` ("h1:p1,h2:p2"), credentials and options
// kept: one mongos of a sharded deployment (useMultipleMongoses: false, targetedFailPoint).
std::string uri_with_hosts(const std::string& base, const std::string& hosts);
// The seed list of `base`, one "host:port" per entry.
std::vector<std::string> hosts_of(const std::string& base);

}  // namespace mongowire::spec
