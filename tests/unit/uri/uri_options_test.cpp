// URI options: typed values, invalid values, warnings and cross-option rules.
// Cases adapted from uri-options.md and its test suite (connection-options, connection-pool-options,
// concern-options, tls-options, auth-options, read-preference-options) and from
// connection-string/tests (valid-options, valid-warnings), plus our own.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>
#include <vector>

#include "mongowire/uri.hpp"

using namespace mongowire;

namespace {

connection_string parse_ok(const std::string& uri, const uri_parse_settings& settings = {}) {
  connection_string cs;
  std::string message;
  const auto ec = parse_uri(uri, cs, message, settings);
  INFO(uri);
  REQUIRE_MESSAGE(!ec, message);
  return cs;
}

std::string parse_error(const std::string& uri, const uri_parse_settings& settings = {}) {
  connection_string cs;
  std::string message;
  const auto ec = parse_uri(uri, cs, message, settings);
  INFO(uri);
  CHECK(ec == client_errc::invalid_uri);
  return message;
}

bool has_warning(const connection_string& cs, std::string_view part) {
  for (const auto& w : cs.warnings)
    if (w.find(part) != std::string::npos) return true;
  return false;
}

const uri_parse_settings lenient{.invalid_value_is_error = false};

}  // namespace

TEST_CASE("uri options: valid connection and timeout options are typed (uri-options connection-options)") {
  const auto cs = parse_ok(
      "mongodb://example.com/?appname=URI-OPTIONS-SPEC-TEST&connectTimeoutMS=20000&heartbeatFrequencyMS=5000"
      "&localThresholdMS=3000&maxIdleTimeMS=50000&replicaSet=uri-options-spec&retryWrites=true"
      "&serverSelectionTimeoutMS=15000&socketTimeoutMS=7500&timeoutMS=100&retryReads=false");
  CHECK(cs.app_name == "URI-OPTIONS-SPEC-TEST");
  CHECK(cs.connect_timeout_ms == 20000);
  CHECK(cs.heartbeat_frequency_ms == 5000);
  CHECK(cs.local_threshold_ms == 3000);
  CHECK(cs.max_idle_time_ms == 50000);
  CHECK(cs.replica_set == "uri-options-spec");
  CHECK(cs.retry_writes == true);
  CHECK(cs.retry_reads == false);
  CHECK(cs.server_selection_timeout_ms == 15000);
  CHECK(cs.socket_timeout_ms == 7500);
  CHECK(cs.timeout_ms == 100);
  CHECK(cs.warnings.empty());
}

TEST_CASE("uri options: pool options, including the 0 means unlimited values (connection-pool-options)") {
  auto cs = parse_ok(
      "mongodb://example.com/?maxIdleTimeMS=50000&maxPoolSize=5&minPoolSize=3&maxConnecting=1"
      "&waitQueueTimeoutMS=1000");
  CHECK(cs.max_pool_size == 5);
  CHECK(cs.min_pool_size == 3);
  CHECK(cs.max_connecting == 1);
  CHECK(cs.wait_queue_timeout_ms == 1000);
  CHECK(parse_ok("mongodb://example.com/?maxPoolSize=0").max_pool_size == 0);
  CHECK(parse_ok("mongodb://example.com/?minPoolSize=0").min_pool_size == 0);
  CHECK(parse_ok("mongodb://example.com/?minPoolSize=10&maxPoolSize=0").min_pool_size == 10);
  CHECK(parse_ok("mongodb://example.com/?minPoolSize=5&maxPoolSize=5").min_pool_size == 5);
  CHECK(parse_ok("mongodb://example.com/?timeoutMS=0").timeout_ms == 0);
  CHECK(parse_ok("mongodb://example.com/?heartbeatFrequencyMS=500").heartbeat_frequency_ms == 500);
}

