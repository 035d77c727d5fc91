// Helpers for the wire tests: hand-assembled frames and random documents.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "mongowire/bson.hpp"
#include "proto/wire/frame.hpp"

namespace wire_test {

using bytes = std::vector<std::uint8_t>;

// Appends raw pieces to build frames by hand, the way OP_MSG.md draws them.
class frame_builder {
 public:
  frame_builder& i32(std::int32_t v) {
    mongowire::detail::wire::append_i32le(b_, v);
    return *this;
  }
  frame_builder& u8(std::uint8_t v) {
    b_.push_back(v);
    return *this;
  }
  frame_builder& raw(std::initializer_list<std::uint8_t> v) {
    b_.insert(b_.end(), v);
    return *this;
  }
  frame_builder& raw(const bytes& v) {
    b_.insert(b_.end(), v.begin(), v.end());
    return *this;
  }
  frame_builder& cstring(std::string_view s) {
    b_.insert(b_.end(), s.begin(), s.end());
    b_.push_back(0);
    return *this;
  }
  frame_builder& doc(mongowire::bson::view d) {
    b_.insert(b_.end(), d.data(), d.data() + d.size());
    return *this;
  }
  // Header with a placeholder length, fixed by done().
  frame_builder& header(std::int32_t request_id, std::int32_t response_to, std::int32_t op_code) {
    return i32(0).i32(request_id).i32(response_to).i32(op_code);
  }
  std::size_t size() const { return b_.size(); }
  bytes done() {
    mongowire::detail::wire::patch_message_length(b_);
    return b_;
  }
  bytes raw_bytes() const { return b_; }

 private:
  bytes b_;
};

inline bytes to_bytes(mongowire::bson::view v) { return bytes(v.data(), v.data() + v.size()); }

// A random command-like document: string, numbers, bools, a nested document and an array.
inline mongowire::bson::document random_document(std::mt19937& rng, int depth = 0) {
  using mongowire::bson::document;
  std::uniform_int_distribution<int> fields(1, 6), kind(0, depth < 2 ? 6 : 4), len(0, 40);
  document d;
  int n = fields(rng);
  for (int i = 0; i < n; ++i) {
    std::string key = "k" + std::to_string(i);
    switch (kind(rng)) {
      case 0: d.append(key, static_cast<std::int32_t>(rng())); break;
      case 1: d.append(key, static_cast<std::int64_t>(rng()) << 20); break;
      case 2: d.append(key, std::string(static_cast<std::size_t>(len(rng)), 'a' + static_cast<char>(i))); break;
      case 3: d.append(key, (rng() & 1) != 0); break;
      case 4: d.append(key, static_cast<double>(rng()) / 7.0); break;
      case 5: d.append(key, random_document(rng, depth + 1)); break;
      default:
        d.append_array_of(key, [&](mongowire::bson::array_builder& a) {
          for (int j = 0; j < 3; ++j) a.push(static_cast<std::int32_t>(rng() % 100));
        });
    }
  }
  return d;
}

}  // namespace wire_test
