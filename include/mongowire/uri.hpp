// Connection string parsing: mongodb://[user:pass@]host1[:port1][,host2[:port2]...][/[authdb]][?options]
// Follows the Connection String spec (source/connection-string/connection-string-spec.md) and the
// URI Options spec (source/uri-options/uri-options.md) of mongodb/specifications.
//
// Deliberate choices (documented here as the specs ask):
// - mongodb+srv:// and UNIX domain sockets are parsed and validated, but rejected by default with
//   an explicit error: the I/O layer can neither do the DNS SRV lookup nor connect to a socket
//   path yet ("Unsupported host types MUST throw an exception"). `uri_parse_settings::accept_srv`
//   and `accept_unix_sockets` return them to callers that only inspect the string.
// - An option value that is invalid for its option is an error by default (stricter than the
//   spec's "warn and ignore"); `uri_parse_settings::invalid_value_is_error = false` gives the
//   spec's behaviour. Unknown options are always warnings, empty values are always ignored with
//   a warning, except an empty authSource, which is an error (auth.md, "Errors").
// - Repeated options: the last value wins and a warning is recorded, except the list option
//   readPreferenceTags (values accumulate) and tls/ssl (all instances must agree, else error).
// - Only "true"/"false" (any letter case) are booleans; the legacy "1"/"yes"/... are invalid.
// - TLS is enabled only by tls=true or ssl=true, never implicitly by other tls* options.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "mongowire/error.hpp"

namespace mongowire {

// One server address. `host` is a lower-cased host name, an IPv4 address, an IPv6 address
// without brackets (SDAM, "Hostnames are normalized to lower-case"), or the path of a UNIX
// domain socket (case kept; `port` is then meaningless).
struct host_address {
  static constexpr std::uint16_t default_port = 27017;

  std::string host;
  std::uint16_t port = default_port;

  bool is_ipv6_literal() const noexcept { return !is_unix_socket() && host.find(':') != std::string::npos; }
  // Host names cannot contain '/'; socket paths (decoded from "%2F...sock") always do.
  bool is_unix_socket() const noexcept { return host.find('/') != std::string::npos; }
  // "host:port", "[v6]:port" for IPv6 literals, the path for a UNIX domain socket.
  std::string to_string() const;

  friend bool operator==(const host_address&, const host_address&) = default;
  friend auto operator<=>(const host_address&, const host_address&) = default;
};

// Parses "host", "host:port", "[v6]" or "[v6]:port" (as found in hello replies). No percent
// decoding. Returns nullopt and sets *why when the text is not a valid address.
std::optional<host_address> parse_host_address(std::string_view text, std::string* why = nullptr);

enum class read_preference_mode { primary, primary_preferred, secondary, secondary_preferred, nearest };
// The spec's camelCase name ("primaryPreferred").
std::string_view to_string(read_preference_mode mode) noexcept;

// server-monitoring.md "serverMonitoringMode": "stream", "poll" or "auto" (stream unless on FaaS).
enum class server_monitoring_mode { automatic, stream, poll };
std::string_view to_string(server_monitoring_mode mode) noexcept;  // "auto", "stream", "poll"

// One readPreferenceTags entry, e.g. "dc:ny,rack:1" -> {{"dc","ny"},{"rack","1"}}.
using tag_set = std::vector<std::pair<std::string, std::string>>;

// Write concern "w": a number of nodes or a mode / tag-set name such as "majority".
using w_option = std::variant<std::int32_t, std::string>;

// Everything a connection string says. Options the string does not give are nullopt (or empty):
// the client applies the specs' defaults.
struct connection_string {
  std::vector<host_address> hosts;  // empty for mongodb+srv until the SRV lookup fills it
  // mongodb+srv:// (initial-dns-seedlist-discovery.md): the name to look up (lower-cased).
  std::optional<std::string> srv_host;
  std::optional<std::string> srv_service_name;  // default "mongodb"
  std::optional<std::int32_t> srv_max_hosts;    // 0 = no maximum
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<std::string> auth_database;  // the "/db" path, percent-decoded

  // Topology
  std::optional<std::string> replica_set;
  std::optional<bool> direct_connection;
  std::optional<bool> load_balanced;
  std::optional<std::string> app_name;  // at most 128 bytes (handshake spec)