TEST_CASE("uri options: read and write concern (concern-options); w is a number or a string") {
  const auto cs = parse_ok("mongodb://example.com/?readConcernLevel=majority&w=5&wTimeoutMS=30000&journal=false");
  CHECK(cs.read_concern_level == "majority");
  CHECK(std::get<std::int32_t>(*cs.w) == 5);
  CHECK(cs.wtimeout_ms == 30000);
  CHECK(cs.journal == false);
  CHECK(parse_ok("mongodb://e/?readConcernLevel=arbitraryButStillValid").read_concern_level ==
        "arbitraryButStillValid");
  CHECK(std::get<std::string>(*parse_ok("mongodb://e/?w=arbitraryButStillValid").w) == "arbitraryButStillValid");
  CHECK(std::get<std::string>(*parse_ok("mongodb://e/?w=majority").w) == "majority");
  CHECK(std::get<std::int32_t>(*parse_ok("mongodb://e/?w=0").w) == 0);
  CHECK(parse_ok("mongodb://e/?w=0&journal=false").journal == false);
  CHECK(parse_ok("mongodb://e/?w=1&journal=true").journal == true);
  CHECK(parse_ok("mongodb://e/?w=majority&journal=true").journal == true);
  CHECK(parse_ok("mongodb://e/?wTimeoutMS=5000000000").wtimeout_ms == 5000000000LL);
}

TEST_CASE("uri options: TLS options; tls and ssl are aliases that must agree (tls-options)") {
  auto cs = parse_ok(
      "mongodb://example.com/?tls=true&tlsCAFile=ca.pem&tlsCertificateKeyFile=cert.pem"
      "&tlsCertificateKeyFilePassword=hunter2&tlsAllowInvalidHostnames=true");
  CHECK(cs.tls == true);
  CHECK(cs.tls_ca_file == "ca.pem");
  CHECK(cs.tls_certificate_key_file == "cert.pem");
  CHECK(cs.tls_certificate_key_file_password == "hunter2");
  CHECK(cs.tls_allow_invalid_hostnames == true);
  CHECK(parse_ok("mongodb://e/?tlsAllowInvalidCertificates=true").tls_allow_invalid_certificates == true);
  CHECK(parse_ok("mongodb://e/?tlsInsecure=true").tls_insecure == true);
  CHECK(parse_ok("mongodb://e/?ssl=TRUE").tls == true);
  CHECK(parse_ok("mongodb://e/?tlsDisableOCSPEndpointCheck=true").tls_disable_ocsp_endpoint_check == true);
  CHECK(parse_ok("mongodb://e/?tlsDisableCertificateRevocationCheck=false").tls_disable_certificate_revocation_check ==
        false);
  for (const char* agree : {"tls=true&ssl=true", "tls=false&ssl=false", "ssl=true&tls=true", "ssl=false&tls=false",
                            "tls=true&tls=true", "ssl=true&ssl=true&tls=true"}) {
    const auto same = parse_ok(std::string("mongodb://e/?") + agree);
    CHECK_MESSAGE(same.warnings.empty(), agree);
  }
  CHECK_FALSE(parse_ok("mongodb://e/?tlsCAFile=ca.pem").tls);  // never enabled implicitly
}

TEST_CASE("uri options: auth options and key:value properties (auth-options, valid-options)") {
  auto cs = parse_ok(
      "mongodb://example.com/?authMechanism=GSSAPI&authMechanismProperties=SERVICE_NAME:other,CANONICALIZE_HOST_NAME:"
      "true&authSource=$external");
  CHECK(cs.auth_mechanism == "GSSAPI");
  CHECK(cs.auth_source == "$external");
  REQUIRE(cs.auth_mechanism_properties.size() == 2);
  CHECK(cs.auth_mechanism_properties[0] == std::pair<std::string, std::string>{"SERVICE_NAME", "other"});
  CHECK(cs.auth_mechanism_properties[1] == std::pair<std::string, std::string>{"CANONICALIZE_HOST_NAME", "true"});
  // A value may contain ':' (connection-string-spec.md, "Key value pairs").
  cs = parse_ok("mongodb://example.com?authMechanismProperties=TOKEN_RESOURCE:mongodb://test-cluster");
  REQUIRE(cs.auth_mechanism_properties.size() == 1);
  CHECK(cs.auth_mechanism_properties[0].second == "mongodb://test-cluster");
  // Option names are case-insensitive; mechanism names are stored canonically.
  CHECK(parse_ok("mongodb://alice:secret@example.com/admin?AUTHMechanism=MONGODB-CR").auth_mechanism == "MONGODB-CR");
  CHECK(parse_ok("mongodb://e/?authmechanism=scram-sha-256").auth_mechanism == "SCRAM-SHA-256");
  CHECK(parse_ok("mongodb://e/?REPLICASET=rs&DirectConnection=TRUE").direct_connection == true);
  CHECK(parse_ok("mongodb://e/?replica%53et=rs").replica_set == "rs");  // names are percent-decoded too
}

