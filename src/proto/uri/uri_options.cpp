#include "proto/uri/uri_options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

#include "proto/uri/host_address.hpp"
#include "proto/uri/percent_encoding.hpp"
#include "proto/wire/compression.hpp"

namespace mongowire {

std::string_view to_string(read_preference_mode mode) noexcept {
  switch (mode) {
    case read_preference_mode::primary: return "primary";
    case read_preference_mode::primary_preferred: return "primaryPreferred";
    case read_preference_mode::secondary: return "secondary";
    case read_preference_mode::secondary_preferred: return "secondaryPreferred";
    case read_preference_mode::nearest: return "nearest";
  }
  return "primary";
}

std::string_view to_string(server_monitoring_mode mode) noexcept {
  switch (mode) {
    case server_monitoring_mode::automatic: return "auto";
    case server_monitoring_mode::stream: return "stream";
    case server_monitoring_mode::poll: return "poll";
  }
  return "auto";
}

namespace detail::uri {
namespace {

enum class set_result {
  ok,
  invalid_value,  // an error or a warning, depending on uri_parse_settings
  conflict,       // always an error (uri-options.md, "Conflicting TLS options")
};

using cs_t = connection_string;
using option_setter = set_result (*)(cs_t&, std::string_view value, std::string& why);

struct option_def {
  std::string_view name;  // canonical camelCase, as in uri-options.md
  option_setter set;
  bool is_list = false;  // repeated keys accumulate (connection-string-spec.md, "Lists")
  bool is_tls_alias = false;
  bool empty_is_error = false;   // instead of "ignored with a warning"
  bool repeat_is_error = false;  // instead of "the last value wins"
};

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::optional<bool> parse_bool(std::string_view v) noexcept {
  if (iequals(v, "true")) return true;
  if (iequals(v, "false")) return false;
  return std::nullopt;
}

// Optional '-' then decimal digits, nothing else; nullopt on overflow.
std::optional<std::int64_t> parse_int64(std::string_view v) noexcept {
  const std::string_view digits = !v.empty() && v.front() == '-' ? v.substr(1) : v;
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (ec != std::errc{} || end != v.data() + v.size()) return std::nullopt;
  return value;
}

std::string describe_range(std::int64_t min, std::int64_t max) {
  if (max == std::numeric_limits<std::int32_t>::max() || max == std::numeric_limits<std::int64_t>::max())
    return min == 0 ? "a non-negative integer" : min == 1 ? "a positive integer" : fmt::format("an integer >= {}", min);
  return fmt::format("an integer from {} to {}", min, max);
}

template <auto Member>
set_result set_string(cs_t& cs, std::string_view v, std::string&) {
  cs.*Member = std::string(v);
  return set_result::ok;
}

template <auto Member>
set_result set_bool(cs_t& cs, std::string_view v, std::string& why) {
  const auto b = parse_bool(v);
  if (!b) {
    why = "expected \"true\" or \"false\"";
    return set_result::invalid_value;
  }
  cs.*Member = *b;
  return set_result::ok;
}

template <auto Member, std::int64_t Min, std::int64_t Max = std::numeric_limits<std::int32_t>::max()>
set_result set_integer(cs_t& cs, std::string_view v, std::string& why) {
  const auto n = parse_int64(v);
  if (!n || *n < Min || *n > Max) {
    why = "expected " + describe_range(Min, Max);
    return set_result::invalid_value;
  }
  using value_type = typename std::remove_reference_t<decltype(cs.*Member)>::value_type;
  cs.*Member = static_cast<value_type>(*n);
  return set_result::ok;
}

// tls and ssl are one option; every instance must carry the same value (uri-options.md rule 8).
set_result set_tls(cs_t& cs, std::string_view v, std::string& why) {
  const auto b = parse_bool(v);
  if (!b) {
    why = "expected \"true\" or \"false\"";
    return set_result::invalid_value;
  }
  if (cs.tls && *cs.tls != *b) {
    why = "all instances of 'tls' and 'ssl' must have the same value";
    return set_result::conflict;
  }
  cs.tls = *b;
  return set_result::ok;
}

// handshake.md, "Client Application Name": at most 128 bytes.
set_result set_app_name(cs_t& cs, std::string_view v, std::string& why) {
  if (v.size() > 128) {
    why = fmt::format("appName is {} bytes long, the limit is 128", v.size());
    return set_result::invalid_value;
  }
  cs.app_name = std::string(v);
  return set_result::ok;
}

// auth.md, "Supported Authentication Methods" (MONGODB-CR is accepted here so the auth
// layer can say that it was removed, rather than the parser calling it unknown).
set_result set_auth_mechanism(cs_t& cs, std::string_view v, std::string& why) {
  static constexpr std::array<std::string_view, 8> known{"SCRAM-SHA-1", "SCRAM-SHA-256", "MONGODB-X509", "GSSAPI",
                                                         "PLAIN",       "MONGODB-AWS",   "MONGODB-OIDC", "MONGODB-CR"};
  for (auto name : known) {
    if (iequals(name, v)) {
      cs.auth_mechanism = std::string(name);
      return set_result::ok;
    }
  }
  why = "expected one of SCRAM-SHA-1, SCRAM-SHA-256, MONGODB-X509, GSSAPI, PLAIN, MONGODB-AWS, MONGODB-OIDC";
  return set_result::invalid_value;
}

// "k1:v1,k2:v2": the key ends at the first ':', the value may hold more ':'
// (connection-string-spec.md, "Key value pairs").
std::optional<tag_set> parse_key_value_pairs(std::string_view v, std::string& why) {
  tag_set pairs;
  while (!v.empty()) {
    const auto comma = v.find(',');
    const std::string_view item = v.substr(0, comma);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      why = fmt::format("'{}' is not a key:value pair", item);
      return std::nullopt;
    }
    pairs.emplace_back(std::string(item.substr(0, colon)), std::string(item.substr(colon + 1)));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
    if (v.empty()) {
      why = "trailing ',' in key:value list";
      return std::nullopt;
    }
  }
  return pairs;
}

set_result set_auth_mechanism_properties(cs_t& cs, std::string_view v, std::string& why) {
  auto pairs = parse_key_value_pairs(v, why);
  if (!pairs) return set_result::invalid_value;
  cs.auth_mechanism_properties = std::move(*pairs);
  return set_result::ok;
}

// An empty value is the empty tag set {}, which matches any server (server-selection.md).
set_result add_read_preference_tags(cs_t& cs, std::string_view v, std::string& why) {
  auto tags = parse_key_value_pairs(v, why);
  if (!tags) return set_result::invalid_value;
  cs.read_preference_tags.push_back(std::move(*tags));
  return set_result::ok;
}

set_result set_read_preference(cs_t& cs, std::string_view v, std::string& why) {
  using m = read_preference_mode;
  for (m mode : {m::primary, m::primary_preferred, m::secondary, m::secondary_preferred, m::nearest}) {
    if (iequals(to_string(mode), v)) {
      cs.read_preference = mode;
      return set_result::ok;
    }
  }
  why = "expected primary, primaryPreferred, secondary, secondaryPreferred or nearest";
  return set_result::invalid_value;
}

set_result set_server_monitoring_mode(cs_t& cs, std::string_view v, std::string& why) {
  using m = server_monitoring_mode;
  for (m mode : {m::automatic, m::stream, m::poll}) {
    if (iequals(to_string(mode), v)) {
      cs.monitoring_mode = mode;
      return set_result::ok;
    }
  }
  why = "expected stream, poll or auto";
  return set_result::invalid_value;
}

// max-staleness.md: -1 means "no maximum"; otherwise at least 90 seconds (uri-options.md table).
set_result set_max_staleness(cs_t& cs, std::string_view v, std::string& why) {
  const auto n = parse_int64(v);
  if (!n || !(*n == -1 || (*n >= 90 && *n <= std::numeric_limits<std::int32_t>::max()))) {
    why = "expected -1 or an integer >= 90";
    return set_result::invalid_value;
  }
  cs.max_staleness_seconds = static_cast<std::int32_t>(*n);
  return set_result::ok;
}

// "non-negative integer or string": numbers are node counts, anything else a mode or tag name.
set_result set_w(cs_t& cs, std::string_view v, std::string& why) {
  const bool looks_numeric = v.find_first_not_of("-0123456789") == std::string_view::npos;
  if (!looks_numeric) {
    cs.w = std::string(v);
    return set_result::ok;
  }
  const auto n = parse_int64(v);
  if (!n || *n < 0 || *n > std::numeric_limits<std::int32_t>::max()) {
    why = "expected a non-negative integer or a string such as \"majority\"";
    return set_result::invalid_value;
  }
  cs.w = static_cast<std::int32_t>(*n);
  return set_result::ok;
}

// initial-dns-seedlist-discovery.md, "srvServiceName": a service name of RFC 6335, section 5.1:
// 1-15 letters, digits and hyphens, at least one letter, no hyphen first, last or doubled.
set_result set_srv_service_name(cs_t& cs, std::string_view v, std::string& why) {
  const bool charset_ok =
      v.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == std::string_view::npos;
  const bool has_letter = v.find_first_not_of("0123456789-") != std::string_view::npos;
  const bool hyphens_ok = !v.empty() && v.front() != '-' && v.back() != '-' && v.find("--") == std::string_view::npos;
  if (v.size() > 15 || !charset_ok || !has_letter || !hyphens_ok) {
    why = "expected an RFC 6335 service name: 1 to 15 letters, digits and single inner hyphens";
    return set_result::invalid_value;
  }
  cs.srv_service_name = std::string(v);
  return set_result::ok;
}

// OP_COMPRESSED.md "compressors": a priority-ordered list; unknown compressors MUST yield a
// warning and MUST NOT be included in the handshake.
set_result set_compressors(cs_t& cs, std::string_view v, std::string&) {
  cs.compressors.clear();
  while (!v.empty()) {
    const auto comma = v.find(',');
    const std::string_view name = v.substr(0, comma);
    if (!detail::wire::compressor_from_name(name))
      cs.warnings.push_back(fmt::format("Unsupported compressor '{}' ignored (snappy, zlib or zstd)", name));
    else if (std::find(cs.compressors.begin(), cs.compressors.end(), name) == cs.compressors.end())
      cs.compressors.emplace_back(name);
    v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
  }
  return set_result::ok;
}

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// uri-options.md, "List of specified options" (the subset this client implements).
const option_def option_table[] = {
    {"appName", set_app_name},
    {"authMechanism", set_auth_mechanism},
    {"authMechanismProperties", set_auth_mechanism_properties},
    // auth.md, "Errors": an empty authSource MUST be an error.
    {"authSource", set_string<&cs_t::auth_source>, false, false, /*empty_is_error=*/true},
    {"compressors", set_compressors},
    {"connectTimeoutMS", set_integer<&cs_t::connect_timeout_ms, 0>},
    {"directConnection", set_bool<&cs_t::direct_connection>},
    {"enableOverloadRetargeting", set_bool<&cs_t::enable_overload_retargeting>},
    {"heartbeatFrequencyMS", set_integer<&cs_t::heartbeat_frequency_ms, 500>},  // minHeartbeatFrequencyMS
    {"journal", set_bool<&cs_t::journal>},
    {"loadBalanced", set_bool<&cs_t::load_balanced>},
    {"localThresholdMS", set_integer<&cs_t::local_threshold_ms, 0>},
    {"maxAdaptiveRetries", set_integer<&cs_t::max_adaptive_retries, 0>},
    {"maxConnecting", set_integer<&cs_t::max_connecting, 1>},
    {"maxIdleTimeMS", set_integer<&cs_t::max_idle_time_ms, 0>},
    {"maxPoolSize", set_integer<&cs_t::max_pool_size, 0>},
    {"maxStalenessSeconds", set_max_staleness},
    {"minPoolSize", set_integer<&cs_t::min_pool_size, 0>},
    // socks5.md "MongoClient Configuration"; a repeated proxy option is an error (uri-options tests).
    {"proxyHost", set_string<&cs_t::proxy_host>, false, false, false, /*repeat_is_error=*/true},
    {"proxyPassword", set_string<&cs_t::proxy_password>, false, false, false, true},
    {"proxyPort", set_integer<&cs_t::proxy_port, 0, 65535>, false, false, false, true},
    {"proxyUsername", set_string<&cs_t::proxy_username>, false, false, false, true},
    {"readConcernLevel", set_string<&cs_t::read_concern_level>},
    {"readPreference", set_read_preference},
    {"readPreferenceTags", add_read_preference_tags, /*is_list=*/true},
    {"replicaSet", set_string<&cs_t::replica_set>},
    {"retryReads", set_bool<&cs_t::retry_reads>},
    {"retryWrites", set_bool<&cs_t::retry_writes>},
    {"serverMonitoringMode", set_server_monitoring_mode},
    {"serverSelectionTimeoutMS", set_integer<&cs_t::server_selection_timeout_ms, 1>},
    {"socketTimeoutMS", set_integer<&cs_t::socket_timeout_ms, 0>},
    {"srvMaxHosts", set_integer<&cs_t::srv_max_hosts, 0>},
    {"srvServiceName", set_srv_service_name},
    {"ssl", set_tls, false, /*is_tls_alias=*/true},
    {"timeoutMS", set_integer<&cs_t::timeout_ms, 0, int64_max>},
    {"tls", set_tls, false, /*is_tls_alias=*/true},
    {"tlsAllowInvalidCertificates", set_bool<&cs_t::tls_allow_invalid_certificates>},
    {"tlsAllowInvalidHostnames", set_bool<&cs_t::tls_allow_invalid_hostnames>},
    {"tlsCAFile", set_string<&cs_t::tls_ca_file>},
    {"tlsCertificateKeyFile", set_string<&cs_t::tls_certificate_key_file>},
    {"tlsCertificateKeyFilePassword", set_string<&cs_t::tls_certificate_key_file_password>},
    {"tlsDisableCertificateRevocationCheck", set_bool<&cs_t::tls_disable_certificate_revocation_check>},
    {"tlsDisableOCSPEndpointCheck", set_bool<&cs_t::tls_disable_ocsp_endpoint_check>},
    {"tlsInsecure", set_bool<&cs_t::tls_insecure>},
    {"w", set_w},
    {"waitQueueTimeoutMS", set_integer<&cs_t::wait_queue_timeout_ms, 1>},
    {"wTimeoutMS", set_integer<&cs_t::wtimeout_ms, 0, int64_max>},
    {"zlibCompressionLevel", set_integer<&cs_t::zlib_compression_level, -1, 9>},
};

// Keys are compared after lower-casing ASCII letters (connection-string-spec.md, "Keys").
const option_def* find_option(std::string_view key) noexcept {
  for (const auto& def : option_table)
    if (iequals(def.name, key)) return &def;
  return nullptr;
}

bool is_secret(const option_def& def) noexcept {
  return def.name == "tlsCertificateKeyFilePassword" || def.name == "proxyPassword";
}

class option_applier {
 public:
  option_applier(connection_string& out, const uri_parse_settings& settings) : out_(out), settings_(settings) {}

