// libFuzzer target: extended JSON (extended-json.md) both ways. The input is parsed as JSON
// text (bson::document::try_from_json), and validated as BSON bytes (bson::view::validate).
// Properties checked beyond "no crash": a refusal says why; the canonical form of a parsed
// document parses back to the same canonical form (a fixed point) and so does the relaxed
// form (unless a key spells a type wrapper); a valid BSON document prints a canonical form
// that, when it parses, prints the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "mongowire/bson.hpp"

using namespace mongowire;

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

// `json` parses, and its document prints `json` again in the same form.
void require_fixed_point(const std::string& json, bool canonical) {
  std::string why;
  auto again = bson::document::try_from_json(json, &why);
  require(again.has_value());
  require((canonical ? again->to_json() : again->get_view().to_relaxed_json()) == json);
}

void check_json_text(std::string_view text) {
  std::string why;
  auto doc = bson::document::try_from_json(text, &why);
  if (!doc) {
    require(!why.empty());
    return;
  }
  require(bson::view::validate(doc->get_view().bytes()).has_value());
  require_fixed_point(doc->to_json(), true);
  // extended-json.md: in relaxed form a key that spells a type wrapper ({"$type": -2}, an int64
  // printed bare) is ambiguous, and libbson's reader refuses it (a $binary's "$type" must be a
  // string). Only such a document may have a relaxed form that does not read back.
  const std::string relaxed = doc->get_view().to_relaxed_json();
  if (bson::document::try_from_json(relaxed, &why)) require_fixed_point(relaxed, false);
  else require(relaxed.find("\"$") != std::string::npos);
}

void check_bson_bytes(std::span<const std::uint8_t> bytes) {
  auto view = bson::view::validate(bytes);
  if (!view) return;
  const std::string canonical = view->to_json();
  // Keys that spell a type wrapper ({"$date": ...}) need not read back as a document.
  auto again = bson::document::try_from_json(canonical, nullptr);
  if (!again) return;
  const std::string reprinted = again->to_json();
  // Two quirks of libbson's JSON reader change a value: a non-canonical decimal128 encoding
  // (bsonspec.org "decimal128": a significand above 10^34 - 1 is zero) is printed as a string
  // that reads back as another value, and a $code ends at an embedded NUL. The text it reads
  // back to must then be a fixed point.
  const bool quirk = canonical.find("$numberDecimal") != std::string::npos ||
                     (canonical.find("$code") != std::string::npos && canonical.find("\\u0000") != std::string::npos);
  if (quirk) require_fixed_point(reprinted, true);
  else require(reprinted == canonical);
  (void)view->to_relaxed_json();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_json_text(std::string_view(reinterpret_cast<const char*>(data), size));
  check_bson_bytes(std::span<const std::uint8_t>(data, size));
  return 0;
}