TEST_CASE("uri options: read preference, tag sets in order, maxStalenessSeconds (read-preference-options)") {
  const auto cs = parse_ok(
      "mongodb://example.com/?readPreference=primaryPreferred&readPreferenceTags=dc:ny,rack:1"
      "&maxStalenessSeconds=120&readPreferenceTags=dc:ny&readPreferenceTags=");
  CHECK(cs.read_preference == read_preference_mode::primary_preferred);
  REQUIRE(cs.read_preference_tags.size() == 3);
  CHECK(cs.read_preference_tags[0] == tag_set{{"dc", "ny"}, {"rack", "1"}});
  CHECK(cs.read_preference_tags[1] == tag_set{{"dc", "ny"}});
  CHECK(cs.read_preference_tags[2].empty());
  CHECK(cs.max_staleness_seconds == 120);
  CHECK(cs.warnings.empty());
  using m = read_preference_mode;
  const std::pair<const char*, m> modes[] = {{"primary", m::primary},
                                             {"secondary", m::secondary},
                                             {"secondaryPreferred", m::secondary_preferred},
                                             {"nearest", m::nearest}};
  for (auto [name, mode] : modes)
    CHECK(parse_ok(std::string("mongodb://e/?readPreference=") + name).read_preference == mode);
  CHECK(parse_ok("mongodb://e/?readPreference=primary&readPreferenceTags=").read_preference_tags.size() == 1);
  CHECK(parse_ok("mongodb://e/?maxStalenessSeconds=-1").max_staleness_seconds == -1);
}

TEST_CASE("uri options: directConnection and loadBalanced (connection-options)") {
  CHECK(parse_ok("mongodb://example.com/?directConnection=true").direct_connection == true);
  CHECK(parse_ok("mongodb://example.com/?directConnection=false").direct_connection == false);
  CHECK(parse_ok("mongodb://example1.com,example2.com/?directConnection=false").hosts.size() == 2);
  CHECK(parse_ok("mongodb://example.com/?loadBalanced=true").load_balanced == true);
  CHECK(parse_ok("mongodb://example.com/?loadBalanced=true&directConnection=false").load_balanced == true);
  CHECK(parse_ok("mongodb://example.com/?loadBalanced=false").load_balanced == false);
  CHECK(parse_ok("mongodb://example.com/?directConnection=true&replicaSet=rs").replica_set == "rs");
}

