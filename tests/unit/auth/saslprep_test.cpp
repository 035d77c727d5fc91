// SASLprep (RFC 4013 section 3's examples, auth.md's "Step 4" users): what SCRAM-SHA-256 does
// to passwords.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "proto/auth/saslprep.hpp"

using mongowire::detail::auth::saslprep;

namespace {
std::optional<std::string> prep(std::string_view s) {
  std::string why;
  return saslprep(s, why);
}
std::string refusal(std::string_view s) {
  std::string why;
  CHECK_FALSE(saslprep(s, why));
  return why;
}
}  // namespace

TEST_CASE("RFC 4013 section 3 examples") {
  CHECK(prep("I\xC2\xAD"
             "X") == "IX");                                        // SOFT HYPHEN mapped to nothing
  CHECK(prep("user") == "user");                                   // no transformation
  CHECK(prep("USER") == "USER");                                   // case preserved
  CHECK(prep("\xC2\xAA") == "a");                                  // U+00AA, NFKC
  CHECK(prep("\xE2\x85\xA8") == "IX");                             // U+2168 ROMAN NUMERAL NINE, NFKC
  CHECK(refusal("\x07").find("Prohibited") != std::string::npos);  // U+0007
  CHECK(refusal("\xD8\xA7"
                "1")
            .find("bidirectional") != std::string::npos);  // U+0627 U+0031
}

TEST_CASE("auth.md SCRAM-SHA-256 Step 4: normalized and non-normalized password forms agree") {
  CHECK(prep("IX") == prep("I\xC2\xAD"
                           "X"));
  CHECK(prep("\xE2\x85\xA3") == "IV");  // U+2163 ROMAN NUMERAL FOUR
  CHECK(prep("I\xC2\xAD"
             "V") == "IV");
  CHECK(prep("a\xC2\xA0"
             "b") == "a b");  // non-ASCII space mapped to SPACE
}

TEST_CASE("invalid input is refused without echoing it") {
  CHECK(refusal(std::string_view("a\0b", 3)).find("NUL") != std::string::npos);
  const auto why = refusal("\xFF\xFE secret");
  CHECK(why.find("secret") == std::string::npos);
  CHECK(prep("") == "");
}
