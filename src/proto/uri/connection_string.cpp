// parse_uri(): splits the connection string into user info, hosts, auth database and options,
// in the order of connection-string-spec.md, "Reference Implementation".
#include <fmt/format.h>

#include "mongowire/uri.hpp"
#include "proto/uri/host_address.hpp"
#include "proto/uri/percent_encoding.hpp"
#include "proto/uri/uri_options.hpp"

namespace mongowire {
namespace {

using namespace detail::uri;

constexpr std::string_view scheme = "mongodb://";
constexpr std::string_view srv_scheme = "mongodb+srv://";

bool starts_with_icase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && to_lower_ascii(text.substr(0, prefix.size())) == prefix;
}

enum class scheme_kind { standard, srv };

std::optional<scheme_kind> strip_scheme(std::string_view& uri, const uri_parse_settings& settings, std::string& why) {
  if (uri.empty()) {
    why = "empty connection string";
    return std::nullopt;
  }
  if (starts_with_icase(uri, srv_scheme)) {
    if (!settings.accept_srv) {
      why = "mongodb+srv:// needs a DNS SRV lookup, which is not supported; list the hosts with mongodb://";
      return std::nullopt;
    }
    uri.remove_prefix(srv_scheme.size());
    return scheme_kind::srv;
  }
  if (!starts_with_icase(uri, scheme)) {
    const auto sep = uri.find("://");
    why = sep == std::string_view::npos
              ? "connection string must start with 'mongodb://'"
              : fmt::format("unsupported scheme '{}': the connection string must start with 'mongodb://'",
                            uri.substr(0, sep));
    return std::nullopt;
  }
  uri.remove_prefix(scheme.size());
  return scheme_kind::standard;
}

// connection-string-spec.md, "Userinfo": '@', a second ':' or a bad '%' MUST be errors;
// other characters outside RFC 3986 userinfo SHOULD be.
bool check_user_info_characters(std::string_view info, std::string& why) {
  std::size_t colons = 0;
  for (std::size_t i = 0; i < info.size(); ++i) {
    const char c = info[i];
    const auto u = static_cast<unsigned char>(c);
    if (c == ':' && ++colons > 1) {
      why = "user info has more than one ':'; percent-encode ':' in the user name or password as %3A";
      return false;
    }
    if (c == '@' || c == '/' || c == '?' || c == '#' || c == '[' || c == ']' || c == ' ' || u < 0x20 || u == 0x7f) {
      why = u < 0x20 || u == 0x7f
                ? fmt::format("control byte 0x{:02x} in user info; user name and password must be percent-encoded", u)
                : fmt::format("unescaped '{}' in user info; user name and password must be percent-encoded", c);
      return false;
    }
  }
  return true;
}

bool parse_user_info(std::string_view info, connection_string& out, std::string& why) {
  if (!check_user_info_characters(info, why)) return false;
  const auto colon = info.find(':');
  auto user = percent_decode(info.substr(0, colon), "user name", why);
  if (!user) return false;
  if (user->empty()) {
    why = "empty user name before '@'";
    return false;
  }
  out.username = std::move(*user);
  if (colon != std::string_view::npos) {
    auto password = percent_decode(info.substr(colon + 1), "password", why);
    if (!password) return false;
    out.password = std::move(*password);
  }
  return true;
}

// connection-string-spec.md, "Host": socket paths are percent-encoded and end in ".sock";
// support is optional, and unsupported host types must be errors.
std::optional<host_address> parse_socket_path(std::string path, bool has_port, const uri_parse_settings& settings,
                                              std::string& reason) {
  if (!path.ends_with(".sock")) {
    reason = "a host name cannot contain '/' (a UNIX domain socket path must end in \".sock\")";
    return std::nullopt;
  }
  if (!settings.accept_unix_sockets) {
    reason = "UNIX domain sockets are not supported";
    return std::nullopt;
  }
  if (has_port) {
    reason = "a UNIX domain socket path takes no port";
    return std::nullopt;
  }
  for (char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      reason = fmt::format("control byte 0x{:02x} in UNIX domain socket path", c);
      return std::nullopt;
    }
  }
  host_address address;
  address.host = std::move(path);  // file names are case-sensitive: not lower-cased
  return address;
}