TEST_CASE("uri options: an invalid value is an error naming the option and the value, or a warning when lenient") {
  struct row {
    const char* query;
    const char* option;
    const char* value;
  };
  const std::string long_app_name(129, 'a');
  const std::vector<row> rows = {
      {"connectTimeoutMS=invalid", "connectTimeoutMS", "invalid"},
      {"connectTimeoutMS=-2", "connectTimeoutMS", "-2"},
      {"connectTimeoutMS=1.5", "connectTimeoutMS", "1.5"},
      {"connectTimeoutMS=%2B5", "connectTimeoutMS", "+5"},
      {"connectTimeoutMS=%205", "connectTimeoutMS", " 5"},
      {"connectTimeoutMS=5%20", "connectTimeoutMS", "5 "},
      {"connectTimeoutMS=0x10", "connectTimeoutMS", "0x10"},
      {"connectTimeoutMS=2147483648", "connectTimeoutMS", "2147483648"},
      {"connectTimeoutMS=99999999999999999999", "connectTimeoutMS", "99999999999999999999"},
      {"heartbeatFrequencyMS=invalid", "heartbeatFrequencyMS", "invalid"},
      {"heartbeatFrequencyMS=-2", "heartbeatFrequencyMS", "-2"},
      {"heartbeatFrequencyMS=499", "heartbeatFrequencyMS", "499"},
      {"localThresholdMS=invalid", "localThresholdMS", "invalid"},
      {"localThresholdMS=-2", "localThresholdMS", "-2"},
      {"retryWrites=invalid", "retryWrites", "invalid"},
      {"retryWrites=1", "retryWrites", "1"},
      {"retryReads=yes", "retryReads", "yes"},
      {"serverSelectionTimeoutMS=invalid", "serverSelectionTimeoutMS", "invalid"},
      {"serverSelectionTimeoutMS=-2", "serverSelectionTimeoutMS", "-2"},
      {"serverSelectionTimeoutMS=0", "serverSelectionTimeoutMS", "0"},
      {"socketTimeoutMS=invalid", "socketTimeoutMS", "invalid"},
      {"socketTimeoutMS=-2", "socketTimeoutMS", "-2"},
      {"directConnection=invalid", "directConnection", "invalid"},
      {"loadBalanced=1", "loadBalanced", "1"},
      {"timeoutMS=invalid", "timeoutMS", "invalid"},
      {"timeoutMS=-2", "timeoutMS", "-2"},
      {"timeoutMS=-1000", "timeoutMS", "-1000"},
      {"maxIdleTimeMS=invalid", "maxIdleTimeMS", "invalid"},
      {"maxIdleTimeMS=-2", "maxIdleTimeMS", "-2"},
      {"maxConnecting=0", "maxConnecting", "0"},
      {"maxConnecting=-1", "maxConnecting", "-1"},
      {"maxPoolSize=-1", "maxPoolSize", "-1"},
      {"minPoolSize=-1", "minPoolSize", "-1"},
      {"waitQueueTimeoutMS=0", "waitQueueTimeoutMS", "0"},
      {"waitQueueTimeoutMS=-1", "waitQueueTimeoutMS", "-1"},
      {"waitQueueTimeoutMS=invalid", "waitQueueTimeoutMS", "invalid"},
      {"w=-2", "w", "-2"},
      {"w=-", "w", "-"},
      {"w=2147483648", "w", "2147483648"},
      {"wTimeoutMS=invalid", "wTimeoutMS", "invalid"},
      {"wTimeoutMS=-2", "wTimeoutMS", "-2"},
      {"journal=invalid", "journal", "invalid"},
      {"tlsAllowInvalidCertificates=invalid", "tlsAllowInvalidCertificates", "invalid"},
      {"tlsAllowInvalidHostnames=invalid", "tlsAllowInvalidHostnames", "invalid"},
      {"tlsInsecure=invalid", "tlsInsecure", "invalid"},
      {"tls=yes", "tls", "yes"},
      {"ssl=0", "ssl", "0"},
      {"readPreferenceTags=invalid", "readPreferenceTags", "invalid"},
      {"readPreferenceTags=dc:ny,", "readPreferenceTags", "dc:ny,"},
      {"readPreferenceTags=:ny", "readPreferenceTags", ":ny"},
      {"maxStalenessSeconds=invalid", "maxStalenessSeconds", "invalid"},
      {"maxStalenessSeconds=-2", "maxStalenessSeconds", "-2"},
      {"maxStalenessSeconds=0", "maxStalenessSeconds", "0"},
      {"maxStalenessSeconds=89", "maxStalenessSeconds", "89"},
      {"readPreference=PRIMARYX", "readPreference", "PRIMARYX"},
      {"authMechanism=SCRAM-SHA-512", "authMechanism", "SCRAM-SHA-512"},
      {"authMechanismProperties=SERVICE_NAME", "authMechanismProperties", "SERVICE_NAME"},
      {"authMechanism=MONGODB-OIDC&authMechanismProperties=TOKEN_RESOURCE:mongodb://host1%2Chost2",
       "authMechanismProperties", "TOKEN_RESOURCE:mongodb://host1,host2"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.query);
    const std::string uri = std::string("mongodb://example.com/?") + r.query;
    const std::string expected = fmt::format("invalid value '{}' for URI option '{}'", r.value, r.option);
    const auto message = parse_error(uri);
    CHECK_MESSAGE(message.find(expected) != std::string::npos, message);

    const auto cs = parse_ok(uri, lenient);
    CHECK(has_warning(cs, expected));
    CHECK(has_warning(cs, "(ignored)"));
  }
  const auto message = parse_error("mongodb://e/?appName=" + long_app_name);
  CHECK(message.find("129 bytes long, the limit is 128") != std::string::npos);
  CHECK_FALSE(parse_ok("mongodb://e/?appName=" + long_app_name, lenient).app_name);
  CHECK(parse_ok("mongodb://e/?appName=" + std::string(128, 'a')).app_name->size() == 128);
}

