// Connection string structure: scheme, user info, hosts, auth database.
// Cases adapted from connection-string-spec.md and its test suite (valid-auth, invalid-uris,
// valid-options), plus our own malformed inputs.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "mongowire/uri.hpp"

using namespace mongowire;

namespace {

std::string join_hosts(const connection_string& cs) {
  std::string out;
  for (const auto& h : cs.hosts) out += (out.empty() ? "" : ",") + h.to_string();
  return out;
}

struct valid_case {
  const char* uri;
  const char* hosts;
  std::optional<std::string> user, password, db;
};

struct invalid_case {
  const char* uri;
  const char* message_part;  // the error must say this
};

}  // namespace

TEST_CASE("uri: valid hosts, user info and auth database are split and percent-decoded (connection-string-spec)") {
  const std::vector<valid_case> cases = {
      {"mongodb://localhost", "localhost:27017", {}, {}, {}},
      {"mongodb://localhost/", "localhost:27017", {}, {}, {}},
      {"mongodb://localhost:27018", "localhost:27018", {}, {}, {}},
      {"mongodb://LocalHost:1", "localhost:1", {}, {}, {}},
      {"mongodb://127.0.0.1:65535", "127.0.0.1:65535", {}, {}, {}},
      {"mongodb://[::1]", "[::1]:27017", {}, {}, {}},
      {"mongodb://[::1]:27018/", "[::1]:27018", {}, {}, {}},
      {"mongodb://[FE80::1]", "[fe80::1]:27017", {}, {}, {}},
      {"mongodb://a,b:2,[::1]:3", "a:27017,b:2,[::1]:3", {}, {}, {}},
      {"mongodb://bücher.example.com,umläut.example.com/",
       "bücher.example.com:27017,umläut.example.com:27017",
       {},
       {},
       {}},
      {"mongodb://alice:foo@127.0.0.1", "127.0.0.1:27017", "alice", "foo", {}},
      {"mongodb://alice:foo@127.0.0.1/test", "127.0.0.1:27017", "alice", "foo", "test"},
      {"mongodb://bob:bar@[::1]:27018/admin", "[::1]:27018", "bob", "bar", "admin"},
      {"mongodb://alice:secret@example.com,[::1]:27019/admin", "example.com:27017,[::1]:27019", "alice", "secret",
       "admin"},
      {"mongodb://alice@127.0.0.1", "127.0.0.1:27017", "alice", {}, {}},
      {"mongodb://alice:@127.0.0.1", "127.0.0.1:27017", "alice", "", {}},
      {"mongodb://%40l%3Ace%2F%3D@example.com/my%3Ddb", "example.com:27017", "@l:ce/=", {}, "my=db"},
      {"mongodb://%24am:f%3Azzb%40z%2Fz%3D@127.0.0.1/admin%3F", "127.0.0.1:27017", "$am", "f:zzb@z/z=", "admin?"},
      {"mongodb://!$&'()*+,;=:!$&'()*+,;=@127.0.0.1/admin", "127.0.0.1:27017", "!$&'()*+,;=", "!$&'()*+,;=", "admin"},
      {"mongodb://user%40EXAMPLE.COM:secret@localhost", "localhost:27017", "user@EXAMPLE.COM", "secret", {}},
      {"mongodb://u:p%25@h/db.coll", "h:27017", "u", "p%", "db.coll"},
      {"mongodb://alice:secret@example.com/admin?replicaset=my@replicaset", "example.com:27017", "alice", "secret",
       "admin"},
      {"mongodb://example.com?tls=true", "example.com:27017", {}, {}, {}},
      {"MONGODB://example.com", "example.com:27017", {}, {}, {}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.uri);
    connection_string cs;
    std::string message;
    const auto ec = parse_uri(c.uri, cs, message);
    REQUIRE_MESSAGE(!ec, message);
    CHECK(join_hosts(cs) == c.hosts);
    CHECK(cs.username == c.user);
    CHECK(cs.password == c.password);
    CHECK(cs.auth_database == c.db);
    CHECK(cs.warnings.empty());
  }
}

