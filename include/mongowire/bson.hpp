// RAII wrappers over libbson: a non-owning `view`, an owning `document` that is
// also the builder, and `element` for reading fields. No raw bson_t ownership
// escapes this header; `view::with_bson_t` lends one for libbson interop.
//
// Lifetimes: a view (and an element or iterator from it) points into bytes it does not own,
// and dangles once they change or go: a document's view until the document is modified,
// moved or destroyed (so never keep a view of a temporary). Thread-safety: plain values with
// no shared state; distinct objects may be used on different threads, and one object may be
// read (const calls) from several threads at once.
#pragma once

#include <bson/bson.h>

#include <array>
#include <cstring>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace mongowire::bson {

// bson_storage / iter_storage: libbson declares bson_t and bson_iter_t with 128-byte alignment, which neither heap
// allocations, coroutine frames nor exception objects honour (they give 16). libbson
// itself never relies on it (bson_new() mallocs), so we keep them in 16-byte aligned
// storage and only hand pointers to libbson; our code never accesses their fields.
#define MONGOWIRE_C_STORAGE(name, T)                                            \
  struct name {                                                                 \
    alignas(16) unsigned char bytes[sizeof(T)];                                 \
    T* get() noexcept { return reinterpret_cast<T*>(bytes); }                   \
    const T* get() const noexcept { return reinterpret_cast<const T*>(bytes); } \
  }
MONGOWIRE_C_STORAGE(bson_storage, bson_t);
MONGOWIRE_C_STORAGE(iter_storage, bson_iter_t);
#undef MONGOWIRE_C_STORAGE

class view;
class document;
class array_builder;

// Object id, 12 bytes.
struct object_id {
  std::array<std::uint8_t, 12> bytes{};
  static object_id generate();
  std::string to_hex() const;
  friend bool operator==(const object_id&, const object_id&) = default;
  friend auto operator<=>(const object_id&, const object_id&) = default;
};

struct timestamp {
  std::uint32_t t = 0;
  std::uint32_t i = 0;
  friend bool operator==(const timestamp&, const timestamp&) = default;
  friend auto operator<=>(const timestamp&, const timestamp&) = default;
};

struct binary_ref {
  bson_subtype_t subtype = BSON_SUBTYPE_BINARY;
  std::span<const std::uint8_t> bytes;
};

// One field of a document. Cheap to copy (it is a libbson iterator).
class element {
 public:
  element() = default;
  explicit element(const bson_iter_t* it) noexcept : valid_(true) { std::memcpy(it_.bytes, it, sizeof it_.bytes); }

  explicit operator bool() const noexcept { return valid_; }
  std::string_view key() const noexcept;
  bson_type_t type() const noexcept { return valid_ ? bson_iter_type(it_.get()) : BSON_TYPE_EOD; }

  bool is_number() const noexcept;
  bool is_string() const noexcept { return type() == BSON_TYPE_UTF8; }
  bool is_document() const noexcept { return type() == BSON_TYPE_DOCUMENT; }
  bool is_array() const noexcept { return type() == BSON_TYPE_ARRAY; }
  bool is_bool() const noexcept { return type() == BSON_TYPE_BOOL; }
  bool is_null() const noexcept { return type() == BSON_TYPE_NULL; }

  // Typed accessors return std::nullopt when the type does not match.
  std::optional<std::int32_t> as_int32() const noexcept;
  std::optional<std::int64_t> as_int64() const noexcept;  // int32/int64 only
  std::optional<double> as_double() const noexcept;       // double only
  // Any numeric type (int32, int64, double, decimal128 excluded) as int64/double.
  std::optional<std::int64_t> as_integer() const noexcept;
  std::optional<double> as_number() const noexcept;
  std::optional<bool> as_bool() const noexcept;
  // MongoDB truthiness: bool, or a number compared with 0 (how `ok` is read).
  std::optional<bool> as_truthy() const noexcept;
  std::optional<std::string_view> as_string() const noexcept;
  std::optional<view> as_document() const noexcept;
  std::optional<view> as_array() const noexcept;
  std::optional<object_id> as_oid() const noexcept;
  std::optional<timestamp> as_timestamp() const noexcept;
  std::optional<binary_ref> as_binary() const noexcept;

  // For libbson calls only (see bson_storage).
  const bson_iter_t* iter() const noexcept { return it_.get(); }

 private:
  iter_storage it_{};
  bool valid_ = false;
};

// Forward iterator over the elements of a view.
class element_iterator {
 public:
  using value_type = element;
  using difference_type = std::ptrdiff_t;
  element_iterator() = default;
  element_iterator(const bson_iter_t* it, bool at_end) noexcept : end_(at_end) {
    std::memcpy(it_.bytes, it, sizeof it_.bytes);
  }
  element operator*() const { return element(it_.get()); }
  element_iterator& operator++() {
    end_ = !bson_iter_next(it_.get());
    return *this;
  }
  element_iterator operator++(int) {
    auto copy = *this;
    ++*this;
    return copy;
  }
  friend bool operator==(const element_iterator& a, const element_iterator& b) { return a.end_ && b.end_; }

 private:
  iter_storage it_{};
  bool end_ = true;
};

// A non-owning, already-validated BSON document (or array) in memory.
class view {
 public:
  view() noexcept;  // the empty document
  // Trusted bytes (produced by libbson or already validated).
  view(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}