TEST_CASE("uri options: when lenient, an invalid value leaves the option unset and a later valid value wins") {
  auto cs = parse_ok("mongodb://example.com/?connectTimeoutMS=bad&maxPoolSize=-1", lenient);
  CHECK_FALSE(cs.connect_timeout_ms);
  CHECK_FALSE(cs.max_pool_size);
  CHECK(cs.to_string() == "mongodb://example.com:27017/");
  cs = parse_ok("mongodb://example.com/?connectTimeoutMS=bad&connectTimeoutMS=5", lenient);
  CHECK(cs.connect_timeout_ms == 5);
}

TEST_CASE("uri options: secrets are not echoed in invalid-value messages") {
  // Only string options hold secrets and they accept any value, so this checks the warnings of
  // repeated keys instead: they name the option, never its values.
  const auto cs = parse_ok("mongodb://e/?tlsCertificateKeyFilePassword=one&tlsCertificateKeyFilePassword=two");
  CHECK(cs.tls_certificate_key_file_password == "two");
  REQUIRE(cs.warnings.size() == 1);
  CHECK(cs.warnings[0].find("one") == std::string::npos);
  CHECK(cs.warnings[0].find("two") == std::string::npos);
}

TEST_CASE("uri options: option combinations the specs forbid are errors even when lenient") {
  struct row {
    const char* uri;
    const char* message_part;
  };
  const std::vector<row> rows = {
      {"mongodb://example1.com,example2.com/?directConnection=true",
       "directConnection=true cannot be used with 2 hosts"},
      {"mongodb://example1,example2/?loadBalanced=true", "loadBalanced=true cannot be used with multiple hosts"},
      {"mongodb://example.com/?loadBalanced=true&directConnection=true", "cannot be used with directConnection=true"},
      {"mongodb://example.com/?loadBalanced=true&replicaSet=replset", "cannot be used with replicaSet"},
      {"mongodb://e/?tlsInsecure=true&tlsAllowInvalidCertificates=true",
       "'tlsInsecure' and 'tlsAllowInvalidCertificates'"},
      {"mongodb://e/?tlsInsecure=false&tlsAllowInvalidCertificates=false",
       "'tlsInsecure' and 'tlsAllowInvalidCertificates'"},
      {"mongodb://e/?tlsAllowInvalidCertificates=true&tlsInsecure=true",
       "'tlsInsecure' and 'tlsAllowInvalidCertificates'"},
      {"mongodb://e/?tlsAllowInvalidCertificates=false&tlsInsecure=false", "cannot be given together"},
      {"mongodb://e/?tlsInsecure=true&tlsAllowInvalidHostnames=true", "'tlsInsecure' and 'tlsAllowInvalidHostnames'"},
      {"mongodb://e/?tlsInsecure=false&tlsAllowInvalidHostnames=false", "'tlsInsecure' and 'tlsAllowInvalidHostnames'"},
      {"mongodb://e/?tlsAllowInvalidHostnames=true&tlsInsecure=true", "'tlsInsecure' and 'tlsAllowInvalidHostnames'"},
      {"mongodb://e/?tlsInsecure=true&tlsDisableOCSPEndpointCheck=true",
       "'tlsInsecure' and 'tlsDisableOCSPEndpointCheck'"},
      {"mongodb://e/?tlsInsecure=true&tlsDisableCertificateRevocationCheck=false",
       "'tlsInsecure' and 'tlsDisableCertificateRevocationCheck'"},
      {"mongodb://e/?tlsAllowInvalidCertificates=true&tlsDisableOCSPEndpointCheck=true",
       "'tlsAllowInvalidCertificates' and 'tlsDisableOCSPEndpointCheck'"},
      {"mongodb://e/?tlsAllowInvalidCertificates=true&tlsDisableCertificateRevocationCheck=true",
       "'tlsAllowInvalidCertificates' and 'tlsDisableCertificateRevocationCheck'"},
      {"mongodb://e/?tlsDisableOCSPEndpointCheck=true&tlsDisableCertificateRevocationCheck=true",
       "'tlsDisableOCSPEndpointCheck' and 'tlsDisableCertificateRevocationCheck'"},
      {"mongodb://e/?tls=false&ssl=true", "all instances of 'tls' and 'ssl' must have the same value"},
      {"mongodb://e/?tls=true&ssl=false", "conflicting URI option 'ssl'"},
      {"mongodb://e/?ssl=false&tls=true", "conflicting URI option 'tls'"},
      {"mongodb://e/?ssl=true&tls=false", "must have the same value"},
      {"mongodb://e/?tls=true&tls=false", "must have the same value"},
      {"mongodb://e/?minPoolSize=10&maxPoolSize=5", "minPoolSize (10) is greater than maxPoolSize (5)"},
      {"mongodb://e/?w=0&journal=true", "w=0 cannot be combined with journal=true"},
      {"mongodb://e/?readPreference=primary&readPreferenceTags=dc:ny",
       "readPreferenceTags cannot be used with readPreference=primary"},
      {"mongodb://e/?readPreferenceTags=dc:ny", "readPreferenceTags cannot be used"},
      {"mongodb://e/?maxStalenessSeconds=120", "maxStalenessSeconds cannot be used with readPreference=primary"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.uri);
    for (const auto& settings : {uri_parse_settings{}, lenient}) {
      const auto message = parse_error(r.uri, settings);
      CHECK_MESSAGE(message.find(r.message_part) != std::string::npos, message);
    }
  }
}

