#include "value.hpp"

#include <charconv>

namespace mongowire::spec {

std::string describe(const bson::element& e) {
  if (!e) return "(absent)";
  bson::document holder;
  holder.append("v", e);
  std::string json = holder.get_view().to_relaxed_json();  // { "v" : <value> }
  const auto start = json.find(':');
  const auto end = json.rfind('}');
  if (start == std::string::npos || end == std::string::npos || end <= start + 1) return json;
  std::string inner = json.substr(start + 1, end - start - 1);
  while (!inner.empty() && inner.front() == ' ') inner.erase(inner.begin());
  while (!inner.empty() && inner.back() == ' ') inner.pop_back();
  return inner;
}

bson::element arguments::get(std::string_view key) {
  used_.emplace(key);
  return args_.find(key);
}

bson::element arguments::required(std::string_view key) {
  auto e = get(key);
  if (!e) throw runner_error(operation_ + ": missing required argument '" + std::string(key) + "'");
  return e;
}

std::string arguments::required_string(std::string_view key) {
  auto s = required(key).as_string();
  if (!s) throw runner_error(operation_ + ": argument '" + std::string(key) + "' must be a string");
  return std::string(*s);
}

bson::view arguments::required_document(std::string_view key) {
  auto d = required(key).as_document();
  if (!d) throw runner_error(operation_ + ": argument '" + std::string(key) + "' must be a document");
  return *d;
}

std::optional<bson::view> arguments::document(std::string_view key) {
  auto e = get(key);
  if (!e) return std::nullopt;
  auto d = e.as_document();
  if (!d) throw runner_error(operation_ + ": argument '" + std::string(key) + "' must be a document");
  return d;
}

std::optional<bson::view> arguments::array(std::string_view key) {
  auto e = get(key);
  if (!e) return std::nullopt;
  auto a = e.as_array();
  if (!a) throw runner_error(operation_ + ": argument '" + std::string(key) + "' must be an array");
  return a;
}

std::optional<std::string> arguments::string(std::string_view key) {
  auto e = get(key);
  if (!e) return std::nullopt;
  auto s = e.as_string();
  if (!s) throw runner_error(operation_ + ": argument '" + std::string(key) + "' must be a string");
  return std::string(*s);
}

std::optional<bool> arguments::boolean(std::string_view key) {
  auto e = get(key);
  if (!e) return std::nullopt;
  auto b = e.as_bool();
  if (!b) throw runner_error(operation_ + ": argument '" + std::string(key) + "' must be a boolean");
  return b;
}

std::optional<std::int64_t> arguments::integer(std::string_view key) {
  auto e = get(key);
  if (!e) return std::nullopt;
  auto i = e.as_integer();
  if (!i) throw runner_error(operation_ + ": argument '" + std::string(key) + "' must be a number");
  return i;
}

void arguments::check_all_used() const {
  for (const auto& e : args_)
    if (!used_.contains(e.key()))
      throw runner_error(operation_ + ": unsupported argument '" + std::string(e.key()) + "'");
}

version version::parse(std::string_view text) {
  version v;
  int* parts[] = {&v.major, &v.minor, &v.patch};
  std::size_t i = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  while (p < end && i < 3) {
    auto [next, ec] = std::from_chars(p, end, *parts[i]);
    if (ec != std::errc()) throw runner_error("malformed version string '" + std::string(text) + "'");
    ++i;
    p = next;
    if (p < end && *p == '.') ++p;
    else break;  // anything after major.minor.patch (e.g. "-rc1") is discarded
  }
  return v;
}

}  // namespace mongowire::spec