TEST_CASE("uri: malformed connection strings are errors that say what is wrong (connection-string-spec)") {
  const std::vector<invalid_case> cases = {
      {"", "empty connection string"},
      {"mongo://localhost:27017", "unsupported scheme 'mongo'"},
      {"localhost:27017", "must start with 'mongodb://'"},
      {"mongodb:/localhost", "must start with 'mongodb://'"},
      {"mongodb://", "missing host"},
      {"mongodb:///db", "missing host"},
      {"mongodb://?w=1", "missing host"},
      {"mongodb://localhost::27017", "invalid port ':27017'"},
      {"mongodb://localhost::27017/", "invalid port"},
      {"mongodb://::", "empty host name"},
      {"mongodb://localhost,localhost::", "host #2"},
      {"mongodb://localhost::27017,abc", "host #1"},
      {"mongodb://localhost:-1", "invalid port '-1'"},
      {"mongodb://localhost:0/", "invalid port '0'"},
      {"mongodb://localhost:65536", "invalid port '65536'"},
      {"mongodb://localhost:65536/", "from 1 to 65535"},
      {"mongodb://localhost:foo", "invalid port 'foo'"},
      {"mongodb://localhost:", "invalid port ''"},
      {"mongodb://localhost:0000027017", "invalid port"},
      {"mongodb://localhost:+27", "invalid port"},
      {"mongodb://localhost: 27", "invalid port"},
      {"mongodb://[::1]:-1", "invalid port"},
      {"mongodb://[::1]:0/", "invalid port"},
      {"mongodb://[::1]:65536", "invalid port"},
      {"mongodb://[::1]:65536/", "invalid port"},
      {"mongodb://[::1]:foo", "invalid port"},
      {"mongodb://[::1", "no closing ']'"},
      {"mongodb://[::1]x", "unexpected 'x'"},
      {"mongodb://[]", "not an IPv6 address"},
      {"mongodb://[not-an-ip]:27017", "not an IPv6 address"},
      {"mongodb://[127.0.0.1]", "not an IPv6 address"},
      {"mongodb://::1", "empty host name"},
      {"mongodb://a,,b", "host #2"},
      {"mongodb://a,", "host #2"},
      {"mongodb://,a", "host #1"},
      {"mongodb://exa mple.com", "not allowed in host name"},
      {"mongodb://exa%20mple.com", "not allowed in host name"},
      {"mongodb://host%", "invalid percent-encoding"},
      {"mongodb://host%zz", "invalid percent-encoding"},
      {"mongodb://ho%00st", "NUL byte"},
      {"mongodb://example.com/?w", "has no '=value'"},
      {"mongodb://example.com/?w=1&journal", "option 'journal'"},
      {"mongodb://alice:foo:bar@127.0.0.1", "more than one ':'"},
      {"mongodb://alice@@127.0.0.1", "unescaped '@'"},
      {"mongodb://alice@foo:bar@127.0.0.1", "unescaped '@'"},
      {"mongodb://alice/@localhost/db", "forbidden character '/'"},
      {"mongodb://alice/bob:foo@localhost/db", "forbidden character '/'"},
      {"mongodb://alice:foo/bar@localhost/db", "invalid port 'foo'"},
      {"mongodb://alice%foo:bar@127.0.0.1", "invalid percent-encoding '%fo'"},
      {"mongodb://user%20%:password@localhost", "invalid percent-encoding '%'"},
      {"mongodb://user%w:password@localhost", "invalid percent-encoding '%w'"},
      {"mongodb://:password@localhost", "empty user name"},
      {"mongodb://@localhost", "empty user name"},
      {"mongodb://us er:pw@localhost", "unescaped ' '"},
      {"mongodb://us#er:pw@localhost", "unescaped '#'"},
      {"mongodb://us[er:pw@localhost", "unescaped '['"},
      {"mongodb://us\ter:pw@localhost", "control byte 0x09"},
      {"mongodb://u:p@", "missing host"},
      {"mongodb:///tmp/mongodb-27017.sock/", "socket paths must be percent-encoded"},
      {"mongodb://%2Ftmp%2Fmongodb-27017.sock", "UNIX domain sockets are not supported"},
      {"mongodb://user:pass@%2Ftmp%2Fmongodb-27017.sock/authDB?replicaSet=rs", "UNIX domain sockets are not supported"},
      {"mongodb://a%2Fb", "cannot contain '/'"},
      {"mongodb://localhost/my db", "forbidden character ' '"},
      {"mongodb://localhost/a%5Cb", "forbidden character '\\'"},
      {"mongodb://localhost/a%22b", "forbidden character '\"'"},
      {"mongodb://localhost/%24db", "forbidden character '$'"},
      {"mongodb://localhost/a%2Fb", "forbidden character '/'"},
      {"mongodb://localhost/db%", "invalid percent-encoding"},
      {"mongodb+srv://test5.test.mongodb.com,test6.test.mongodb.com", "SRV lookup, which is not supported"},
      {"mongodb+srv://test7.test.mongodb.com:27018", "SRV lookup"},
      {"mongodb+srv://cluster0.example.com/?tls=true", "SRV lookup"},
      {"mongodb+rawsrv://tcp.test7.test.mongodb.com", "unsupported scheme 'mongodb+rawsrv'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.uri);
    connection_string cs;
    std::string message;
    const auto ec = parse_uri(c.uri, cs, message);
    CHECK(ec == client_errc::invalid_uri);
    CHECK_MESSAGE(message.find(c.message_part) != std::string::npos, message);
  }
}

TEST_CASE("uri: the throwing overload carries invalid_uri and the message") {
  try {
    (void)parse_uri("mongodb://localhost:99999");
    FAIL("expected mongowire::error");
  } catch (const mongowire::error& e) {
    CHECK(e.code() == client_errc::invalid_uri);
    CHECK(e.diag().client_message.find("invalid port '99999'") != std::string::npos);
  }
  CHECK(parse_uri("mongodb://h:1").hosts.at(0).port == 1);
}

TEST_CASE("uri: parse_uri resets the output before parsing") {
  connection_string cs;
  std::string message;
  REQUIRE(!parse_uri("mongodb://u:p@a,b/db?foo=1", cs, message));
  REQUIRE(cs.warnings.size() == 1);
  REQUIRE(!parse_uri("mongodb://c", cs, message));
  CHECK(cs.hosts.size() == 1);
  CHECK_FALSE(cs.username);
  CHECK_FALSE(cs.auth_database);
  CHECK(cs.warnings.empty());
}

TEST_CASE("uri: to_string is canonical and redacts secrets") {
  const auto cs = parse_uri(
      "mongodb://us%40er:p%40ss@Example.com:27018,[::1]/my%3Fdb?replicaSet=rs0&w=majority&tls=true"
      "&tlsCertificateKeyFilePassword=hunter2&authMechanism=MONGODB-AWS"
      "&authMechanismProperties=AWS_SESSION_TOKEN:tok,X:y&readPreference=secondary&readPreferenceTags=dc:ny"
      "&readPreferenceTags=");
  const auto text = cs.to_string();
  CHECK(text.find("p%40ss") == std::string::npos);
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(text.find("tok") == std::string::npos);
  CHECK(text ==
        "mongodb://us%40er:****@example.com:27018,[::1]:27017/my%3Fdb?authMechanism=MONGODB-AWS"
        "&authMechanismProperties=AWS_SESSION_TOKEN:****,X:y&readPreference=secondary&readPreferenceTags=dc:ny"
        "&readPreferenceTags=&replicaSet=rs0&tls=true&tlsCertificateKeyFilePassword=****&w=majority");
}

TEST_CASE("uri: SOCKS5 proxy options (socks5.md): port defaults to none given, password redacted, bad value named") {
  const auto cs = parse_uri("mongodb://h/?proxyHost=proxy.example&proxyUsername=u&proxyPassword=pr0xy");
  CHECK(cs.proxy_host == "proxy.example");
  CHECK_FALSE(cs.proxy_port);  // the client applies socks5.md's default, 1080
  CHECK(cs.to_string() == "mongodb://h:27017/?proxyHost=proxy.example&proxyPassword=****&proxyUsername=u");
  connection_string out;
  std::string why;
  CHECK(parse_uri("mongodb://h/?proxyHost=p&proxyPort=65536", out, why));
  CHECK(why == "invalid value '65536' for URI option 'proxyPort': expected an integer from 0 to 65535");
  CHECK(parse_uri("mongodb://h/?proxyHost=p&proxyUsername=u&proxyPassword=x&proxyPassword=s3cr3t", out, why));
  CHECK(why == "URI option 'proxyPassword' is given more than once");
  CHECK(parse_uri("mongodb://h/?proxyUsername=u&proxyPassword=s3cr3t", out, why));
  CHECK(why == "URI option 'proxyUsername' needs proxyHost");
}

TEST_CASE("uri: to_string output parses back to the same settings when there are no secrets") {
  const auto cs = parse_uri(
      "mongodb://a:1,b:2/admin?maxPoolSize=7&minPoolSize=2&w=2&journal=true&appName=my%20app&timeoutMS=9"
      "&retryWrites=false&readConcernLevel=majority&wTimeoutMS=5000000000");
  const auto again = parse_uri(cs.to_string());
  CHECK(again.to_string() == cs.to_string());
  CHECK(again.app_name == "my app");
  CHECK(again.wtimeout_ms == 5000000000LL);
  CHECK(std::get<std::int32_t>(*again.w) == 2);
}

TEST_CASE("uri: arbitrary bytes never crash the parser and every failure has a message") {
  std::mt19937 rng(12345);
  const std::string alphabet = "mongodb:/@?&=%[]:,.0123456789abcdefAF-_~+$ \x01\xff";
  for (int i = 0; i < 20000; ++i) {
    std::string uri = (i % 2) ? "mongodb://" : "";
    const int len = static_cast<int>(rng() % 40);
    for (int j = 0; j < len; ++j) uri.push_back(alphabet[rng() % alphabet.size()]);
    connection_string cs;
    std::string message;
    const auto ec = parse_uri(uri, cs, message);
    if (ec) {
      CHECK(ec == client_errc::invalid_uri);
      CHECK_FALSE(message.empty());
    } else {
      CHECK_FALSE(cs.hosts.empty());
    }
  }
}

TEST_CASE("uri: a raw NUL byte is refused wherever it is, as \"%00\" is (found by fuzz_uri)") {
  using namespace std::string_view_literals;
  for (auto uri : {"mongodb://example.com/\0db"sv, "mongodb://example.com/?appName=a\0b"sv, "mongodb://a\0b"sv}) {
    connection_string cs;
    std::string message;
    CHECK(parse_uri(uri, cs, message) == client_errc::invalid_uri);
    CHECK_MESSAGE(message.find("NUL byte at offset") != std::string::npos, message);
  }
}