TEST_CASE("uri options: unknown, repeated and empty options are warnings (valid-warnings)") {
  auto cs = parse_ok("mongodb://example.com/?foo=bar");
  CHECK(cs.warnings == std::vector<std::string>{"Unsupported URI option 'foo' ignored"});
  CHECK(cs.to_string() == "mongodb://example.com:27017/");

  CHECK(has_warning(parse_ok("mongodb://example.com/?fsync=ifPossible"), "'fsync'"));

  cs = parse_ok("mongodb://example.com/?replicaSet=test&replicaSet=test2");
  CHECK(cs.replica_set == "test2");
  CHECK(cs.warnings == std::vector<std::string>{"URI option 'replicaSet' is repeated; the last value is used"});

  // A repeat spelled differently is still the same option.
  cs = parse_ok("mongodb://example.com/?w=1&W=2");
  CHECK(std::get<std::int32_t>(*cs.w) == 2);
  CHECK(has_warning(cs, "'w' is repeated"));

  cs = parse_ok("mongodb://example.com/?wtimeout=5&wTimeoutMS=10");
  CHECK(cs.wtimeout_ms == 10);
  CHECK(has_warning(cs, "'wtimeout'"));

  cs = parse_ok("mongodb://localhost/?maxIdleTimeMS=");
  CHECK_FALSE(cs.max_idle_time_ms);
  CHECK(has_warning(cs, "'maxIdleTimeMS' has an empty value"));

  cs = parse_ok("mongodb://localhost/?journal=");
  CHECK_FALSE(cs.journal);
  CHECK(has_warning(cs, "'journal' has an empty value"));

  cs = parse_ok("mongodb://localhost/?readPreference=nearest&readPreferenceTags=a:1&readPreferenceTags=b:2");
  CHECK(cs.read_preference_tags.size() == 2);
  CHECK(cs.warnings.empty());

  cs = parse_ok("mongodb://localhost/?&&w=1&&");
  CHECK(std::get<std::int32_t>(*cs.w) == 1);
  CHECK(cs.warnings.empty());
}

