// The cryptographic primitives of SCRAM (RFC 5802 section 2.2: H, HMAC, Hi) and of the
// MongoDB password digest (auth.md, SCRAM-SHA-1), over OpenSSL. Shared by the client's SCRAM
// conversation and the test server's, so that both sides compute keys one way.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mongowire::detail::auth {

using bytes = std::vector<std::uint8_t>;

enum class hash_algorithm { sha1, sha256 };

// Output size of `alg` in bytes (20 or 32).
std::size_t digest_size(hash_algorithm alg) noexcept;

std::span<const std::uint8_t> as_bytes(std::string_view text) noexcept;

bytes hash(hash_algorithm alg, std::span<const std::uint8_t> data);
bytes hmac(hash_algorithm alg, std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);
// RFC 5802 Hi(str, salt, i): PBKDF2 with HMAC-`alg`, one block of the hash's size.
bytes pbkdf2(hash_algorithm alg, std::string_view password, std::span<const std::uint8_t> salt,
             std::uint32_t iterations);

// auth.md, SCRAM-SHA-1: HEX(MD5(username + ":mongo:" + password)), lower-case hex.
std::string mongo_password_digest(std::string_view username, std::string_view password);

std::string base64_encode(std::span<const std::uint8_t> data);
// Strict RFC 4648 base64 (padding required, no whitespace); nullopt when malformed.
std::optional<bytes> base64_decode(std::string_view text);

// Cryptographically secure random bytes (RAND_bytes); throws std::runtime_error if the
// generator cannot be seeded.
bytes random_bytes(std::size_t n);

// Equality that takes the same time wherever the first difference is (signature checks).
bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept;

// Overwrites a secret before its memory is released.
void wipe(bytes& secret) noexcept;
void wipe(std::string& secret) noexcept;

}  // namespace mongowire::detail::auth
