// The runner of the "connection string" test format shared by three suites:
// connection-string/ (connection-string/tests/README.md), uri-options/
// (uri-options/tests/README.md) and auth/ (auth/tests/README.md). Each test parses `uri` with the
// project's parser (and, for auth/, derives the credential) and compares what the test gives.
#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "mongowire/bson.hpp"
#include "mongowire/uri.hpp"
#include "proto/auth/credential.hpp"
#include "report.hpp"
#include "value.hpp"
#include "spec_file.hpp"

namespace mongowire::spec {
namespace {

using mismatch = std::optional<std::string>;  // the first difference, or nullopt
using detail::auth::credential;

// ---------------------------------------------------------------- small helpers

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool iequals(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

// Values the comparison details must not echo from our side (the expected value comes from
// the file, where the test data itself shows it).
bool is_secret(std::string_view path) {
  const std::string name = lower(path.substr(path.rfind('.') + 1));
  return name.find("password") != std::string::npos || name == "aws_session_token";
}

std::string field_mismatch(const std::string& path, const bson::element& expected, const std::string& got) {
  return "field " + path + ": expected " + describe(expected) + ", got " + got;
}

std::string shown(const std::string& path, const bson::element& actual) {
  if (!actual) return "nothing";
  return is_secret(path) ? std::string("a value (not shown: secret)") : describe(actual);
}

// ---------------------------------------------------------------- value comparison

mismatch compare_values(const bson::element& expected, const bson::element& actual, const std::string& path);

// Documents match when they have the same keys (in any order) with matching values.
mismatch compare_documents(bson::view expected, bson::view actual, const std::string& path) {
  for (const auto& e : expected)
    if (auto m = compare_values(e, actual.find(e.key()), path + "." + std::string(e.key()))) return m;
  for (const auto& a : actual)
    if (!expected.contains(a.key()))
      return "field " + path + "." + std::string(a.key()) + ": expected nothing, got " +
             shown(path + "." + std::string(a.key()), a);
  return std::nullopt;
}

mismatch compare_arrays(bson::view expected, bson::view actual, const std::string& path) {
  if (expected.count() != actual.count())
    return "field " + path + ": expected " + std::to_string(expected.count()) + " elements, got " +
           std::to_string(actual.count());
  auto a = actual.begin();
  std::size_t i = 0;
  for (const auto& e : expected) {
    if (auto m = compare_values(e, *a, path + "[" + std::to_string(i++) + "]")) return m;
    ++a;
  }
  return std::nullopt;
}

bool same_scalar(const bson::element& e, const bson::element& a) {
  if (e.is_number() && a.is_number()) {
    if (e.type() != BSON_TYPE_DOUBLE && a.type() != BSON_TYPE_DOUBLE) return e.as_int64() == a.as_int64();
    return e.as_number() == a.as_number();
  }
  if (e.type() != a.type()) return false;
  if (e.is_bool()) return e.as_bool() == a.as_bool();
  if (e.is_string()) return e.as_string() == a.as_string();
  return e.is_null();
}

// Exact comparison with the spec's value types: numbers by value, strings case-sensitively.
mismatch compare_values(const bson::element& expected, const bson::element& actual, const std::string& path) {
  if (!actual) return field_mismatch(path, expected, "nothing");
  if (expected.is_document() && actual.is_document())
    return compare_documents(*expected.as_document(), *actual.as_document(), path);
  if (expected.is_array() && actual.is_array()) return compare_arrays(*expected.as_array(), *actual.as_array(), path);
  if (!same_scalar(expected, actual)) return field_mismatch(path, expected, shown(path, actual));
  return std::nullopt;
}

// ---------------------------------------------------------------- what our parser produced

template <class T>
void put(bson::document& d, std::string_view name, const std::optional<T>& value) {
  if (value) d.append(name, *value);
}

bson::document key_value_document(const std::vector<std::pair<std::string, std::string>>& pairs) {
  bson::document d;
  for (const auto& [key, value] : pairs) d.append(key, value);
  return d;
}

// uri-options.md names and value types of the options the parser has.
void put_connection_options(const connection_string& cs, bson::document& d) {
  put(d, "appName", cs.app_name);
  if (!cs.compressors.empty()) {
    bson::array_builder names;
    for (const auto& c : cs.compressors) names.push(std::string_view(c));
    d.append_array("compressors", names.get_view());
  }
  put(d, "connectTimeoutMS", cs.connect_timeout_ms);
  put(d, "directConnection", cs.direct_connection);
  put(d, "enableOverloadRetargeting", cs.enable_overload_retargeting);
  put(d, "heartbeatFrequencyMS", cs.heartbeat_frequency_ms);
  put(d, "loadBalanced", cs.load_balanced);
  put(d, "localThresholdMS", cs.local_threshold_ms);
  put(d, "maxAdaptiveRetries", cs.max_adaptive_retries);
  put(d, "maxConnecting", cs.max_connecting);
  put(d, "maxIdleTimeMS", cs.max_idle_time_ms);
  put(d, "maxPoolSize", cs.max_pool_size);
  put(d, "minPoolSize", cs.min_pool_size);
  put(d, "replicaSet", cs.replica_set);
  put(d, "retryReads", cs.retry_reads);
  put(d, "retryWrites", cs.retry_writes);
  put(d, "serverSelectionTimeoutMS", cs.server_selection_timeout_ms);
  put(d, "socketTimeoutMS", cs.socket_timeout_ms);
  put(d, "srvMaxHosts", cs.srv_max_hosts);
  put(d, "srvServiceName", cs.srv_service_name);
  put(d, "timeoutMS", cs.timeout_ms);
  put(d, "waitQueueTimeoutMS", cs.wait_queue_timeout_ms);
  put(d, "zlibCompressionLevel", cs.zlib_compression_level);
}

void put_tls_options(const connection_string& cs, bson::document& d) {
  put(d, "tls", cs.tls);
  put(d, "tlsAllowInvalidCertificates", cs.tls_allow_invalid_certificates);
  put(d, "tlsAllowInvalidHostnames", cs.tls_allow_invalid_hostnames);
  put(d, "tlsCAFile", cs.tls_ca_file);
  put(d, "tlsCertificateKeyFile", cs.tls_certificate_key_file);
  put(d, "tlsCertificateKeyFilePassword", cs.tls_certificate_key_file_password);
  put(d, "tlsDisableCertificateRevocationCheck", cs.tls_disable_certificate_revocation_check);
  put(d, "tlsDisableOCSPEndpointCheck", cs.tls_disable_ocsp_endpoint_check);
  put(d, "tlsInsecure", cs.tls_insecure);
}

void put_auth_and_concern_options(const connection_string& cs, bson::document& d) {
  put(d, "authMechanism", cs.auth_mechanism);
  if (!cs.auth_mechanism_properties.empty())
    d.append("authMechanismProperties", key_value_document(cs.auth_mechanism_properties));
  put(d, "authSource", cs.auth_source);
  put(d, "journal", cs.journal);
  put(d, "readConcernLevel", cs.read_concern_level);
  if (cs.w) std::visit([&](const auto& w) { d.append("w", w); }, *cs.w);
  put(d, "wTimeoutMS", cs.wtimeout_ms);
  if (cs.read_preference) d.append("readPreference", to_string(*cs.read_preference));
  if (!cs.read_preference_tags.empty()) {
    bson::array_builder tags;
    for (const auto& tag_set : cs.read_preference_tags) tags.push(key_value_document(tag_set).get_view());
    d.append_array("readPreferenceTags", tags.get_view());
  }
  put(d, "maxStalenessSeconds", cs.max_staleness_seconds);
}

bson::document parsed_options(const connection_string& cs) {
  bson::document d;
  put_connection_options(cs, d);
  put_tls_options(cs, d);
  put_auth_and_concern_options(cs, d);
  return d;
}

// connection-string/tests/README.md, "hosts": "ipv4", "ip_literal", "hostname" or "unix".
std::string host_type(const host_address& h) {
  if (h.is_unix_socket()) return "unix";
  if (h.is_ipv6_literal()) return "ip_literal";
  in_addr v4{};
  return ::inet_pton(AF_INET, h.host.c_str(), &v4) == 1 ? "ipv4" : "hostname";
}

bson::document parsed_host(const host_address& h) {
  bson::document d;
  d.append("type", host_type(h));
  d.append("host", h.host);
  if (!h.is_unix_socket()) d.append("port", static_cast<std::int32_t>(h.port));
  return d;
}

bson::document parsed_auth(const connection_string& cs) {
  bson::document d;
  put(d, "username", cs.username);
  put(d, "password", cs.password);
  put(d, "db", cs.auth_database);
  return d;
}

bson::document parsed_credential(const credential& c) {
  bson::document d;
  put(d, "username", c.username);
  put(d, "password", c.password);
  d.append("source", c.source);
  put(d, "mechanism", c.mechanism);
  if (!c.mechanism_properties.empty()) d.append("mechanism_properties", key_value_document(c.mechanism_properties));
  return d;
}

// ---------------------------------------------------------------- one test

// What parsing the test's URI gave.
struct outcome {
  bool parsed = false;
  std::string parse_error;
  connection_string cs;
  std::optional<credential> cred;
  std::string credential_error;  // non-empty: the URI configures an invalid credential
};

// The spec's behaviour where our defaults are stricter (uri.hpp): invalid values warn, and the
// string forms the I/O layer cannot use yet are still parsed, so that the tests judge the parser.
uri_parse_settings spec_settings() {
  uri_parse_settings s;
  s.invalid_value_is_error = false;
  s.accept_srv = true;
  s.accept_unix_sockets = true;
  return s;
}

outcome parse(const std::string& uri) {
  outcome o;
  o.parsed = !parse_uri(uri, o.cs, o.parse_error, spec_settings());
  if (o.parsed) detail::auth::credential_from(o.cs, o.cred, o.credential_error);
  return o;
}

// Keys of the query part, lower-cased (for the optional-option skips).
std::vector<std::string> query_keys(std::string_view uri) {
  std::vector<std::string> keys;
  const auto q = uri.find('?');
  if (q == std::string_view::npos) return keys;
  std::string_view rest = uri.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    keys.push_back(lower(pair.substr(0, pair.find('='))));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return keys;
}

struct test_case {
  bson::view doc;
  std::string description;
  std::string uri;
  bool valid = false;
  bool auth_suite = false;  // validity includes the credential (auth/tests/README.md)
};

// uri-options/tests/README.md: "drivers will need to implement logic to skip over the optional
// tests that they don't implement". Only options the spec marks optional belong here.
std::optional<std::string> unimplemented_optional_option(const test_case& t) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 1> optional_options{{
      {"serverselectiontryonce",
       "serverSelectionTryOnce is required only of single-threaded drivers "
       "(uri-options.md); mongowire is asynchronous and does not implement it"},
  }};
  for (const auto& key : query_keys(t.uri))
    for (const auto& [name, why] : optional_options)
      if (key == name) return std::string(why);
  return std::nullopt;
}

bool is_srv(std::string_view uri) { return lower(uri.substr(0, 14)) == "mongodb+srv://"; }

// Hosts and credentials of a valid mongodb+srv:// string come from DNS SRV and TXT records
// (initial-dns-seedlist-discovery.md); validity and URI options are judged on the string alone.
std::optional<std::string> skip_reason(const test_case& t) {
  if (is_srv(t.uri) && t.valid) {
    const auto hosts = t.doc.find("hosts");
    const auto cred = t.doc.find("credential");
    if ((hosts && !hosts.is_null()) || (cred && !cred.is_null()))
      return std::string("mongodb+srv needs DNS SRV resolution (not supported)");
  }
  return unimplemented_optional_option(t);
}

mismatch check_valid(const test_case& t, const outcome& o) {
  const std::string error = !o.parsed ? o.parse_error : t.auth_suite ? o.credential_error : std::string();
  const bool valid = o.parsed && error.empty();
  if (valid == t.valid) return std::nullopt;
  if (valid) return std::string("field valid: expected false, got true");
  return "field valid: expected true, got false (" + error + ")";
}

std::string joined_warnings(const connection_string& cs) {
  std::string out;
  for (const auto& w : cs.warnings) out += (out.empty() ? "" : "; ") + w;
  return out;
}

mismatch check_warning(const bson::element& expected, const outcome& o) {
  if (!expected || expected.is_null()) return std::nullopt;  // README: null, no assertion
  const auto want = expected.as_bool();
  if (!want) return std::string("malformed test: 'warning' must be a boolean");
  const bool got = !o.cs.warnings.empty();
  if (got == *want) return std::nullopt;
  return got ? "field warning: expected false, got true (" + joined_warnings(o.cs) + ")"
             : std::string("field warning: expected true, got false");
}

// connection-string/tests/README.md: null values need no assertion (e.g. `port: ~`, where a
// driver may substitute the default port).
mismatch compare_non_null_fields(bson::view expected, bson::view actual, const std::string& path) {
  for (const auto& e : expected) {
    if (e.is_null()) continue;
    if (auto m = compare_values(e, actual.find(e.key()), path + "." + std::string(e.key()))) return m;
  }
  return std::nullopt;
}

mismatch check_hosts(const bson::element& expected, const outcome& o) {
  if (!expected || expected.is_null()) return std::nullopt;
  const auto list = expected.as_array();
  if (!list) return std::string("malformed test: 'hosts' must be an array");
  if (list->count() != o.cs.hosts.size())
    return "field hosts: expected " + std::to_string(list->count()) + " hosts, got " +
           std::to_string(o.cs.hosts.size());
  std::size_t i = 0;
  for (const auto& e : *list) {
    const auto want = e.as_document();
    if (!want) return std::string("malformed test: 'hosts' must contain documents");
    const auto got = parsed_host(o.cs.hosts[i]);
    if (auto m = compare_non_null_fields(*want, got, "hosts[" + std::to_string(i) + "]")) return m;
    ++i;
  }
  return std::nullopt;
}

// `auth` fields that are null must be absent: the parser tells "no password" from "empty
// password" (valid-auth.json has both), so asserting it is stricter than the README asks.
mismatch check_auth(const bson::element& expected, const outcome& o) {
  if (!expected || expected.is_null()) return std::nullopt;
  const auto want = expected.as_document();
  if (!want) return std::string("malformed test: 'auth' must be a document");
  const auto got = parsed_auth(o.cs);
  for (const auto& e : *want) {
    const std::string path = "auth." + std::string(e.key());
    const auto actual = got.find(e.key());
    if (e.is_null() && actual) return field_mismatch(path, e, shown(path, actual));
    if (!e.is_null())
      if (auto m = compare_values(e, actual, path)) return m;
  }
  return std::nullopt;
}

// Option names are compared case-insensitively (connection-string-spec.md, "Keys"); "ssl" is an
// alias of "tls" (uri-options.md). Only the options the test lists are compared.
bson::element find_option(bson::view options, std::string_view name) {
  const std::string wanted = iequals(name, "ssl") ? std::string("tls") : lower(name);
  for (const auto& e : options)
    if (lower(e.key()) == wanted) return e;
  return {};
}

mismatch check_options(const bson::element& expected, const outcome& o) {
  if (!expected || expected.is_null()) return std::nullopt;
  const auto want = expected.as_document();
  if (!want) return std::string("malformed test: 'options' must be a document");
  const auto got = parsed_options(o.cs);
  for (const auto& e : *want) {
    const std::string path = "options." + std::string(e.key());
    const auto actual = find_option(got, e.key());
    if (!actual) return field_mismatch(path, e, "nothing (option not parsed)");
    if (auto m = compare_values(e, actual, path)) return m;
  }
  return std::nullopt;
}

// auth/tests/README.md: null means "uninitialized"; mechanism_properties is a subset match.
mismatch check_credential_field(const bson::element& e, bson::view got) {
  const std::string path = "credential." + std::string(e.key());
  const auto actual = got.find(e.key());
  if (e.is_null()) return actual ? std::optional(field_mismatch(path, e, shown(path, actual))) : std::nullopt;
  if (e.key() != "mechanism_properties") return compare_values(e, actual, path);
  const auto props = e.as_document();
  if (!props) return std::string("malformed test: 'mechanism_properties' must be a document or null");
  const auto actual_props = actual.as_document().value_or(bson::view{});
  for (const auto& p : *props)
    if (auto m = compare_values(p, actual_props.find(p.key()), path + "." + std::string(p.key()))) return m;
  return std::nullopt;
}

mismatch check_credential(const bson::element& expected, const outcome& o) {
  if (!expected) return std::nullopt;  // README: a missing key needs no assertion
  if (!o.credential_error.empty())
    return "field credential: expected " + describe(expected) + ", got an error (" + o.credential_error + ")";
  if (expected.is_null()) {
    if (!o.cred) return std::nullopt;
    return "field credential: expected null, got a credential (mechanism " + o.cred->mechanism.value_or("default") +
           ")";
  }
  const auto want = expected.as_document();
  if (!want) return std::string("malformed test: 'credential' must be a document or null");
  if (!o.cred) return std::string("field credential: expected a credential, got none");
  constexpr std::array<std::string_view, 5> fields{"username", "password", "source", "mechanism",
                                                   "mechanism_properties"};
  const auto got = parsed_credential(*o.cred);
  for (const auto& e : *want) {
    if (std::find(fields.begin(), fields.end(), e.key()) == fields.end())
      return "malformed test: unknown credential field '" + std::string(e.key()) + "'";
    if (auto m = check_credential_field(e, got)) return m;
  }
  return std::nullopt;
}

mismatch check_fields_of_valid_uri(const test_case& t, const outcome& o) {
  if (auto m = check_warning(t.doc.find("warning"), o)) return m;
  if (auto m = check_hosts(t.doc.find("hosts"), o)) return m;
  if (auto m = check_auth(t.doc.find("auth"), o)) return m;
  if (auto m = check_options(t.doc.find("options"), o)) return m;
  return check_credential(t.doc.find("credential"), o);
}

// connection-string/tests/README.md and auth/tests/README.md, "Format".
mismatch read_test_case(bson::view doc, test_case& t) {
  constexpr std::array<std::string_view, 8> known{"description", "uri",  "valid",   "warning",
                                                  "hosts",       "auth", "options", "credential"};
  for (const auto& f : doc)
    if (std::find(known.begin(), known.end(), f.key()) == known.end())
      return "malformed test: unknown field '" + std::string(f.key()) + "'";
  const auto uri = doc.find("uri").as_string();
  const auto valid = doc.find("valid").as_bool();
  if (!doc.find("description").as_string() || !uri || !valid)
    return std::string("malformed test: 'description', 'uri' (strings) and 'valid' (boolean) are required");
  t.doc = doc;
  t.uri = std::string(*uri);
  t.valid = *valid;
  return std::nullopt;
}

test_report run_test(bson::view doc, const std::string& display, std::string description, bool auth_suite) {
  test_case t;
  t.description = std::move(description);
  t.auth_suite = auth_suite;
  auto report = [&](test_status status, std::string detail) {
    return test_report{status, display, t.description, std::move(detail)};
  };
  if (auto m = read_test_case(doc, t)) return report(test_status::fail, *m);
  if (auto why = skip_reason(t)) return report(test_status::skip, *why);
  const outcome o = parse(t.uri);
  if (auto m = check_valid(t, o)) return report(test_status::fail, *m);
  // After an error the parser's output is unspecified (uri.hpp), so the other fields, warnings
  // included, are judged on valid strings only.
  if (!t.valid) return report(test_status::pass, {});
  if (auto m = check_fields_of_valid_uri(t, o)) return report(test_status::fail, *m);
  return report(test_status::pass, {});
}

// auth/tests/README.md: "valid" covers building the credential, not only parsing. The suite is
// auth/ (auth/legacy/ upstream).
bool is_auth_suite(const std::filesystem::path& file, const std::string& display) {
  const auto dir = file.parent_path();
  return display.starts_with("auth/") || dir.filename() == "auth" ||
         (dir.filename() == "legacy" && dir.parent_path().filename() == "auth");
}

void run_tests(bson::view file_doc, const std::filesystem::path& file, const std::string& display,
               const report_sink& report) {
  const bool auth_suite = is_auth_suite(file, display);
  const bson::view tests = file_doc.find("tests").as_array().value_or(bson::view{});
  std::size_t index = 0;
  for (const auto& entry : tests) {
    const auto doc = entry.as_document();
    const std::string fallback = "(test #" + std::to_string(index++) + ")";
    if (!doc) {
      report({test_status::fail, display, "(file)", fallback + " is not a document"});
      continue;
    }
    const auto description = doc->find("description").as_string();
    try {
      report(run_test(*doc, display, description ? std::string(*description) : fallback, auth_suite));
    } catch (const std::exception& e) {
      report({test_status::fail, display, description ? std::string(*description) : fallback,
              std::string("runner error: ") + e.what()});
    }
  }
}

}  // namespace

void run_connection_string_file(const std::filesystem::path& file, const std::string& display,
                                const report_sink& report) {
  auto fail_file = [&](const std::string& why) { report({test_status::fail, display, "(file)", why}); };
  try {
    std::string why;
    const auto doc = read_json_file(file, why);
    if (!doc) return fail_file(why);
    for (const auto& f : doc->get_view())
      if (f.key() != "tests") return fail_file("unknown top-level field '" + std::string(f.key()) + "'");
    if (!doc->find("tests").as_array()) return fail_file("the file has no 'tests' array");
    run_tests(doc->get_view(), file, display, report);
  } catch (const std::exception& e) {
    fail_file(e.what());
  } catch (...) {
    fail_file("unknown exception");
  }
}

}  // namespace mongowire::spec
