#include "mongowire/bson.hpp"

#include <cstring>
#include <stdexcept>

namespace mongowire::bson {
namespace {

constexpr std::uint8_t empty_document_bytes[5] = {5, 0, 0, 0, 0};

bool init_iter(const view& v, bson_iter_t& it) noexcept { return bson_iter_init_from_data(&it, v.data(), v.size()); }

std::string json_of(const view& v, bool canonical) {
  return v.with_bson_t([canonical](const bson_t* b) {
    std::size_t len = 0;
    char* s = canonical ? bson_as_canonical_extended_json(b, &len) : bson_as_relaxed_extended_json(b, &len);
    if (s == nullptr) return std::string("<invalid BSON>");
    std::string out(s, len);
    bson_free(s);
    return out;
  });
}

// libbson 1.23's bson_validate skips, instead of rejecting, an embedded document or
// array whose own length prefix or terminator is wrong (bson_iter_visit_all ignores a
// failed bson_init_static), so later bson_init_static calls on such a child fail and
// leave an uninitialised bson_t. Walk every child ourselves. Depth is capped so that
// hostile nesting cannot exhaust the stack (the server's own limit is 200 levels).
constexpr int max_validated_depth = 256;

bool children_well_formed(const std::uint8_t* data, std::size_t size, int depth, std::string* why) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, size)) {
    if (why) *why = "invalid BSON: embedded document or array has a bad length or terminator";
    return false;
  }
  while (bson_iter_next(&it)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&it) && !BSON_ITER_HOLDS_ARRAY(&it)) continue;
    if (depth >= max_validated_depth) {
      if (why) *why = "invalid BSON: nesting deeper than " + std::to_string(max_validated_depth) + " levels";
      return false;
    }
    std::uint32_t len = 0;
    const std::uint8_t* child = nullptr;
    if (BSON_ITER_HOLDS_DOCUMENT(&it)) bson_iter_document(&it, &len, &child);
    else bson_iter_array(&it, &len, &child);
    if (!children_well_formed(child, len, depth + 1, why)) return false;
  }
  return true;
}

}  // namespace

object_id object_id::generate() {
  bson_oid_t oid;
  bson_oid_init(&oid, nullptr);
  object_id out;
  std::memcpy(out.bytes.data(), oid.bytes, 12);
  return out;
}

std::string object_id::to_hex() const {
  bson_oid_t oid;
  std::memcpy(oid.bytes, bytes.data(), 12);
  char buf[25];
  bson_oid_to_string(&oid, buf);
  return buf;
}

// ---- element ----

std::string_view element::key() const noexcept {
  if (!valid_) return {};
  return {bson_iter_key(it_.get()), bson_iter_key_len(it_.get())};
}

bool element::is_number() const noexcept {
  auto t = type();
  return t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64 || t == BSON_TYPE_DOUBLE;
}

std::optional<std::int32_t> element::as_int32() const noexcept {
  if (type() != BSON_TYPE_INT32) return std::nullopt;
  return bson_iter_int32(it_.get());
}

std::optional<std::int64_t> element::as_int64() const noexcept {
  switch (type()) {
    case BSON_TYPE_INT32: return bson_iter_int32(it_.get());
    case BSON_TYPE_INT64: return bson_iter_int64(it_.get());
    default: return std::nullopt;
  }
}

std::optional<double> element::as_double() const noexcept {
  if (type() != BSON_TYPE_DOUBLE) return std::nullopt;
  return bson_iter_double(it_.get());
}

std::optional<std::int64_t> element::as_integer() const noexcept {
  if (type() == BSON_TYPE_DOUBLE) {
    double d = bson_iter_double(it_.get());
    // Reject values that do not fit an int64 rather than invoking UB in the cast.
    if (!(d >= -9.2233720368547758e18 && d < 9.2233720368547758e18)) return std::nullopt;
    return static_cast<std::int64_t>(d);
  }
  return as_int64();
}

std::optional<double> element::as_number() const noexcept {
  switch (type()) {
    case BSON_TYPE_INT32: return bson_iter_int32(it_.get());
    case BSON_TYPE_INT64: return static_cast<double>(bson_iter_int64(it_.get()));
    case BSON_TYPE_DOUBLE: return bson_iter_double(it_.get());
    default: return std::nullopt;
  }
}

std::optional<bool> element::as_bool() const noexcept {
  if (type() != BSON_TYPE_BOOL) return std::nullopt;
  return bson_iter_bool(it_.get());
}

std::optional<bool> element::as_truthy() const noexcept {
  if (auto b = as_bool()) return b;
  if (auto n = as_number()) return *n != 0.0;
  return std::nullopt;
}

std::optional<std::string_view> element::as_string() const noexcept {
  if (type() != BSON_TYPE_UTF8) return std::nullopt;
  std::uint32_t len = 0;
  const char* s = bson_iter_utf8(it_.get(), &len);
  return std::string_view(s, len);
}

std::optional<view> element::as_document() const noexcept {
  if (type() != BSON_TYPE_DOCUMENT) return std::nullopt;
  std::uint32_t len = 0;
  const std::uint8_t* data = nullptr;
  bson_iter_document(it_.get(), &len, &data);
  return view(data, len);
}