  // Untrusted bytes: checks the length prefix against `bytes` and walks every element
  // (bson_validate), so that later reads can never go out of bounds. On success the
  // view covers exactly the document's declared length (which may be < bytes.size()).
  static std::optional<view> validate(std::span<const std::uint8_t> bytes, std::string* why = nullptr);

  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<const std::uint8_t> bytes() const noexcept { return {data_, size_}; }
  bool empty() const noexcept { return size_ <= 5; }

  element find(std::string_view key) const noexcept;
  element operator[](std::string_view key) const noexcept { return find(key); }
  // Dotted path lookup ("a.b.c").
  element find_path(std::string_view dotted) const noexcept;
  bool contains(std::string_view key) const noexcept { return static_cast<bool>(find(key)); }
  std::string_view first_key() const noexcept;
  std::size_t count() const noexcept;

  element_iterator begin() const noexcept;
  element_iterator end() const noexcept { return {}; }

  std::string to_json() const;          // canonical extended JSON
  std::string to_relaxed_json() const;  // relaxed extended JSON

  // Lends a bson_t that aliases this view for libbson calls (no allocation).
  template <class F>
  decltype(auto) with_bson_t(F&& f) const {
    bson_t b;
    bson_init_static(&b, data_, size_);
    return std::forward<F>(f)(static_cast<const bson_t*>(&b));
  }

  friend bool operator==(const view& a, const view& b) noexcept;

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

// A growable, owning document. Doubles as the builder: append_* write into it.
// `clear()` keeps the heap buffer so a reused document stops allocating once warm.
class document {
 public:
  document() noexcept { bson_init(b_.get()); }
  explicit document(view v);
  ~document() { bson_destroy(b_.get()); }
  document(const document& other) : document(other.get_view()) {}
  document& operator=(const document& other);
  document(document&& other) noexcept;
  document& operator=(document&& other) noexcept;

  // Parses (relaxed or canonical) extended JSON. Throws std::invalid_argument with
  // libbson's message (line and column) when `json` is invalid.
  static document from_json(std::string_view json);
  static std::optional<document> try_from_json(std::string_view json, std::string* why);

  view get_view() const noexcept { return {data(), size()}; }
  operator view() const noexcept { return get_view(); }
  const std::uint8_t* data() const noexcept { return bson_get_data(b_.get()); }
  // The length prefix of the bytes (what bson_t.len holds, read without touching bson_t).
  std::size_t size() const noexcept {
    const std::uint8_t* d = data();
    return std::uint32_t(d[0]) | std::uint32_t(d[1]) << 8 | std::uint32_t(d[2]) << 16 | std::uint32_t(d[3]) << 24;
  }
  std::string to_json() const { return get_view().to_json(); }
  element find(std::string_view key) const noexcept { return get_view().find(key); }
  element operator[](std::string_view key) const noexcept { return find(key); }

  void clear() noexcept { bson_reinit(b_.get()); }

  // Builders: each appends one field (no check for a duplicate key) and returns *this. They
  // throw std::length_error past libbson's 2 GiB limit, std::bad_alloc without memory.
  document& append(std::string_view key, std::int32_t v);
  document& append(std::string_view key, std::int64_t v);
  document& append(std::string_view key, double v);
  document& append(std::string_view key, bool v);
  document& append(std::string_view key, std::string_view v);
  document& append(std::string_view key, const char* v) { return append(key, std::string_view(v)); }
  document& append(std::string_view key, const std::string& v) { return append(key, std::string_view(v)); }
  document& append(std::string_view key, view v);  // sub-document
  document& append(std::string_view key, const document& v) { return append(key, v.get_view()); }
  document& append(std::string_view key, const object_id& v);
  document& append(std::string_view key, timestamp v);
  document& append(std::string_view key, binary_ref v);
  document& append(std::string_view key, const element& v);  // copies the value
  document& append_array(std::string_view key, view array);
  document& append_null(std::string_view key);
  document& append_date(std::string_view key, std::int64_t millis_since_epoch);
  // Appends every field of `other`.
  document& concat(view other);

  // Nested builders: f receives a document& (or an array_builder&) for the child.
  template <class F>
  document& append_document(std::string_view key, F&& f) {
    document child;
    std::forward<F>(f)(child);
    return append(key, child.get_view());
  }
  template <class F, class Builder = array_builder>
  document& append_array_of(std::string_view key, F&& f) {
    Builder arr;
    std::forward<F>(f)(arr);
    return append_array(key, arr.get_view());
  }

  // For libbson interop inside the library only.
  bson_t* raw() noexcept { return b_.get(); }
  const bson_t* raw() const noexcept { return b_.get(); }

 private:
  void check(bool ok, std::string_view what);
  bson_storage b_;
};

// Builds an array: push() appends with keys "0", "1", ...
class array_builder {
 public:
  template <class T>
  array_builder& push(const T& v) {
    char buf[16];
    const char* key = nullptr;
    std::size_t len = bson_uint32_to_string(next_++, &key, buf, sizeof buf);
    doc_.append(std::string_view(key, len), v);
    return *this;
  }
  view get_view() const noexcept { return doc_.get_view(); }
  std::uint32_t size() const noexcept { return next_; }

 private:
  document doc_;
  std::uint32_t next_ = 0;
};

// Canonical string name of a BSON type, as used by the `$type` operator ("int", "long", ...).
std::string_view type_name(bson_type_t t) noexcept;

}  // namespace mongowire::bson