// The host part of "[IPv6]" or "[IPv6]:port".
std::optional<host_address> parse_ip_literal(std::string_view text, std::string& reason) {
  if (!is_ipv6_address(text)) {
    reason = fmt::format("'{}' is not an IPv6 address", text);
    return std::nullopt;
  }
  return host_address{to_lower_ascii(text)};
}

// A percent-decoded host name or IPv4 address, or a socket path (which contains '/').
std::optional<host_address> parse_decoded_host(const std::string& decoded, bool has_port,
                                               const uri_parse_settings& settings, std::string& reason) {
  if (decoded.find('/') != std::string::npos) return parse_socket_path(decoded, has_port, settings, reason);
  if (!validate_host_name(decoded, reason)) return std::nullopt;
  return host_address{to_lower_ascii(decoded)};
}

bool parse_uri_host(std::string_view text, std::size_t position, const uri_parse_settings& settings,
                    connection_string& out, std::string& why) {
  auto fail = [&](const std::string& reason) {
    why = fmt::format("host #{} '{}': {}", position, text, reason);
    return false;
  };
  std::string reason;
  const auto parts = split_host_port(text, reason);
  if (!parts) return fail(reason);
  std::optional<host_address> address;
  if (parts->bracketed) {
    address = parse_ip_literal(parts->host, reason);
  } else {
    const auto decoded = percent_decode(parts->host, "host", reason);
    if (!decoded) return fail(reason);
    address = parse_decoded_host(*decoded, parts->port.has_value(), settings, reason);
  }
  if (!address) return fail(reason);
  if (parts->port && !address->is_unix_socket()) {
    const auto port = parse_port(*parts->port, reason);
    if (!port) return fail(reason);
    address->port = *port;
  }
  out.hosts.push_back(std::move(*address));
  return true;
}

bool parse_hosts(std::string_view host_list, std::string_view rest, const uri_parse_settings& settings,
                 connection_string& out, std::string& why) {
  if (host_list.empty()) {
    // connection-string-spec.md, "Host": an unescaped '/' means an unencoded socket path.
    why = rest.find(".sock") != std::string_view::npos
              ? "missing host; UNIX domain socket paths must be percent-encoded (%2F for '/')"
              : "missing host";
    return false;
  }
  std::size_t position = 1;
  while (true) {
    const auto comma = host_list.find(',');
    if (!parse_uri_host(host_list.substr(0, comma), position, settings, out, why)) return false;
    if (comma == std::string_view::npos) return true;
    host_list.remove_prefix(comma + 1);
    ++position;
  }
}

// initial-dns-seedlist-discovery.md, "Seedlist Discovery": one host name, without a port.
bool parse_srv_host(std::string_view host_list, connection_string& out, std::string& why) {
  auto fail = [&](const std::string& reason) {
    why = fmt::format("mongodb+srv:// host '{}': {}", host_list, reason);
    return false;
  };
  if (host_list.empty()) return fail("missing host");
  if (host_list.find(',') != std::string_view::npos) return fail("exactly one host name is allowed");
  std::string reason;
  const auto parts = split_host_port(host_list, reason);
  if (!parts) return fail(reason);
  if (parts->port) return fail("an SRV host name cannot have a port");
  if (parts->bracketed) return fail("an SRV host must be a host name, not an IP literal");
  const auto decoded = percent_decode(parts->host, "host", reason);
  if (!decoded || !validate_host_name(*decoded, reason)) return fail(reason);
  out.srv_host = to_lower_ascii(*decoded);
  return true;
}

// connection-string-spec.md, "Auth Database": no '/', '\', ' ', '"' or '$' once decoded.
bool parse_auth_database(std::string_view encoded, connection_string& out, std::string& why) {
  auto db = percent_decode(encoded, "auth database", why);
  if (!db) return false;
  if (db->empty()) return true;
  const auto bad = db->find_first_of("/\\ \"$");
  if (bad != std::string::npos) {
    why = fmt::format("auth database '{}' contains the forbidden character '{}'", *db, (*db)[bad]);
    return false;
  }
  out.auth_database = std::move(*db);
  return true;
}