std::optional<view> element::as_array() const noexcept {
  if (type() != BSON_TYPE_ARRAY) return std::nullopt;
  std::uint32_t len = 0;
  const std::uint8_t* data = nullptr;
  bson_iter_array(it_.get(), &len, &data);
  return view(data, len);
}

std::optional<object_id> element::as_oid() const noexcept {
  if (type() != BSON_TYPE_OID) return std::nullopt;
  object_id out;
  std::memcpy(out.bytes.data(), bson_iter_oid(it_.get())->bytes, 12);
  return out;
}

std::optional<timestamp> element::as_timestamp() const noexcept {
  if (type() != BSON_TYPE_TIMESTAMP) return std::nullopt;
  timestamp ts;
  bson_iter_timestamp(it_.get(), &ts.t, &ts.i);
  return ts;
}

std::optional<binary_ref> element::as_binary() const noexcept {
  if (type() != BSON_TYPE_BINARY) return std::nullopt;
  binary_ref out;
  std::uint32_t len = 0;
  const std::uint8_t* data = nullptr;
  bson_iter_binary(it_.get(), &out.subtype, &len, &data);
  out.bytes = {data, len};
  return out;
}

// ---- view ----

view::view() noexcept : data_(empty_document_bytes), size_(sizeof empty_document_bytes) {}

std::optional<view> view::validate(std::span<const std::uint8_t> bytes, std::string* why) {
  auto fail = [why](std::string msg) -> std::optional<view> {
    if (why) *why = std::move(msg);
    return std::nullopt;
  };
  if (bytes.size() < 5) return fail("document shorter than 5 bytes (" + std::to_string(bytes.size()) + ")");
  std::int32_t declared = 0;
  std::memcpy(&declared, bytes.data(), 4);
  declared = BSON_UINT32_FROM_LE(declared);
  if (declared < 5) return fail("document length " + std::to_string(declared) + " is below the minimum of 5");
  if (static_cast<std::size_t>(declared) > bytes.size())
    return fail("document length " + std::to_string(declared) + " overruns the " + std::to_string(bytes.size()) +
                " bytes available");
  bson_t b;
  if (!bson_init_static(&b, bytes.data(), static_cast<std::size_t>(declared)))
    return fail("document is not terminated by a zero byte");
  bson_error_t err;
  // UTF-8 validation is left to string consumers: servers may return invalid UTF-8 in
  // errmsg, and rejecting the whole reply would lose the error.
  if (!bson_validate_with_error(&b, BSON_VALIDATE_NONE, &err)) return fail(std::string("invalid BSON: ") + err.message);
  if (std::string nested; !children_well_formed(bytes.data(), static_cast<std::size_t>(declared), 0, &nested))
    return fail(std::move(nested));
  return view(bytes.data(), static_cast<std::size_t>(declared));
}

element view::find(std::string_view key) const noexcept {
  bson_iter_t it;
  if (!init_iter(*this, it)) return {};
  while (bson_iter_next(&it)) {
    if (bson_iter_key_len(&it) == key.size() && std::memcmp(bson_iter_key(&it), key.data(), key.size()) == 0)
      return element(&it);
  }
  return {};
}

element view::find_path(std::string_view dotted) const noexcept {
  view current = *this;
  for (;;) {
    auto dot = dotted.find('.');
    element e = current.find(dotted.substr(0, dot));
    if (dot == std::string_view::npos || !e) return e;
    auto child = e.is_document() ? e.as_document() : e.as_array();
    if (!child) return {};
    current = *child;
    dotted.remove_prefix(dot + 1);
  }
}

std::string_view view::first_key() const noexcept {
  bson_iter_t it;
  if (!init_iter(*this, it) || !bson_iter_next(&it)) return {};
  return {bson_iter_key(&it), bson_iter_key_len(&it)};
}

