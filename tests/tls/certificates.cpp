#include "certificates.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace tls_test {
namespace {

using key_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using cert_ptr = std::unique_ptr<X509, decltype(&X509_free)>;

void check(bool ok, const char* what) {
  if (ok) return;
  char reason[256] = "unknown";
  ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
  throw std::runtime_error(std::string("making test certificates: ") + what + ": " + reason);
}

key_ptr new_key() {
  key_ptr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  check(key != nullptr, "EVP_EC_gen");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

struct cert_spec {
  const char* common_name;
  const char* subject_alt_names = nullptr;  // e.g. "DNS:localhost,IP:127.0.0.1"
  long not_before_s = -3600;                // from now
  long not_after_s = 365L * 24 * 3600;
  bool is_ca = false;
};

// A certificate for `key`, signed by `issuer_key` (self-signed when `issuer` is null).
cert_ptr make_cert(const cert_spec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  static long serial = 1;
  cert_ptr cert(X509_new(), X509_free);
  check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.not_before_s);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.not_after_s);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("mongowire tests"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(spec.common_name), -1, -1,
                             0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
  add_extension(cert.get(), signer, NID_basic_constraints, spec.is_ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (spec.is_ca) add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  if (spec.subject_alt_names) add_extension(cert.get(), signer, NID_subject_alt_name, spec.subject_alt_names);
  check(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

// Writes the certificate, then the key (encrypted with `password` when given).
void write_pem(const std::string& path, X509* cert, EVP_PKEY* key, const std::string* password = nullptr) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "w"), BIO_free);
  check(bio != nullptr, "BIO_new_file");
  check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  if (!key) return;
  const EVP_CIPHER* cipher = password ? EVP_aes_256_cbc() : nullptr;
  auto* pass = password ? reinterpret_cast<const unsigned char*>(password->data()) : nullptr;
  const int pass_len = password ? static_cast<int>(password->size()) : 0;
  check(PEM_write_bio_PrivateKey(bio.get(), key, cipher, pass, pass_len, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
}

std::string fresh_directory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "mongowire-tls-XXXXXX").string();
  check(::mkdtemp(pattern.data()) != nullptr, "mkdtemp");
  return pattern;
}

}  // namespace

certificate_files make_certificates() {
  certificate_files f;
  f.dir = fresh_directory();
  auto path = [&](const char* name) { return f.dir + "/" + name; };
  auto ca_key = new_key(), other_ca_key = new_key(), server_key = new_key(), client_key = new_key();
  auto ca = make_cert({.common_name = "mongowire test CA", .is_ca = true}, ca_key.get(), nullptr, nullptr);
  auto other_ca = make_cert({.common_name = "another CA", .is_ca = true}, other_ca_key.get(), nullptr, nullptr);
  const char* names = "DNS:localhost,IP:127.0.0.1";
  auto server = make_cert({"localhost", names}, server_key.get(), ca.get(), ca_key.get());
  auto expired = make_cert({"localhost", names, -2 * 86400, -86400}, server_key.get(), ca.get(), ca_key.get());
  auto other_host = make_cert({"db.example.com", "DNS:db.example.com"}, server_key.get(), ca.get(), ca_key.get());
  auto client = make_cert({"client"}, client_key.get(), ca.get(), ca_key.get());
  auto stranger = make_cert({"client"}, client_key.get(), other_ca.get(), other_ca_key.get());
  write_pem(f.ca = path("ca.pem"), ca.get(), nullptr);
  write_pem(f.other_ca = path("other-ca.pem"), other_ca.get(), nullptr);
  write_pem(f.server = path("server.pem"), server.get(), server_key.get());
  write_pem(f.server_expired = path("server-expired.pem"), expired.get(), server_key.get());
  write_pem(f.server_other_host = path("server-other-host.pem"), other_host.get(), server_key.get());
  write_pem(f.client = path("client.pem"), client.get(), client_key.get());
  write_pem(f.client_encrypted = path("client-encrypted.pem"), client.get(), client_key.get(), &f.password);
  write_pem(f.client_other_ca = path("client-other-ca.pem"), stranger.get(), client_key.get());
  return f;
}

void remove_certificates(const certificate_files& files) {
  std::error_code ignored;
  std::filesystem::remove_all(files.dir, ignored);
}

}  // namespace tls_test
