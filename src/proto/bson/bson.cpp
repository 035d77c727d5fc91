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

// One pass over untrusted bytes checks every length, terminator and type, nested documents
// included (bsonspec.org "Specification"). Issue 13: libbson's bson_validate, followed by a second
// walk for the nested lengths it skips (libbson 1.23 ignores an embedded document whose own
// length or terminator is wrong), cost a fifth of a transaction's client instructions. Depth is
// capped so that hostile nesting cannot exhaust the stack (the server's own limit is 200 levels).
constexpr int max_validated_depth = 256;

std::uint32_t le32(const std::uint8_t* p) noexcept {
  std::uint32_t v = 0;
  std::memcpy(&v, p, 4);
  return BSON_UINT32_FROM_LE(v);
}

class bson_checker {
 public:
  bson_checker(const std::uint8_t* base, std::string* why) : base_(base), why_(why) {}

  // The document at `p`, with `room` bytes available to it.
  bool document(const std::uint8_t* p, std::size_t room, int depth) {
    if (depth > max_validated_depth)
      return fail(p, "nesting deeper than " + std::to_string(max_validated_depth) + " levels");
    const std::string_view what = depth == 0 ? "document" : "embedded document or array";
    const std::size_t size = room < 4 ? 0 : le32(p);
    if (size < 5 || size > room) return fail(p, std::string(what) + " has a bad length");
    const std::uint8_t* const end = p + size - 1;
    if (*end != 0) return fail(end, std::string(what) + " is not terminated by a zero byte");
    const std::uint8_t* q = p + 4;
    while (q < end) {
      if (*q == 0) return fail(q, std::string(what) + " ends before its declared length");
      const std::uint8_t* nul = q + 1;
      std::uint8_t high = 0;  // element names are short: one loop finds the end and non-ASCII bytes
      while (nul < end && *nul != 0) high |= *nul++;
      if (nul == end) return fail(q, "element name is not terminated");
      // Like libbson, element names must be UTF-8 (values are checked by their consumers).
      if ((high & 0x80) != 0 &&
          !bson_utf8_validate(reinterpret_cast<const char*>(q + 1), static_cast<std::size_t>(nul - q - 1), false))
        return fail(q + 1, "element name is not valid UTF-8");
      std::size_t value_bytes = 0;
      if (!value(*q, nul + 1, end, depth, value_bytes)) return false;
      q = nul + 1 + value_bytes;
    }
    return true;
  }

 private:
  bool value(std::uint8_t type, const std::uint8_t* v, const std::uint8_t* end, int depth, std::size_t& size);
  bool string(const std::uint8_t* v, std::size_t room, std::size_t& size);
  bool code_with_scope(const std::uint8_t* v, std::size_t room, int depth, std::size_t& size);

  bool fail(const std::uint8_t* at, const std::string& what) {
    if (why_) *why_ = "invalid BSON: " + what + " at offset " + std::to_string(at - base_);
    return false;
  }

  const std::uint8_t* base_;
  std::string* why_;
};

// A string value: int32 length (at least 1, the terminator counted), bytes, zero byte.
bool bson_checker::string(const std::uint8_t* v, std::size_t room, std::size_t& size) {
  const auto length = room < 4 ? std::int64_t{-1} : static_cast<std::int32_t>(le32(v));
  if (length < 1 || static_cast<std::size_t>(length) > room - 4) return fail(v, "string has a bad length");
  if (v[4 + length - 1] != 0) return fail(v, "string is not terminated by a zero byte");
  size = 4 + static_cast<std::size_t>(length);
  return true;
}

// int32 total length, string, scope document: the parts must fill the total exactly.
bool bson_checker::code_with_scope(const std::uint8_t* v, std::size_t room, int depth, std::size_t& size) {
  const std::size_t total = room < 4 ? 0 : le32(v);
  std::size_t code = 0;
  if (total < 14 || total > room || !string(v + 4, total - 4, code)) return fail(v, "code with scope has a bad length");
  const std::uint8_t* scope = v + 4 + code;
  const std::size_t scope_room = total - 4 - code;
  if (scope_room < 5 || le32(scope) != scope_room) return fail(scope, "code with scope's scope has a bad length");
  size = total;
  return document(scope, scope_room, depth + 1);
}