std::size_t view::count() const noexcept {
  std::size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

element_iterator view::begin() const noexcept {
  bson_iter_t it;
  if (!init_iter(*this, it)) return {};
  bool at_end = !bson_iter_next(&it);
  return element_iterator(&it, at_end);
}

std::string view::to_json() const { return json_of(*this, true); }
std::string view::to_relaxed_json() const { return json_of(*this, false); }

bool operator==(const view& a, const view& b) noexcept {
  return a.size_ == b.size_ && std::memcmp(a.data_, b.data_, a.size_) == 0;
}

// ---- document ----

document::document(view v) {
  bson_init(b_.get());
  concat(v);
}

document& document::operator=(const document& other) {
  if (this != &other) {
    document tmp(other);
    *this = std::move(tmp);
  }
  return *this;
}

document::document(document&& other) noexcept {
  bson_steal(b_.get(), other.b_.get());
  bson_init(other.b_.get());
}

document& document::operator=(document&& other) noexcept {
  if (this != &other) {
    bson_destroy(b_.get());
    bson_steal(b_.get(), other.b_.get());
    bson_init(other.b_.get());
  }
  return *this;
}

std::optional<document> document::try_from_json(std::string_view json, std::string* why) {
  bson_error_t err;
  document out;
  bson_destroy(out.b_.get());
  if (!bson_init_from_json(out.b_.get(), json.data(), static_cast<ssize_t>(json.size()), &err)) {
    bson_init(out.b_.get());
    if (why) *why = err.message;
    return std::nullopt;
  }
  // libbson's reader keeps bytes that are not UTF-8 (RFC 8259 section 8.1 requires UTF-8),
  // such as the overlong NUL C0 80, and its writer then refuses the document: refuse it here.
  std::size_t len = 0;
  char* printed = bson_as_canonical_extended_json(out.b_.get(), &len);
  if (printed == nullptr) {
    if (why) *why = "a key or string is not valid UTF-8";
    return std::nullopt;
  }
  bson_free(printed);
  return out;
}

document document::from_json(std::string_view json) {
  std::string why;
  auto doc = try_from_json(json, &why);
  if (!doc) throw std::invalid_argument("invalid extended JSON: " + why);
  return std::move(*doc);
}

void document::check(bool ok, std::string_view what) {
  // libbson refuses appends only when the document would exceed INT32_MAX bytes.
  if (!ok) throw std::length_error("BSON document too large while appending " + std::string(what));
}

#define MW_KEY key.data(), static_cast<int>(key.size())

document& document::append(std::string_view key, std::int32_t v) {
  check(bson_append_int32(b_.get(), MW_KEY, v), key);
  return *this;
}
document& document::append(std::string_view key, std::int64_t v) {
  check(bson_append_int64(b_.get(), MW_KEY, v), key);
  return *this;
}
document& document::append(std::string_view key, double v) {
  check(bson_append_double(b_.get(), MW_KEY, v), key);
  return *this;
}
document& document::append(std::string_view key, bool v) {
  check(bson_append_bool(b_.get(), MW_KEY, v), key);
  return *this;
}
document& document::append(std::string_view key, std::string_view v) {
  check(bson_append_utf8(b_.get(), MW_KEY, v.data(), static_cast<int>(v.size())), key);
  return *this;
}
document& document::append(std::string_view key, view v) {
  check(v.with_bson_t([&](const bson_t* child) { return bson_append_document(b_.get(), MW_KEY, child); }), key);
  return *this;
}
document& document::append_array(std::string_view key, view v) {
  check(v.with_bson_t([&](const bson_t* child) { return bson_append_array(b_.get(), MW_KEY, child); }), key);
  return *this;
}
document& document::append(std::string_view key, const object_id& v) {
  bson_oid_t oid;
  std::memcpy(oid.bytes, v.bytes.data(), 12);
  check(bson_append_oid(b_.get(), MW_KEY, &oid), key);
  return *this;
}
document& document::append(std::string_view key, timestamp v) {
  check(bson_append_timestamp(b_.get(), MW_KEY, v.t, v.i), key);
  return *this;
}
document& document::append(std::string_view key, binary_ref v) {
  check(bson_append_binary(b_.get(), MW_KEY, v.subtype, v.bytes.data(), static_cast<std::uint32_t>(v.bytes.size())),
        key);
  return *this;
}
document& document::append(std::string_view key, const element& v) {
  check(v && bson_append_iter(b_.get(), MW_KEY, v.iter()), key);
  return *this;
}
document& document::append_null(std::string_view key) {
  check(bson_append_null(b_.get(), MW_KEY), key);
  return *this;
}
document& document::append_date(std::string_view key, std::int64_t millis) {
  check(bson_append_date_time(b_.get(), MW_KEY, millis), key);
  return *this;
}
#undef MW_KEY

document& document::concat(view other) {
  check(other.with_bson_t([&](const bson_t* src) { return bson_concat(b_.get(), src); }), "<concat>");
  return *this;
}

std::string_view type_name(bson_type_t t) noexcept {
  switch (t) {
    case BSON_TYPE_DOUBLE: return "double";
    case BSON_TYPE_UTF8: return "string";
    case BSON_TYPE_DOCUMENT: return "object";
    case BSON_TYPE_ARRAY: return "array";
    case BSON_TYPE_BINARY: return "binData";
    case BSON_TYPE_UNDEFINED: return "undefined";
    case BSON_TYPE_OID: return "objectId";
    case BSON_TYPE_BOOL: return "bool";
    case BSON_TYPE_DATE_TIME: return "date";
    case BSON_TYPE_NULL: return "null";
    case BSON_TYPE_REGEX: return "regex";
    case BSON_TYPE_DBPOINTER: return "dbPointer";
    case BSON_TYPE_CODE: return "javascript";
    case BSON_TYPE_SYMBOL: return "symbol";
    case BSON_TYPE_CODEWSCOPE: return "javascriptWithScope";
    case BSON_TYPE_INT32: return "int";
    case BSON_TYPE_TIMESTAMP: return "timestamp";
    case BSON_TYPE_INT64: return "long";
    case BSON_TYPE_DECIMAL128: return "decimal";
    case BSON_TYPE_MAXKEY: return "maxKey";
    case BSON_TYPE_MINKEY: return "minKey";
    default: return "eod";
  }
}

}  // namespace mongowire::bson
