#include "uri_options.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

namespace mongowire::spec {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Percent-encodes what would end or split an option value; ':' and ',' stay as they are
// because readPreferenceTags uses them as separators.
std::string encoded(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || std::string_view("-._~:,").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string uri_value(const bson::element& e) {
  if (auto s = e.as_string()) return encoded(*s);
  if (auto b = e.as_bool()) return *b ? "true" : "false";
  if (auto i = e.as_integer()) return std::to_string(*i);
  if (e.is_document() && e.as_document()->contains("$$placeholder"))
    throw runner_error("uriOptions: no value is configured for the $$placeholder of " + std::string(e.key()));
  throw runner_error("uriOptions: unsupported value for " + std::string(e.key()) + ": " + describe(e));
}

}  // namespace

// The suite's connection string with `options` added; "any keys in this object MUST
// override conflicting keys in the connection string" (unified-test-format.md "client").
std::string uri_with_options(const std::string& base, bson::view options) {
  std::string prefix = base;
  std::string query;
  if (auto q = base.find('?'); q != std::string::npos) {
    prefix = base.substr(0, q);
    query = base.substr(q + 1);
  }
  if (prefix.find('/', prefix.find("://") + 3) == std::string::npos) prefix += '/';
  std::vector<std::string> pairs;
  std::stringstream in(query);
  for (std::string pair; std::getline(in, pair, '&');)
    if (!pair.empty()) pairs.push_back(pair);
  for (const auto& option : options) {
    const std::string key(option.key());
    std::erase_if(pairs, [&](const std::string& p) { return lower(p.substr(0, p.find('='))) == lower(key); });
    if (auto tags = option.as_array()) {
      for (const auto& t : *tags) pairs.push_back(key + "=" + uri_value(t));
    } else {
      pairs.push_back(key + "=" + uri_value(option));
    }
  }
  std::string out = prefix;
  for (std::size_t i = 0; i < pairs.size(); ++i) out += (i == 0 ? "?" : "&") + pairs[i];
  return out;
}

namespace {

// Where the seed list of `base` starts and ends (after the credentials, before the path).
std::pair<std::size_t, std::size_t> host_span(const std::string& base) {
  const auto scheme_end = base.find("://");
  if (scheme_end == std::string::npos) throw runner_error("not a connection string: " + base);
  auto begin = scheme_end + 3;
  auto end = std::min(base.find('/', begin), base.find('?', begin));
  if (end == std::string::npos) end = base.size();
  // Credentials end at the last '@' before the path (user names are percent-encoded).
  if (auto at = base.rfind('@', end); at != std::string::npos && at >= begin) begin = at + 1;
  return {begin, end};
}

}  // namespace

std::string uri_with_hosts(const std::string& base, const std::string& hosts) {
  const auto [begin, end] = host_span(base);
  return base.substr(0, begin) + hosts + base.substr(end);
}

std::vector<std::string> hosts_of(const std::string& base) {
  const auto [begin, end] = host_span(base);
  std::vector<std::string> out;
  std::stringstream in(base.substr(begin, end - begin));
  for (std::string host; std::getline(in, host, ',');)
    if (!host.empty()) out.push_back(host);
  return out;
}

}  // namespace mongowire::spec