bool parse_connection_string(std::string_view uri, connection_string& out, const uri_parse_settings& settings,
                             std::string& why) {
  // A NUL byte is no URI character (RFC 3986 section 2) and would cut a name short once sent
  // as a BSON cstring (e.g. $db); percent_decode refuses "%00" alike (found by fuzz_uri).
  if (const auto nul = uri.find('\0'); nul != std::string_view::npos) {
    why = fmt::format("NUL byte at offset {} of the connection string", nul);
    return false;
  }
  const auto kind = strip_scheme(uri, settings, why);
  if (!kind) return false;
  // The host information ends at the first '/' or '?' (the slash is optional before '?').
  const auto host_end = uri.find_first_of("/?");
  const std::string_view host_info = uri.substr(0, host_end);
  const std::string_view rest = host_end == std::string_view::npos ? std::string_view{} : uri.substr(host_end);

  const auto at = host_info.rfind('@');
  if (at != std::string_view::npos && !parse_user_info(host_info.substr(0, at), out, why)) return false;
  const std::string_view host_list = at == std::string_view::npos ? host_info : host_info.substr(at + 1);
  const bool hosts_ok = *kind == scheme_kind::srv ? parse_srv_host(host_list, out, why)
                                                  : parse_hosts(host_list, rest, settings, out, why);
  if (!hosts_ok) return false;

  std::string_view query;
  if (!rest.empty() && rest.front() == '/') {
    const auto question = rest.find('?');
    if (!parse_auth_database(rest.substr(1, question == std::string_view::npos ? question : question - 1), out, why))
      return false;
    if (question != std::string_view::npos) query = rest.substr(question + 1);
  } else if (!rest.empty()) {
    query = rest.substr(1);  // rest starts with '?'
  }
  if (!apply_uri_options(query, out, settings, why)) return false;
  return validate_option_combinations(out, why);
}

// ---- to_string ----

std::string format_value(const w_option& w) {
  return std::holds_alternative<std::int32_t>(w) ? std::to_string(std::get<std::int32_t>(w))
                                                 : percent_encode(std::get<std::string>(w));
}
std::string format_value(bool b) { return b ? "true" : "false"; }
std::string format_value(std::int64_t n) { return std::to_string(n); }
std::string format_value(std::int32_t n) { return std::to_string(n); }
std::string format_value(const std::string& s) { return percent_encode(s); }
std::string format_value(read_preference_mode m) { return std::string(to_string(m)); }
std::string format_value(server_monitoring_mode m) { return std::string(to_string(m)); }

std::string format_pairs(const tag_set& pairs, bool redact_session_token) {
  std::string text;
  for (const auto& [key, value] : pairs) {
    if (!text.empty()) text += ',';
    const bool secret = redact_session_token && key == "AWS_SESSION_TOKEN";
    text += percent_encode(key) + ':' + (secret ? std::string("****") : percent_encode(value));
  }
  return text;
}

