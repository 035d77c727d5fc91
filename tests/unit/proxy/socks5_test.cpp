// socks5_handshake: the bytes of RFC 1928 / RFC 1929 exchanges, and every refusal named.
#include <doctest/doctest.h>

#include <vector>

#include "proto/proxy/socks5.hpp"

using namespace mongowire::detail::proxy;
using bytes = std::vector<std::uint8_t>;
using kind = socks5_action::kind;

namespace {
bytes written(const socks5_action& a) {
  REQUIRE(a.what == kind::write);
  return {a.bytes.begin(), a.bytes.end()};
}

// Drives the handshake up to the CONNECT request with "no authentication" chosen.
bytes connect_request(socks5_handshake& h) {
  written(h.start());
  CHECK(h.resume({}).read_size == 2);
  const bytes choice{5, 0};
  return written(h.resume(choice));
}
}  // namespace

TEST_CASE("socks5: without credentials only 'no authentication' is offered (socks5.md step 2)") {
  socks5_handshake h("db.example.com", 27017, std::nullopt);
  CHECK(written(h.start()) == bytes{5, 1, 0});
}

TEST_CASE("socks5: a host name goes to the proxy unresolved, as a domain name with its port") {
  socks5_handshake h("db.example.com", 27017, std::nullopt);
  bytes expected{5, 1, 0, 3, 14};
  for (char c : std::string("db.example.com")) expected.push_back(static_cast<std::uint8_t>(c));
  expected.push_back(0x69);  // 27017 = 0x6989
  expected.push_back(0x89);
  CHECK(connect_request(h) == expected);
}

TEST_CASE("socks5: IPv4 and IPv6 literals go as addresses (RFC 1928 ATYP 1 and 4)") {
  socks5_handshake v4("127.0.0.1", 1, std::nullopt);
  CHECK(connect_request(v4) == bytes{5, 1, 0, 1, 127, 0, 0, 1, 0, 1});
  socks5_handshake v6("::1", 2, std::nullopt);
  const bytes request = connect_request(v6);
  REQUIRE(request.size() == 22);
  CHECK(request[3] == 4);
  CHECK(request[19] == 1);
  CHECK(request[21] == 2);
}

TEST_CASE("socks5: with credentials both methods are offered and RFC 1929 sends them") {
  socks5_handshake h("h", 1, socks5_credentials{"ab", "xyz"});
  CHECK(written(h.start()) == bytes{5, 2, 0, 2});
  h.resume({});
  const bytes choice{5, 2};
  CHECK(written(h.resume(choice)) == bytes{1, 2, 'a', 'b', 3, 'x', 'y', 'z'});
  CHECK(h.resume({}).read_size == 2);
  const bytes accepted{1, 0};
  CHECK(written(h.resume(accepted))[1] == 1);  // then CONNECT
}

TEST_CASE("socks5: the CONNECT reply's bound address is read whatever its type, then done") {
  for (std::uint8_t atyp : {1, 3, 4}) {
    CAPTURE(int(atyp));
    socks5_handshake h("h", 1, std::nullopt);
    connect_request(h);
    CHECK(h.resume({}).read_size == 5);
    const bytes head{5, 0, 0, atyp, 7};
    const std::size_t tail = h.resume(head).read_size;
    CHECK(tail == (atyp == 1 ? 5u : atyp == 4 ? 17u : 9u));
    const bytes rest(tail, 0);
    CHECK(h.resume(rest).what == kind::done);
  }
}

TEST_CASE("socks5: refusals fail with what the proxy said, never with the password") {
  SUBCASE("authentication required but none configured") {
    socks5_handshake h("h", 1, std::nullopt);
    h.start();
    h.resume({});
    const bytes refused{5, 0xFF};
    CHECK(h.resume(refused).what == kind::failed);
    CHECK(h.error().find("requires authentication") != std::string::npos);
  }
  SUBCASE("wrong credentials") {
    socks5_handshake h("h", 1, socks5_credentials{"u", "s3cr3t"});
    h.start();
    h.resume({});
    const bytes choice{5, 2};
    h.resume(choice);
    h.resume({});
    const bytes denied{1, 1};
    CHECK(h.resume(denied).what == kind::failed);
    CHECK(h.error().find("refused") != std::string::npos);
    CHECK(h.error().find("s3cr3t") == std::string::npos);
  }
  SUBCASE("connection refused by the target") {
    socks5_handshake h("db", 27017, std::nullopt);
    connect_request(h);
    h.resume({});
    const bytes head{5, 5, 0, 1, 0};
    CHECK(h.resume(head).what == kind::failed);
    CHECK(h.error() == "SOCKS5: the proxy could not connect to db:27017 (connection refused, reply code 5)");
  }
  SUBCASE("not a SOCKS5 proxy") {
    socks5_handshake h("h", 1, std::nullopt);
    h.start();
    h.resume({});
    const bytes http{'H', 'T'};
    CHECK(h.resume(http).what == kind::failed);
  }
  SUBCASE("an unoffered method or address type") {
    socks5_handshake h("h", 1, std::nullopt);
    h.start();
    h.resume({});
    const bytes gssapi{5, 1};
    CHECK(h.resume(gssapi).what == kind::failed);
    socks5_handshake g("h", 1, std::nullopt);
    connect_request(g);
    g.resume({});
    const bytes head{5, 0, 0, 9, 0};
    CHECK(g.resume(head).what == kind::failed);
  }
  SUBCASE("oversized names are refused before anything is sent") {
    CHECK(socks5_handshake(std::string(256, 'a'), 1, std::nullopt).start().what == kind::failed);
    CHECK(socks5_handshake("h", 1, socks5_credentials{std::string(256, 'u'), "p"}).start().what == kind::failed);
  }
}
