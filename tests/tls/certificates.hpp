// Certificates made at test time with OpenSSL (P-256 keys, SHA-256 signatures), written as PEM
// files in a fresh temporary directory: a CA, server certificates (good, expired, for another
// host name, signed by another CA) and a client certificate, whose key is also written
// encrypted. Each server or client file holds the certificate and its key, as mongod's
// --tlsCertificateKeyFile and the tlsCertificateKeyFile URI option expect.
#pragma once

#include <string>

namespace tls_test {

struct certificate_files {
  std::string dir;
  std::string ca;                 // the CA's certificate (tlsCAFile)
  std::string other_ca;           // a CA that signed nothing the server uses
  std::string server;             // CN and SANs localhost, 127.0.0.1; valid for a year
  std::string server_expired;     // the same names, expired yesterday
  std::string server_other_host;  // valid, for db.example.com only
  std::string client;             // CN=client, signed by the CA
  std::string client_encrypted;   // the same with its key encrypted (AES-256-CBC) with `password`
  std::string client_other_ca;    // CN=client, signed by the other CA
  std::string password = "pem-pass-phrase";
};

// Creates the files; throws std::runtime_error with OpenSSL's reason when it cannot.
certificate_files make_certificates();

// Removes the directory and its files.
void remove_certificates(const certificate_files& files);

}  // namespace tls_test
