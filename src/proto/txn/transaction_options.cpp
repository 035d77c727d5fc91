#include "proto/txn/transaction_options.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace mongowire::detail {
namespace {

template <class T>
const std::optional<T>& first_set(const std::optional<T>& a, const std::optional<T>& b, const std::optional<T>& c) {
  if (a) return a;
  if (b) return b;
  return c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

transaction_options resolve_transaction_options(const std::optional<transaction_options>& given,
                                                const std::optional<transaction_options>& session_defaults,
                                                const transaction_options& client_defaults) {
  static const transaction_options none{};
  const transaction_options& g = given ? *given : none;
  const transaction_options& s = session_defaults ? *session_defaults : none;
  const transaction_options& c = client_defaults;
  transaction_options out;
  out.read_concern = first_set(g.read_concern, s.read_concern, c.read_concern);
  out.write_concern = first_set(g.write_concern, s.write_concern, c.write_concern);
  out.read_preference = first_set(g.read_preference, s.read_preference, c.read_preference);
  out.max_commit_time_ms = first_set(g.max_commit_time_ms, s.max_commit_time_ms, c.max_commit_time_ms);
  return out;
}

bool is_unacknowledged(bson::view write_concern) noexcept {
  auto w = write_concern.find("w").as_number();
  if (!w || *w != 0) return false;
  auto j = write_concern.find("j").as_truthy();
  return !(j && *j);
}

bool is_primary(const std::optional<bson::document>& read_preference) noexcept {
  if (!read_preference) return true;
  auto mode = read_preference->find("mode").as_string();
  return !mode || iequals(*mode, "primary");
}

bool is_server_default(const std::optional<bson::document>& concern) noexcept {
  return !concern || concern->get_view().empty();
}

bson::document commit_retry_write_concern(const std::optional<bson::document>& transaction_write_concern) {
  bson::document wc;
  wc.append("w", "majority");
  bool has_wtimeout = false;
  if (transaction_write_concern) {
    for (const bson::element& e : transaction_write_concern->get_view()) {
      if (e.key() == "w") continue;
      if (e.key() == "wtimeout") has_wtimeout = true;
      wc.append(e.key(), e);
    }
  }
  if (!has_wtimeout) wc.append("wtimeout", commit_retry_wtimeout_ms);
  return wc;
}

}  // namespace mongowire::detail
