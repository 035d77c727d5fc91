// tools::mask_password: what txnbench and mongowire-cli print of a connection string.
#include <doctest/doctest.h>

#include "mask_password.hpp"

using mongowire::tools::mask_password;

TEST_CASE("mask_password: the user's password and secret option values become ****, nothing else changes") {
  CHECK(mask_password("mongodb://ada:s3cr3t@h:1/?tls=true") == "mongodb://ada:****@h:1/?tls=true");
  CHECK(mask_password("mongodb://ada:a/b@c@h/") == "mongodb://ada:****@h/");  // invalid, still masked
  CHECK(mask_password("mongodb://h/?proxyHost=p&proxyPassword=pw&proxyUsername=u") ==
        "mongodb://h/?proxyHost=p&proxyPassword=****&proxyUsername=u");
  CHECK(mask_password("mongodb://u:p@h/?TLSCertificateKeyFilePassword=k") ==
        "mongodb://u:****@h/?TLSCertificateKeyFilePassword=****");
  CHECK(mask_password("mongodb://h/?w=1") == "mongodb://h/?w=1");
  CHECK(mask_password("not a uri") == "not a uri");
}