  bool apply_pair(std::string_view pair, std::size_t offset, std::string& why) {
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      why = fmt::format("option '{}' at offset {} of the options has no '=value'", pair, offset);
      return false;
    }
    const auto key = percent_decode(pair.substr(0, eq), "option names", why);
    if (!key) return false;
    const auto value = percent_decode(pair.substr(eq + 1), fmt::format("value of option '{}'", *key), why);
    if (!value) return false;

    const option_def* def = find_option(*key);
    if (!def) {
      // connection-string-spec.md, "Keys": unsupported keys are ignored with a warning.
      out_.warnings.push_back(fmt::format("Unsupported URI option '{}' ignored", *key));
      return true;
    }
    if (value->empty() && def->empty_is_error) {
      why = fmt::format("URI option '{}' cannot be empty", def->name);
      return false;
    }
    // connection-string-spec.md, "Values": an empty integer or boolean value is ignored.
    if (value->empty() && !def->is_list) {
      out_.warnings.push_back(fmt::format("URI option '{}' has an empty value and is ignored", def->name));
      return true;
    }
    if (!note_repetition(*def, why)) return false;
    std::string reason;
    switch (def->set(out_, *value, reason)) {
      case set_result::ok: return true;
      case set_result::conflict: why = fmt::format("conflicting URI option '{}': {}", def->name, reason); return false;
      case set_result::invalid_value: break;
    }
    const std::string shown = is_secret(*def) ? std::string("****") : *value;
    const std::string message = fmt::format("invalid value '{}' for URI option '{}': {}", shown, def->name, reason);
    if (settings_.invalid_value_is_error) {
      why = message;
      return false;
    }
    out_.warnings.push_back(message + " (ignored)");  // uri-options.md: invalid values warn
    return true;
  }