TEST_CASE("uri options: percent-encoding errors in options are errors, not warnings") {
  for (const auto& settings : {uri_parse_settings{}, lenient}) {
    CHECK(parse_error("mongodb://e/?appName=a%zz", settings).find("invalid percent-encoding '%zz'") !=
          std::string::npos);
    CHECK(parse_error("mongodb://e/?app%4=x", settings).find("option names") != std::string::npos);
    CHECK(parse_error("mongodb://e/?replicaSet=a%00b", settings).find("NUL byte") != std::string::npos);
  }
}

TEST_CASE("uri options: serverMonitoringMode is stream, poll or auto (server-monitoring.md)") {
  CHECK(!parse_ok("mongodb://h/").monitoring_mode);
  CHECK(parse_ok("mongodb://h/?serverMonitoringMode=stream").monitoring_mode == server_monitoring_mode::stream);
  CHECK(parse_ok("mongodb://h/?serverMonitoringMode=poll").monitoring_mode == server_monitoring_mode::poll);
  CHECK(parse_ok("mongodb://h/?serverMonitoringMode=auto").monitoring_mode == server_monitoring_mode::automatic);
  CHECK(parse_error("mongodb://h/?serverMonitoringMode=push").find("stream, poll or auto") != std::string::npos);
  CHECK(parse_ok("mongodb://h/?serverMonitoringMode=poll").to_string().find("serverMonitoringMode=poll") !=
        std::string::npos);
}

TEST_CASE("uri options: compressors in priority order; unknown ones warn and are dropped (OP_COMPRESSED.md)") {
  auto cs = parse_ok("mongodb://h/?compressors=zstd,snappy,zlib&zlibCompressionLevel=9");
  CHECK(cs.compressors == std::vector<std::string>{"zstd", "snappy", "zlib"});
  CHECK(cs.zlib_compression_level == 9);
  CHECK(cs.warnings.empty());
  CHECK(cs.to_string() == "mongodb://h:27017/?compressors=zstd,snappy,zlib&zlibCompressionLevel=9");
  cs = parse_ok("mongodb://h/?compressors=snoopy,zlib,zlib");
  CHECK(cs.compressors == std::vector<std::string>{"zlib"});
  CHECK(has_warning(cs, "Unsupported compressor 'snoopy'"));
  cs = parse_ok("mongodb://h/?compressors=snoopy");
  CHECK(cs.compressors.empty());
  CHECK(parse_ok("mongodb://h/?zlibCompressionLevel=-1").zlib_compression_level == -1);
  CHECK(parse_error("mongodb://h/?zlibCompressionLevel=10").find("zlibCompressionLevel") != std::string::npos);
  uri_parse_settings lenient;
  lenient.invalid_value_is_error = false;
  cs = parse_ok("mongodb://h/?compressors=zlib&zlibCompressionLevel=-2", lenient);
  CHECK_FALSE(cs.zlib_compression_level);
  CHECK(has_warning(cs, "zlibCompressionLevel"));
}