  // Wire compression (compression/OP_COMPRESSED.md "Connection String Options"): snappy, zlib
  // and/or zstd in priority order (unknown names are dropped with a warning); zlib's level.
  std::vector<std::string> compressors;
  std::optional<std::int32_t> zlib_compression_level;  // -1 (zlib's default) to 9

  // TLS
  std::optional<bool> tls;  // tls and ssl are aliases
  std::optional<std::string> tls_ca_file;
  std::optional<std::string> tls_certificate_key_file;
  std::optional<std::string> tls_certificate_key_file_password;
  std::optional<bool> tls_allow_invalid_certificates;
  std::optional<bool> tls_allow_invalid_hostnames;
  std::optional<bool> tls_insecure;
  std::optional<bool> tls_disable_ocsp_endpoint_check;
  std::optional<bool> tls_disable_certificate_revocation_check;

  // SOCKS5 proxy (socks5.md): every connection, monitors' too, goes through it; host names
  // are resolved by the proxy.
  std::optional<std::string> proxy_host;
  std::optional<std::int32_t> proxy_port;  // default 1080
  std::optional<std::string> proxy_username;
  std::optional<std::string> proxy_password;  // printed as "****"

  // Authentication
  std::optional<std::string> auth_source;
  std::optional<std::string> auth_mechanism;  // canonical upper-case name, e.g. "SCRAM-SHA-256"
  std::vector<std::pair<std::string, std::string>> auth_mechanism_properties;

  // Connection pool
  std::optional<std::int32_t> max_pool_size;  // 0 = no maximum
  std::optional<std::int32_t> min_pool_size;
  std::optional<std::int32_t> max_connecting;         // > 0
  std::optional<std::int32_t> wait_queue_timeout_ms;  // > 0
  std::optional<std::int32_t> max_idle_time_ms;       // 0 = no limit

  // Timeouts and monitoring
  std::optional<std::int32_t> connect_timeout_ms;           // 0 = no timeout
  std::optional<std::int32_t> socket_timeout_ms;            // 0 = no timeout
  std::optional<std::int32_t> server_selection_timeout_ms;  // > 0
  std::optional<std::int32_t> heartbeat_frequency_ms;       // >= 500
  std::optional<std::int32_t> local_threshold_ms;
  std::optional<server_monitoring_mode> monitoring_mode;  // serverMonitoringMode
  std::optional<std::int64_t> timeout_ms;                 // CSOT; 0 = no timeout

  // Retryability
  std::optional<bool> retry_writes;
  std::optional<bool> retry_reads;
  // client-backpressure.md, "Overload retry policy"
  std::optional<std::int32_t> max_adaptive_retries;  // >= 0
  std::optional<bool> enable_overload_retargeting;

  // Read and write concern
  std::optional<std::string> read_concern_level;
  std::optional<w_option> w;
  std::optional<std::int64_t> wtimeout_ms;
  std::optional<bool> journal;

  // Read preference
  std::optional<read_preference_mode> read_preference;
  std::vector<tag_set> read_preference_tags;          // in URI order; an empty tag_set matches any server
  std::optional<std::int32_t> max_staleness_seconds;  // -1 = no maximum

  // Unknown options, repeated options, ignored values: one human-readable line each.
  std::vector<std::string> warnings;

  // The connection string in canonical form with secrets (password, proxyPassword,
  // tlsCertificateKeyFilePassword, AWS_SESSION_TOKEN) replaced by "****". For logs.
  std::string to_string() const;
};

struct uri_parse_settings {
  // false: an invalid option value is ignored with a warning, as the URI options spec says.
  bool invalid_value_is_error = true;
  // true: mongodb+srv:// gives srv_host (and no hosts) instead of an error. For callers that
  // only inspect the string or do the DNS lookup themselves.
  bool accept_srv = false;
  // true: percent-encoded socket paths ("%2Ftmp%2Fmongodb-27017.sock") are hosts instead of
  // an error. For callers that only inspect the string or can connect to them.
  bool accept_unix_sockets = false;
};

// Pure functions (no I/O, no shared state: any thread). Parses `uri` into `out` (which is
// reset first). On failure returns client_errc::invalid_uri and sets `error_message` to what
// was wrong and where; `out` is then unspecified.
error_code parse_uri(std::string_view uri, connection_string& out, std::string& error_message,
                     const uri_parse_settings& settings = {});

// Throwing convenience: mongowire::error(client_errc::invalid_uri) with the message in diag().
connection_string parse_uri(std::string_view uri, const uri_parse_settings& settings = {});

}  // namespace mongowire