 private:
  // connection-string-spec.md, "Repeated Keys": the last value wins here, with a warning.
  bool note_repetition(const option_def& def, std::string& why) {
    for (const option_def* seen : seen_) {
      if (seen != &def) continue;
      if (def.repeat_is_error) {
        why = fmt::format("URI option '{}' is given more than once", def.name);
        return false;
      }
      if (!def.is_list && !def.is_tls_alias)
        out_.warnings.push_back(fmt::format("URI option '{}' is repeated; the last value is used", def.name));
      return true;
    }
    seen_.push_back(&def);
    return true;
  }

  connection_string& out_;
  const uri_parse_settings& settings_;
  std::vector<const option_def*> seen_;
};

bool check_tls_exclusions(const connection_string& cs, std::string& why) {
  // uri-options.md, "Conflicting TLS options", rules 1-7: presence alone conflicts.
  const std::pair<std::string_view, bool> present[] = {
      {"tlsInsecure", cs.tls_insecure.has_value()},
      {"tlsAllowInvalidCertificates", cs.tls_allow_invalid_certificates.has_value()},
      {"tlsAllowInvalidHostnames", cs.tls_allow_invalid_hostnames.has_value()},
      {"tlsDisableOCSPEndpointCheck", cs.tls_disable_ocsp_endpoint_check.has_value()},
      {"tlsDisableCertificateRevocationCheck", cs.tls_disable_certificate_revocation_check.has_value()},
  };
  // Pairs (index a, index b) that may not appear together.
  constexpr std::pair<int, int> exclusive[] = {{0, 1}, {0, 2}, {0, 3}, {0, 4}, {1, 3}, {1, 4}, {3, 4}};
  for (auto [a, b] : exclusive) {
    if (present[a].second && present[b].second) {
      why = fmt::format("URI options '{}' and '{}' cannot be given together", present[a].first, present[b].first);
      return false;
    }
  }
  return true;
}

// socks5.md "MongoClient Configuration": proxyPort, proxyUsername and proxyPassword need
// proxyHost, and the user name and password come together.
bool check_proxy_options(const connection_string& cs, std::string& why) {
  if (!cs.proxy_host && (cs.proxy_port || cs.proxy_username || cs.proxy_password))
    why = fmt::format("URI option '{}' needs proxyHost", cs.proxy_port       ? "proxyPort"
                                                         : cs.proxy_username ? "proxyUsername"
                                                                             : "proxyPassword");
  else if (cs.proxy_username.has_value() != cs.proxy_password.has_value())
    why = cs.proxy_username ? "proxyUsername needs proxyPassword" : "proxyPassword needs proxyUsername";
  return why.empty();
}

// initial-dns-seedlist-discovery.md, "URI Validation".
bool check_srv_options(const connection_string& cs, std::string& why) {
  if (!cs.srv_host && (cs.srv_service_name || cs.srv_max_hosts)) {
    why = fmt::format("URI option '{}' is only allowed with mongodb+srv://",
                      cs.srv_service_name ? "srvServiceName" : "srvMaxHosts");
    return false;
  }
  if (cs.srv_max_hosts.value_or(0) > 0) {
    if (cs.replica_set) why = "srvMaxHosts > 0 cannot be used with replicaSet";
    else if (cs.load_balanced.value_or(false)) why = "srvMaxHosts > 0 cannot be used with loadBalanced=true";
    if (!why.empty()) return false;
  }
  return true;
}

}  // namespace

