// In-place BSON writer for the command builders. Unlike document::append_document (which
// builds the child in a temporary document), nested documents and arrays are written
// straight into the parent's buffer with libbson's *_begin/*_end calls, so a reused
// bson::document stops allocating once its buffer is large enough.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "mongowire/bson.hpp"

namespace mongowire::detail {

class bson_array_writer;

class bson_writer {
 public:
  explicit bson_writer(bson_t* target) noexcept : b_(target) {}
  explicit bson_writer(bson::document& doc) noexcept : b_(doc.raw()) {}

  bson_writer& put(std::string_view k, std::int32_t v) { return check(bson_append_int32(b_, k.data(), n(k), v), k); }
  bson_writer& put(std::string_view k, std::int64_t v) { return check(bson_append_int64(b_, k.data(), n(k), v), k); }
  bson_writer& put(std::string_view k, bool v) { return check(bson_append_bool(b_, k.data(), n(k), v), k); }
  bson_writer& put(std::string_view k, std::string_view v) {
    return check(bson_append_utf8(b_, k.data(), n(k), v.data(), static_cast<int>(v.size())), k);
  }
  bson_writer& put(std::string_view k, const char* v) { return put(k, std::string_view(v)); }
  bson_writer& put(std::string_view k, bson::view doc) {
    return check(doc.with_bson_t([&](const bson_t* c) { return bson_append_document(b_, k.data(), n(k), c); }), k);
  }
  bson_writer& put(std::string_view k, bson::timestamp ts) {
    return check(bson_append_timestamp(b_, k.data(), n(k), ts.t, ts.i), k);
  }
  bson_writer& put(std::string_view k, bson::binary_ref bin) {
    auto size = static_cast<std::uint32_t>(bin.bytes.size());
    return check(bson_append_binary(b_, k.data(), n(k), bin.subtype, bin.bytes.data(), size), k);
  }
  bson_writer& put_array(std::string_view k, bson::view arr) {
    return check(arr.with_bson_t([&](const bson_t* c) { return bson_append_array(b_, k.data(), n(k), c); }), k);
  }
  // A copy of an element's value under a new key.
  bson_writer& put_element(std::string_view k, const bson::element& e) {
    return check(e && bson_append_iter(b_, k.data(), n(k), e.iter()), k);
  }
  // int32 when the value fits, else int64: how drivers send maxTimeMS, wtimeout, limits.
  bson_writer& put_integer(std::string_view k, std::int64_t v) {
    if (v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max())
      return put(k, static_cast<std::int32_t>(v));
    return put(k, v);
  }

  template <class F>
  bson_writer& document(std::string_view k, F&& fill) {
    bson_t child;
    check(bson_append_document_begin(b_, k.data(), n(k), &child), k);
    bson_writer w(&child);
    fill(w);
    return check(bson_append_document_end(b_, &child), k);
  }
  template <class F>
  bson_writer& array(std::string_view k, F&& fill);

 private:
  static int n(std::string_view k) noexcept { return static_cast<int>(k.size()); }

  bson_writer& check(bool ok, std::string_view k) {
    // libbson refuses an append only when the document would exceed INT32_MAX bytes.
    if (!ok) throw std::length_error("BSON command too large while appending '" + std::string(k) + "'");
    return *this;
  }

  bson_t* b_;
};

// Array elements get the keys "0", "1", ... in order.
class bson_array_writer {
 public:
  explicit bson_array_writer(bson_t* target) noexcept : w_(target) {}

  template <class T>
  bson_array_writer& push(const T& v) {
    w_.put(next_key(), v);
    return *this;
  }
  template <class F>
  bson_array_writer& push_document(F&& fill) {
    w_.document(next_key(), std::forward<F>(fill));
    return *this;
  }
  std::uint32_t size() const noexcept { return next_; }

 private:
  std::string_view next_key() noexcept {
    const char* key = nullptr;
    std::size_t n = bson_uint32_to_string(next_++, &key, buf_, sizeof buf_);
    return {key, n};
  }
  bson_writer w_;
  char buf_[16];
  std::uint32_t next_ = 0;
};

template <class F>
bson_writer& bson_writer::array(std::string_view k, F&& fill) {
  bson_t child;
  check(bson_append_array_begin(b_, k.data(), n(k), &child), k);
  bson_array_writer w(&child);
  fill(w);
  return check(bson_append_array_end(b_, &child), k);
}

}  // namespace mongowire::detail
