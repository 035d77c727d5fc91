// Small shared pieces of the unified-test-format runner: single BSON values, the two
// kinds of failure the format distinguishes, and argument access with "unsupported
// argument" detection (unified-test-format.md, "Executing an Operation").
#pragma once

#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "mongowire/bson.hpp"

namespace mongowire::spec {

// An assertion of the test failed ("a failure", unified-test-format.md "loop").
struct test_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The test file asks for something malformed or unknown ("an error").
struct runner_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A test cannot run here for a reason outside the runner (e.g. no pinning without mongos).
struct test_skipped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One BSON value of any type, held as the field "v" of a one-field document.
class value {
 public:
  value() = default;
  static value of(const bson::element& e) {
    value v;
    v.doc_.emplace();
    if (e) v.doc_->append("v", e);
    return v;
  }
  template <class T>
  static value of_scalar(const T& x) {
    value v;
    v.doc_.emplace();
    v.doc_->append("v", x);
    return v;
  }
  static value of_document(bson::view d) {
    value v;
    v.doc_.emplace();
    v.doc_->append("v", d);
    return v;
  }
  static value of_array(bson::view a) {
    value v;
    v.doc_.emplace();
    v.doc_->append_array("v", a);
    return v;
  }
  static value null() {
    value v;
    v.doc_.emplace();
    v.doc_->append_null("v");
    return v;
  }
  bool has_value() const noexcept { return doc_ && doc_->get_view().contains("v"); }
  bson::element get() const noexcept { return doc_ ? doc_->find("v") : bson::element(); }

 private:
  std::optional<bson::document> doc_;
};

// Relaxed extended JSON of one value, for messages.
std::string describe(const bson::element& e);

// The arguments of one operation: typed getters that remember which keys were read, so
// that check_all_used() can reject arguments the runner does not know.
class arguments {
 public:
  arguments(bson::view args, std::string_view operation) : args_(args), operation_(operation) {}

  bool has(std::string_view key) const { return args_.contains(key); }
  bson::element get(std::string_view key);  // invalid element when absent
  bson::element required(std::string_view key);
  std::string required_string(std::string_view key);
  bson::view required_document(std::string_view key);
  std::optional<bson::view> document(std::string_view key);
  std::optional<bson::view> array(std::string_view key);
  std::optional<std::string> string(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::int64_t> integer(std::string_view key);
  // Throws runner_error naming the first argument no getter asked for.
  void check_all_used() const;

 private:
  bson::view args_;
  std::string operation_;
  std::set<std::string, std::less<>> used_;
};

// Version strings "major[.minor[.patch]]", compared numerically (unified-test-format.md,
// "Version String").
struct version {
  int major = 0, minor = 0, patch = 0;
  static version parse(std::string_view text);
  friend auto operator<=>(const version&, const version&) = default;
};

}  // namespace mongowire::spec