bool apply_uri_options(std::string_view query, connection_string& out, const uri_parse_settings& settings,
                       std::string& why) {
  option_applier applier(out, settings);
  std::size_t offset = 0;
  while (offset <= query.size()) {
    const auto amp = query.find('&', offset);
    const auto end = amp == std::string_view::npos ? query.size() : amp;
    const auto pair = query.substr(offset, end - offset);
    if (!pair.empty() && !applier.apply_pair(pair, offset, why)) return false;
    offset = end + 1;
  }
  return true;
}

bool validate_option_combinations(const connection_string& cs, std::string& why) {
  if (!check_tls_exclusions(cs, why) || !check_srv_options(cs, why) || !check_proxy_options(cs, why)) return false;
  // uri-options.md, "directConnection URI option with multiple seeds or SRV URI".
  if (cs.direct_connection.value_or(false) && (cs.hosts.size() > 1 || cs.srv_host)) {
    why = cs.srv_host ? std::string("directConnection=true cannot be used with mongodb+srv://")
                      : fmt::format("directConnection=true cannot be used with {} hosts", cs.hosts.size());
    return false;
  }
  // load-balancers.md, "URI Validation".
  if (cs.load_balanced.value_or(false)) {
    if (cs.hosts.size() > 1) why = "loadBalanced=true cannot be used with multiple hosts";
    else if (cs.direct_connection.value_or(false)) why = "loadBalanced=true cannot be used with directConnection=true";
    else if (cs.replica_set) why = "loadBalanced=true cannot be used with replicaSet";
    if (!why.empty()) return false;
  }
  // connection-monitoring-and-pooling.md: minPoolSize cannot exceed a (non-zero) maxPoolSize.
  if (cs.min_pool_size && cs.max_pool_size && *cs.max_pool_size != 0 && *cs.min_pool_size > *cs.max_pool_size) {
    why = fmt::format("minPoolSize ({}) is greater than maxPoolSize ({})", *cs.min_pool_size, *cs.max_pool_size);
    return false;
  }
  // read-write-concern.md: an unacknowledged write cannot ask for journaling.
  if (cs.journal.value_or(false) && cs.w && std::holds_alternative<std::int32_t>(*cs.w) &&
      std::get<std::int32_t>(*cs.w) == 0) {
    why = "w=0 cannot be combined with journal=true";
    return false;
  }
  // server-selection.md: mode primary takes no tag sets and no maxStalenessSeconds.
  const auto mode = cs.read_preference.value_or(read_preference_mode::primary);
  if (mode == read_preference_mode::primary) {
    for (const auto& tags : cs.read_preference_tags) {
      if (!tags.empty()) {
        why = "readPreferenceTags cannot be used with readPreference=primary";
        return false;
      }
    }
    if (cs.max_staleness_seconds && *cs.max_staleness_seconds != -1) {
      why = "maxStalenessSeconds cannot be used with readPreference=primary";
      return false;
    }
  }
  return true;
}

}  // namespace detail::uri
}  // namespace mongowire
