#include "proto/auth/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <limits>
#include <stdexcept>

namespace mongowire::detail::auth {
namespace {

const EVP_MD* md_of(hash_algorithm alg) noexcept { return alg == hash_algorithm::sha1 ? EVP_sha1() : EVP_sha256(); }

bytes digest_with(const EVP_MD* md, std::span<const std::uint8_t> data) {
  bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1)
    throw std::runtime_error("OpenSSL digest failed");
  out.resize(len);
  return out;
}

}  // namespace

std::size_t digest_size(hash_algorithm alg) noexcept { return alg == hash_algorithm::sha1 ? 20 : 32; }

std::span<const std::uint8_t> as_bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

bytes hash(hash_algorithm alg, std::span<const std::uint8_t> data) { return digest_with(md_of(alg), data); }

bytes hmac(hash_algorithm alg, std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !HMAC(md_of(alg), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &len))
    throw std::runtime_error("OpenSSL HMAC failed");
  out.resize(len);
  return out;
}

bytes pbkdf2(hash_algorithm alg, std::string_view password, std::span<const std::uint8_t> salt,
             std::uint32_t iterations) {
  constexpr auto int_max = static_cast<std::size_t>(std::numeric_limits<int>::max());
  if (password.size() > int_max || salt.size() > int_max || iterations == 0 || iterations > int_max)
    throw std::invalid_argument("PBKDF2 parameters out of range");
  bytes out(digest_size(alg));
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(), static_cast<int>(salt.size()),
                        static_cast<int>(iterations), md_of(alg), static_cast<int>(out.size()), out.data()) != 1)
    throw std::runtime_error("OpenSSL PBKDF2 failed");
  return out;
}

std::string mongo_password_digest(std::string_view username, std::string_view password) {
  std::string input;
  input.reserve(username.size() + 7 + password.size());
  input.append(username).append(":mongo:").append(password);
  bytes md5 = digest_with(EVP_md5(), as_bytes(input));
  wipe(input);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (auto b : md5) {
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  return hex;
}

std::string base64_encode(std::span<const std::uint8_t> data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  if (data.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw std::invalid_argument("base64 input too large");
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(), static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<bytes> base64_decode(std::string_view text) {
  auto valid = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  };
  if (text.size() % 4 != 0 || text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max() / 2))
    return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  for (std::size_t i = 0; i < text.size() - padding; ++i)
    if (!valid(text[i])) return std::nullopt;
  bytes out(text.size() / 4 * 3);
  // EVP_DecodeBlock keeps the padding's zero bytes: they are cut below.
  const int n =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0 || static_cast<std::size_t>(n) < padding) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

bytes random_bytes(std::size_t n) {
  bytes out(n);
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()) || RAND_bytes(out.data(), static_cast<int>(n)) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed: no secure random source");
  return out;
}

bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe(bytes& secret) noexcept {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
}

void wipe(std::string& secret) noexcept {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
}

}  // namespace mongowire::detail::auth
