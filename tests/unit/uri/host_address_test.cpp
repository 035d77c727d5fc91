// parse_host_address(): the "host:port" strings of hello replies (hosts, me, primary).
#include <doctest/doctest.h>

#include "mongowire/uri.hpp"

using namespace mongowire;

TEST_CASE("host_address: host[:port] and [ipv6][:port] parse with the default port 27017") {
  struct row {
    const char* text;
    const char* host;
    std::uint16_t port;
  };
  for (const row& r :
       {row{"a", "a", 27017}, row{"A.Example.COM:1", "a.example.com", 1}, row{"10.0.0.1:65535", "10.0.0.1", 65535},
        row{"[::1]", "::1", 27017}, row{"[2001:DB8::7]:27018", "2001:db8::7", 27018}}) {
    CAPTURE(r.text);
    const auto a = parse_host_address(r.text);
    REQUIRE(a);
    CHECK(a->host == r.host);
    CHECK(a->port == r.port);
  }
}

TEST_CASE("host_address: malformed addresses are rejected with the reason") {
  for (const char* bad : {"", ":27017", "a:", "a:0", "a:65536", "a:1:2", "[::1", "[::1]:", "[x]", "a b", "a/b", "a@b",
                          "[::1]27017", "a,b"}) {
    CAPTURE(bad);
    std::string why;
    CHECK_FALSE(parse_host_address(bad, &why));
    CHECK(why.find("invalid address") == 0);
  }
}

TEST_CASE("host_address: to_string brackets IPv6 and equality ignores nothing but is case-normalized") {
  CHECK(parse_host_address("[::1]:5")->to_string() == "[::1]:5");
  CHECK(parse_host_address("Host")->to_string() == "host:27017");
  CHECK(*parse_host_address("HOST:27017") == *parse_host_address("host"));
  CHECK_FALSE(*parse_host_address("host:1") == *parse_host_address("host:2"));
}