bool bson_checker::value(std::uint8_t type, const std::uint8_t* v, const std::uint8_t* end, int depth,
                         std::size_t& size) {
  const auto room = static_cast<std::size_t>(end - v);
  auto fixed = [&](std::size_t n) { return n <= room ? (size = n, true) : fail(v, "value overruns its document"); };
  switch (type) {
    case BSON_TYPE_UNDEFINED:
    case BSON_TYPE_NULL:
    case BSON_TYPE_MAXKEY:
    case BSON_TYPE_MINKEY: return fixed(0);
    case BSON_TYPE_BOOL: return fixed(1) && (*v <= 1 || fail(v, "boolean is neither 0 nor 1"));
    case BSON_TYPE_INT32: return fixed(4);
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_DATE_TIME:
    case BSON_TYPE_TIMESTAMP:
    case BSON_TYPE_INT64: return fixed(8);
    case BSON_TYPE_OID: return fixed(12);
    case BSON_TYPE_DECIMAL128: return fixed(16);
    case BSON_TYPE_UTF8:
    case BSON_TYPE_CODE:
    case BSON_TYPE_SYMBOL: return string(v, room, size);
    case BSON_TYPE_DBPOINTER: return string(v, room, size) && fixed(size + 12);
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY: return document(v, room, depth + 1) && fixed(le32(v));
    case BSON_TYPE_CODEWSCOPE: return code_with_scope(v, room, depth, size);
    case BSON_TYPE_BINARY: {
      const auto length = room < 5 ? std::int64_t{-1} : static_cast<std::int32_t>(le32(v));
      if (length < 0 || static_cast<std::size_t>(length) > room - 5) return fail(v, "binary has a bad length");
      // The old binary subtype 2 repeats the length inside (bsonspec.org, "subtype 2").
      if (v[4] == BSON_SUBTYPE_BINARY_DEPRECATED &&
          (length < 4 || le32(v + 5) != static_cast<std::uint32_t>(length - 4)))
        return fail(v, "binary subtype 2 has a bad inner length");
      return fixed(5 + static_cast<std::size_t>(length));
    }
    case BSON_TYPE_REGEX: {
      const auto* a = static_cast<const std::uint8_t*>(std::memchr(v, 0, room));
      const auto* b =
          a ? static_cast<const std::uint8_t*>(std::memchr(a + 1, 0, static_cast<std::size_t>(end - a - 1))) : nullptr;
      return b ? fixed(static_cast<std::size_t>(b + 1 - v)) : fail(v, "regular expression is not terminated");
    }
    default: return fail(v - 1, "unknown element type " + std::to_string(type));
  }
}

constexpr std::size_t bad_value_size = static_cast<std::size_t>(-1);

// The size of a value of BSON type `type` starting at `value`, never reaching past `end`
// (bsonspec.org "Specification"); bad_value_size for an unknown type or a value that overruns.
std::size_t value_size(std::uint8_t type, const std::uint8_t* value, const std::uint8_t* end) noexcept {
  const auto room = static_cast<std::size_t>(end - value);
  auto fixed = [room](std::size_t n) { return n <= room ? n : bad_value_size; };
  auto prefixed = [&](std::size_t extra) {  // int32 length, then that many bytes (plus `extra`)
    if (room < 4) return bad_value_size;
    return fixed(std::size_t{4} + le32(value) + extra);
  };
  switch (type) {
    case BSON_TYPE_UNDEFINED:
    case BSON_TYPE_NULL:
    case BSON_TYPE_MAXKEY:
    case BSON_TYPE_MINKEY: return 0;
    case BSON_TYPE_BOOL: return fixed(1);
    case BSON_TYPE_INT32: return fixed(4);
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_DATE_TIME:
    case BSON_TYPE_TIMESTAMP:
    case BSON_TYPE_INT64: return fixed(8);
    case BSON_TYPE_OID: return fixed(12);
    case BSON_TYPE_DECIMAL128: return fixed(16);
    case BSON_TYPE_UTF8:
    case BSON_TYPE_CODE:
    case BSON_TYPE_SYMBOL: return prefixed(0);
    case BSON_TYPE_BINARY: return prefixed(1);      // the subtype byte
    case BSON_TYPE_DBPOINTER: return prefixed(12);  // the ObjectId after the string
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY:
    case BSON_TYPE_CODEWSCOPE: return room < 4 ? bad_value_size : fixed(le32(value));  // the length counts itself
    case BSON_TYPE_REGEX: {
      const auto* a = static_cast<const std::uint8_t*>(std::memchr(value, 0, room));
      const auto* b =
          a ? static_cast<const std::uint8_t*>(std::memchr(a + 1, 0, static_cast<std::size_t>(end - a - 1))) : nullptr;
      return b ? static_cast<std::size_t>(b + 1 - value) : bad_value_size;
    }
    default: return bad_value_size;
  }
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
  // UTF-8 validation is left to string consumers: servers may return invalid UTF-8 in
  // errmsg, and rejecting the whole reply would lose the error.
  if (std::string what; !bson_checker(bytes.data(), &what).document(bytes.data(), bytes.size(), 0))
    return fail(std::move(what));
  return view(bytes.data(), static_cast<std::size_t>(declared));
}

element view::find(std::string_view key) const noexcept {
  // Issue 13: lookups in replies dominated the client's instructions with bson_iter_next, which
  // re-checks every element. A view is already validated, so a plain walk over the keys is
  // enough; it stays bounded by the view all the same, and the element found is handed to
  // libbson's own iterator (which checks that one element again).
  if (size_ < 5) return {};
  const std::uint8_t* const end = data_ + size_ - 1;  // the document's terminating zero
  const std::uint8_t* p = data_ + 4;
  while (p < end && *p != 0) {
    const std::uint8_t* const name = p + 1;
    const auto* nul = static_cast<const std::uint8_t*>(std::memchr(name, 0, static_cast<std::size_t>(end - name)));
    if (nul == nullptr) return {};
    const auto name_size = static_cast<std::size_t>(nul - name);
    if (name_size == key.size() && std::memcmp(name, key.data(), name_size) == 0) {
      bson_iter_t it;
      if (!bson_iter_init_from_data_at_offset(&it, data_, size_, static_cast<std::uint32_t>(p - data_),
                                              static_cast<std::uint32_t>(name_size)))
        return {};
      return element(&it);
    }
    const std::size_t skip = value_size(*p, nul + 1, end);
    if (skip == bad_value_size) return {};
    p = nul + 1 + skip;
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