class option_writer {
 public:
  template <class T>
  void add(std::string_view name, const std::optional<T>& value) {
    if (value) add_raw(name, format_value(*value));
  }
  void add_raw(std::string_view name, std::string_view formatted) {
    text_ += text_.empty() ? '?' : '&';
    text_ += name;
    text_ += '=';
    text_ += formatted;
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// "user[:****]@host1,host2/db", secrets redacted.
std::string format_authority(const connection_string& cs) {
  std::string text(cs.srv_host ? srv_scheme : scheme);
  if (cs.username) {
    text += percent_encode(*cs.username);
    if (cs.password) text += ":****";
    text += '@';
  }
  if (cs.srv_host) text += *cs.srv_host;
  for (std::size_t i = 0; i < cs.hosts.size(); ++i) {
    // connection-string-spec.md, "Host": socket paths are written percent-encoded.
    const auto& h = cs.hosts[i];
    text += (i ? "," : "") + (h.is_unix_socket() ? percent_encode(h.host) : h.to_string());
  }
  text += '/';
  if (cs.auth_database) text += percent_encode(*cs.auth_database);
  return text;
}

}  // namespace

std::string connection_string::to_string() const {
  option_writer w;
  w.add("appName", app_name);
  w.add("authMechanism", auth_mechanism);
  if (!auth_mechanism_properties.empty())
    w.add_raw("authMechanismProperties", format_pairs(auth_mechanism_properties, true));
  w.add("authSource", auth_source);
  if (!compressors.empty()) {
    std::string names;
    for (const auto& c : compressors) names += (names.empty() ? "" : ",") + c;
    w.add_raw("compressors", names);
  }
  w.add("connectTimeoutMS", connect_timeout_ms);
  w.add("directConnection", direct_connection);
  w.add("enableOverloadRetargeting", enable_overload_retargeting);
  w.add("heartbeatFrequencyMS", heartbeat_frequency_ms);
  w.add("journal", journal);
  w.add("loadBalanced", load_balanced);
  w.add("localThresholdMS", local_threshold_ms);
  w.add("maxAdaptiveRetries", max_adaptive_retries);
  w.add("maxConnecting", max_connecting);
  w.add("maxIdleTimeMS", max_idle_time_ms);
  w.add("maxPoolSize", max_pool_size);
  w.add("maxStalenessSeconds", max_staleness_seconds);
  w.add("minPoolSize", min_pool_size);
  w.add("proxyHost", proxy_host);
  if (proxy_password) w.add_raw("proxyPassword", "****");
  w.add("proxyPort", proxy_port);
  w.add("proxyUsername", proxy_username);
  w.add("readConcernLevel", read_concern_level);
  w.add("readPreference", read_preference);
  for (const auto& tags : read_preference_tags) w.add_raw("readPreferenceTags", format_pairs(tags, false));
  w.add("replicaSet", replica_set);
  w.add("retryReads", retry_reads);
  w.add("retryWrites", retry_writes);
  w.add("serverMonitoringMode", monitoring_mode);
  w.add("serverSelectionTimeoutMS", server_selection_timeout_ms);
  w.add("socketTimeoutMS", socket_timeout_ms);
  w.add("srvMaxHosts", srv_max_hosts);
  w.add("srvServiceName", srv_service_name);
  w.add("timeoutMS", timeout_ms);
  w.add("tls", tls);
  w.add("tlsAllowInvalidCertificates", tls_allow_invalid_certificates);
  w.add("tlsAllowInvalidHostnames", tls_allow_invalid_hostnames);
  w.add("tlsCAFile", tls_ca_file);
  w.add("tlsCertificateKeyFile", tls_certificate_key_file);
  if (tls_certificate_key_file_password) w.add_raw("tlsCertificateKeyFilePassword", "****");
  w.add("tlsDisableCertificateRevocationCheck", tls_disable_certificate_revocation_check);
  w.add("tlsDisableOCSPEndpointCheck", tls_disable_ocsp_endpoint_check);
  w.add("tlsInsecure", tls_insecure);
  w.add("w", this->w);
  w.add("waitQueueTimeoutMS", wait_queue_timeout_ms);
  w.add("wTimeoutMS", wtimeout_ms);
  w.add("zlibCompressionLevel", zlib_compression_level);
  return format_authority(*this) + w.text();
}

error_code parse_uri(std::string_view uri, connection_string& out, std::string& error_message,
                     const uri_parse_settings& settings) {
  out = connection_string{};
  error_message.clear();
  if (!parse_connection_string(uri, out, settings, error_message)) {
    if (error_message.empty()) error_message = "invalid connection string";
    return make_error_code(client_errc::invalid_uri);
  }
  return {};
}

connection_string parse_uri(std::string_view uri, const uri_parse_settings& settings) {
  connection_string out;
  std::string message;
  if (auto ec = parse_uri(uri, out, message, settings)) {
    diagnostics diag;
    diag.client_message = std::move(message);
    throw error(ec, std::move(diag));
  }
  return out;
}

}  // namespace mongowire
