// TLS end to end (issue 11): mongowire clients against the embedded test server requiring TLS,
// with certificates made at test time. Verification of the certificate and of the host name is
// on by default; tlsCAFile, tlsCertificateKeyFile (+ password), tlsAllowInvalidCertificates,
// tlsAllowInvalidHostnames and tlsInsecure relax or extend it as uri-options.md says; a
// plain-TCP client cannot reach a TLS-only server and a TLS client fails clearly on a plain one.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "../client/client_support.hpp"
#include "certificates.hpp"
#include "mongowire/client.hpp"
#include "net/embedded_server.hpp"

namespace tls_test {
namespace {

namespace asio = boost::asio;
using namespace mongowire;
using client_test::run;

// One set of certificates for the whole run (P-256 keys are quick, but once is enough).
const certificate_files& certificates() {
  static const certificate_files files = make_certificates();
  static const struct cleanup {
    ~cleanup() { remove_certificates(files); }
  } remove_at_exit;
  return files;
}

struct tls_server {
  std::mutex mutex;
  std::vector<std::string> log;       // the server's protocol log (TLS handshake failures)
  std::vector<std::string> commands;  // the names of the commands it ran
  std::unique_ptr<testd::embedded_server> server;

  explicit tls_server(std::string certificate_key_file, std::string ca_file = "", testd::server_options core = {}) {
    core.command_log = [this](const testd::command_log_entry& e) {
      std::lock_guard lock(mutex);
      commands.emplace_back(e.command_name);
      if (e.command.contains("speculativeAuthenticate")) commands.emplace_back("speculativeAuthenticate");
    };
    testd::listen_options listen;
    listen.tls_certificate_key_file = std::move(certificate_key_file);
    listen.tls_ca_file = std::move(ca_file);
    listen.log = [this](const std::string& line) {
      std::lock_guard lock(mutex);
      log.push_back(line);
    };
    server = std::make_unique<testd::embedded_server>(std::move(core), std::move(listen));
  }
  std::string uri(std::string_view host, std::string_view options) const {
    return "mongodb://" + std::string(host) + ":" + std::to_string(server->port()) +
           "/?directConnection=true&serverSelectionTimeoutMS=1500&" + std::string(options);
  }
  bool logged(std::string_view text) {
    std::lock_guard lock(mutex);
    for (const auto& line : log)
      if (line.find(text) != std::string::npos) return true;
    return false;
  }
  std::size_t ran(std::string_view name) {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(std::count(commands.begin(), commands.end(), name));
  }
};

testd::server_options with_user(testd::initial_user user) {
  testd::server_options o;
  o.auth = true;
  o.users.push_back(std::move(user));
  return o;
}

struct outcome {
  error_code ec;
  diagnostics diag;
  std::chrono::milliseconds took{0};
};

outcome ping(const std::string& uri) {
  asio::io_context io;
  client c(io.get_executor(), uri);
  outcome out;
  const auto start = std::chrono::steady_clock::now();
  out.ec = run(io, [&]() -> asio::awaitable<error_code> {
    bson::document reply;
    auto cmd = bson::document::from_json(R"({"ping": 1})");
    auto ec = co_await c.run_command("admin", std::move(cmd), reply, out.diag);
    co_await c.close();
    co_return ec;
  }());
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return out;
}

// The connection was refused, and the reason names the TLS verdict.
void check_refused(const outcome& o, std::string_view reason) {
  CHECK(o.ec);
  CAPTURE(describe(o.diag));
  CHECK(describe(o.diag).find("TLS handshake") != std::string::npos);
  CHECK(describe(o.diag).find(reason) != std::string::npos);
}

// Issue 11 "Done when": testd --auth --tls-certificate-key-file --tls-ca-file, and a URI with
// tlsCAFile but no client certificate (the CA file makes one optional, as mongod's
// allowConnectionsWithoutCertificates).
TEST_CASE("a client without a certificate, trusting the CA, authenticates and commits a transaction over TLS") {
  const auto& certs = certificates();
  tls_server s(certs.server, certs.ca, with_user({"alice", "s3cr3t"}));
  for (std::string host : {"localhost", "127.0.0.1"}) {  // the certificate names both
    CAPTURE(host);
    asio::io_context io;
    client c(io.get_executor(), "mongodb://alice:s3cr3t@" + host + ":" + std::to_string(s.server->port()) +
                                    "/?replicaSet=rs0&tls=true&tlsCAFile=" + certs.ca);
    diagnostics diag;
    auto ec = run(io, [&]() -> asio::awaitable<error_code> {
      auto session = c.start_session();
      session.start_transaction();
      bson::document reply;
      auto insert = bson::document::from_json(R"({"insert": "c", "documents": [{"x": 1}]})");
      auto failed = co_await session.run_command("app", std::move(insert), reply, diag);
      if (!failed) failed = co_await session.commit_transaction(diag);
      co_await c.close();
      co_return failed;
    }());
    CHECK_MESSAGE(!ec, describe(diag));
  }
}

TEST_CASE("certificate verification is on by default: unknown CA, expired certificate") {
  const auto& certs = certificates();
  {
    tls_server s(certs.server);
    check_refused(ping(s.uri("localhost", "tls=true&tlsCAFile=" + certs.other_ca)), "certificate verify failed");
    check_refused(ping(s.uri("localhost", "tls=true")), "certificate verify failed");  // not in the system store
    CHECK_FALSE(ping(s.uri("localhost", "tls=true&tlsAllowInvalidCertificates=true")).ec);
    CHECK_FALSE(ping(s.uri("localhost", "tls=true&tlsInsecure=true")).ec);
  }
  tls_server expired(certs.server_expired);
  check_refused(ping(expired.uri("localhost", "tls=true&tlsCAFile=" + certs.ca)), "certificate has expired");
}

TEST_CASE("host name verification is on by default; tlsAllowInvalidHostnames and tlsInsecure turn it off") {
  const auto& certs = certificates();
  tls_server s(certs.server_other_host);
  check_refused(ping(s.uri("localhost", "tls=true&tlsCAFile=" + certs.ca)), "hostname mismatch");
  check_refused(ping(s.uri("127.0.0.1", "tls=true&tlsCAFile=" + certs.ca)), "IP address mismatch");
  CHECK_FALSE(ping(s.uri("localhost", "tls=true&tlsAllowInvalidHostnames=true&tlsCAFile=" + certs.ca)).ec);
  CHECK_FALSE(ping(s.uri("localhost", "tls=true&tlsInsecure=true")).ec);
  // tlsAllowInvalidHostnames does not trust an unknown CA.
  check_refused(ping(s.uri("localhost", "tls=true&tlsAllowInvalidHostnames=true&tlsCAFile=" + certs.other_ca)),
                "certificate verify failed");
}

TEST_CASE("a server with a CA file verifies the client certificate: tlsCertificateKeyFile, with its password") {
  const auto& certs = certificates();
  tls_server s(certs.server, certs.ca);
  const std::string base = "tls=true&tlsCAFile=" + certs.ca;
  CHECK_FALSE(ping(s.uri("localhost", base)).ec);  // no certificate is allowed
  CHECK(ping(s.uri("localhost", base + "&tlsCertificateKeyFile=" + certs.client_other_ca)).ec);
  CHECK(s.logged("TLS handshake failed"));  // the server refused the stranger's certificate
  auto with_cert = ping(s.uri("localhost", base + "&tlsCertificateKeyFile=" + certs.client));
  CHECK_MESSAGE(!with_cert.ec, describe(with_cert.diag));
  auto encrypted = ping(s.uri("localhost", base + "&tlsCertificateKeyFile=" + certs.client_encrypted +
                                               "&tlsCertificateKeyFilePassword=" + certs.password));
  CHECK_MESSAGE(!encrypted.ec, describe(encrypted.diag));
}

TEST_CASE("a plain-TCP client cannot reach a TLS-only server; a TLS client fails fast on a plain one") {
  const auto& certs = certificates();
  tls_server tls_only(certs.server);
  auto plain = ping(tls_only.uri("localhost", "appName=plain"));
  CHECK(plain.ec);
  CHECK(tls_only.logged("TLS handshake failed"));
  testd::embedded_server plain_server;
  auto tls_client = ping("mongodb://localhost:" + std::to_string(plain_server.port()) +
                         "/?directConnection=true&serverSelectionTimeoutMS=1500&tls=true&tlsCAFile=" + certs.ca);
  CHECK(tls_client.ec);
  CAPTURE(describe(tls_client.diag));
  CHECK(describe(tls_client.diag).find("TLS handshake") != std::string::npos);
  CHECK(tls_client.took < std::chrono::milliseconds(5000));  // within serverSelectionTimeoutMS, not a hang
}

TEST_CASE("MONGODB-X509: the client certificate's subject is the user, authenticated in the hello") {
  const auto& certs = certificates();
  tls_server s(certs.server, certs.ca, with_user({"CN=client,O=mongowire tests", "", "$external"}));
  const std::string x509 = "tls=true&tlsCAFile=" + certs.ca + "&authMechanism=MONGODB-X509&tlsCertificateKeyFile=";
  asio::io_context io;
  client c(io.get_executor(), s.uri("localhost", x509 + certs.client));
  diagnostics diag;
  auto ec = run(io, [&]() -> asio::awaitable<error_code> {
    bson::document reply;
    auto insert = bson::document::from_json(R"({"insert": "c", "documents": [{"x": 1}]})");
    auto failed = co_await c.run_command("app", std::move(insert), reply, diag);
    co_await c.close();
    co_return failed;
  }());
  CHECK_MESSAGE(!ec, describe(diag));
  CHECK(s.ran("speculativeAuthenticate") >= 1);
  CHECK(s.ran("authenticate") == 0);  // handshake.md: speculative, no extra round trip
  // The user name, when given, must be the subject (auth.md: sent as given).
  auto with_user_name = [&](std::string_view user) {
    return "mongodb://" + std::string(user) + "@localhost:" + std::to_string(s.server->port()) +
           "/?directConnection=true&serverSelectionTimeoutMS=1500&" + x509 + certs.client;
  };
  auto named = ping(with_user_name("CN%3Dclient%2CO%3Dmongowire%20tests"));
  CHECK_MESSAGE(!named.ec, describe(named.diag));
  auto wrong = ping(with_user_name("CN%3Dsomeone"));
  CHECK(wrong.ec == make_server_error(18));
  CHECK(describe(wrong.diag).find("MONGODB-X509 authentication failed") != std::string::npos);
  auto unmapped = ping(s.uri("localhost", x509 + certs.server));  // CN=localhost: no such user
  CHECK(unmapped.ec == make_server_error(18));
  CHECK(s.ran("authenticate") == 2);  // the refused speculative attempts were retried once each
}

TEST_CASE("MONGODB-X509 without TLS or without a client certificate is refused when the client is built") {
  for (std::string options : {"authMechanism=MONGODB-X509", "authMechanism=MONGODB-X509&tls=true"}) {
    asio::io_context io;
    try {
      client c(io.get_executor(), "mongodb://localhost/?" + options);
      FAIL("accepted " << options);
    } catch (const mongowire::error& e) {
      CHECK(e.code() == client_errc::invalid_uri);
      CHECK(describe(e.diag()).find("tlsCertificateKeyFile") != std::string::npos);
    }
  }
}

}  // namespace
}  // namespace tls_test
