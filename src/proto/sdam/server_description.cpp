#include "proto/sdam/server_description.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace mongowire::detail::sdam {

std::string_view to_string(server_type t) noexcept {
  switch (t) {
    case server_type::unknown: return "Unknown";
    case server_type::standalone: return "Standalone";
    case server_type::mongos: return "Mongos";
    case server_type::possible_primary: return "PossiblePrimary";
    case server_type::rs_primary: return "RSPrimary";
    case server_type::rs_secondary: return "RSSecondary";
    case server_type::rs_arbiter: return "RSArbiter";
    case server_type::rs_other: return "RSOther";
    case server_type::rs_ghost: return "RSGhost";
    case server_type::load_balancer: return "LoadBalancer";
  }
  return "Unknown";
}

int compare_topology_versions(const std::optional<topology_version>& current,
                              const std::optional<topology_version>& incoming) noexcept {
  if (!current || !incoming || current->process_id != incoming->process_id) return -1;
  if (current->counter == incoming->counter) return 0;
  return current->counter < incoming->counter ? -1 : 1;
}

std::optional<topology_version> parse_topology_version(bson::view doc, std::string* why) {
  const auto pid = doc["processId"].as_oid();
  const auto counter = doc["counter"].as_integer();
  if (!pid || !counter) {
    if (why) *why = "topologyVersion must be {processId: ObjectId, counter: integer}";
    return std::nullopt;
  }
  return topology_version{*pid, *counter};
}

double average_round_trip_time(std::optional<double> previous_average_ms, double sample_ms) noexcept {
  constexpr double alpha = 0.2;
  return previous_average_ms ? alpha * sample_ms + (1 - alpha) * *previous_average_ms : sample_ms;
}

bool is_valid_rtt_sample(double sample_ms) noexcept { return std::isfinite(sample_ms) && sample_ms >= 0; }

double min_round_trip_time(std::span<const double> last_samples_ms) noexcept {
  if (last_samples_ms.size() < 2) return 0;
  return *std::min_element(last_samples_ms.begin(), last_samples_ms.end());
}

server_description server_description::unknown(host_address address, std::string error,
                                               std::optional<sdam::topology_version> tv) {
  server_description d;
  d.address = std::move(address);
  d.error = std::move(error);
  d.topology_version = std::move(tv);
  return d;
}

namespace {

// Reads the fields of a hello reply; the first malformed field stops it with a message naming it.
class hello_reader {
 public:
  explicit hello_reader(bson::view reply) : reply_(reply) {}

  const std::string& error() const { return error_; }
  bool failed() const { return !error_.empty(); }

  bool flag(std::string_view key) {
    const auto e = reply_[key];
    if (!e || failed()) return false;
    const auto value = e.as_truthy();
    if (!value) fail(key, "a boolean");
    return value.value_or(false);
  }

  template <class Int>
  std::optional<Int> integer(std::string_view key, std::int64_t min, std::int64_t max) {
    const auto e = reply_[key];
    if (!e || e.is_null() || failed()) return std::nullopt;
    const auto value = e.as_integer();
    if (!value || *value < min || *value > max) {
      fail(key, fmt::format("an integer from {} to {}", min, max));
      return std::nullopt;
    }
    return static_cast<Int>(*value);
  }

  std::optional<std::string> string(std::string_view key) {
    const auto e = reply_[key];
    if (!e || e.is_null() || failed()) return std::nullopt;
    const auto value = e.as_string();
    if (!value) fail(key, "a string");
    return value ? std::optional<std::string>(*value) : std::nullopt;
  }

  std::optional<host_address> address(std::string_view key) {
    const auto text = string(key);
    if (!text) return std::nullopt;
    std::string why;
    auto a = parse_host_address(*text, &why);
    if (!a) fail(key, "a host:port string (" + why + ")");
    return a;
  }

  std::vector<host_address> address_list(std::string_view key) {
    std::vector<host_address> out;
    const auto e = reply_[key];
    if (!e || e.is_null() || failed()) return out;
    const auto array = e.as_array();
    if (!array) {
      fail(key, "an array of host:port strings");
      return out;
    }
    for (const auto item : *array) {
      const auto text = item.as_string();
      std::string why;
      auto a = text ? parse_host_address(*text, &why) : std::nullopt;
      if (!a) {
        fail(key, "an array of host:port strings" + (why.empty() ? std::string() : " (" + why + ")"));
        return {};
      }
      if (std::find(out.begin(), out.end(), *a) == out.end()) out.push_back(std::move(*a));
    }
    return out;
  }

  std::optional<bson::object_id> oid(std::string_view key) {
    const auto e = reply_[key];
    if (!e || e.is_null() || failed()) return std::nullopt;
    const auto value = e.as_oid();
    if (!value) fail(key, "an ObjectId");
    return value;
  }

  tag_set tags() {
    tag_set out;
    const auto e = reply_["tags"];
    if (!e || failed()) return out;
    const auto doc = e.as_document();
    if (!doc) {
      fail("tags", "a document of strings");
      return out;
    }
    for (const auto item : *doc) {
      const auto value = item.as_string();
      if (!value) {
        fail("tags", "a document of strings");
        return {};
      }
      out.emplace_back(std::string(item.key()), std::string(*value));
    }
    return out;
  }

  std::optional<sdam::topology_version> topology_version() {
    const auto e = reply_["topologyVersion"];
    if (!e || failed()) return std::nullopt;
    const auto doc = e.as_document();
    auto tv = doc ? parse_topology_version(*doc) : std::nullopt;
    if (!tv) fail("topologyVersion", "{processId: ObjectId, counter: integer}");
    return tv;
  }

  std::optional<std::int64_t> last_write_date() {
    const auto e = reply_.find_path("lastWrite.lastWriteDate");
    if (!e || failed()) return std::nullopt;
    if (e.type() != BSON_TYPE_DATE_TIME) {
      fail("lastWrite.lastWriteDate", "a date");
      return std::nullopt;
    }
    return bson_iter_date_time(e.iter());
  }

  bool has(std::string_view key) const { return static_cast<bool>(reply_[key]); }

  std::optional<std::string_view> message_string() const { return reply_["msg"].as_string(); }

 private:
  void fail(std::string_view key, std::string_view expected) {
    if (error_.empty()) error_ = fmt::format("hello reply field '{}' must be {}", key, expected);
  }

  bson::view reply_;
  std::string error_;
};

// SDAM "Parsing a hello or legacy hello response", ServerType table.
server_type classify(hello_reader& r, const std::optional<std::string>& set_name) {
  if (r.flag("isreplicaset")) return server_type::rs_ghost;
  if (set_name) {
    // isWritablePrimary first, legacy ismaster as the fallback.
    const bool writable = r.has("isWritablePrimary") ? r.flag("isWritablePrimary") : r.flag("ismaster");
    if (r.flag("hidden")) return server_type::rs_other;
    if (writable) return server_type::rs_primary;
    if (r.flag("secondary")) return server_type::rs_secondary;
    if (r.flag("arbiterOnly")) return server_type::rs_arbiter;
    return server_type::rs_other;
  }
  if (r.message_string() == "isdbgrid") return server_type::mongos;
  return server_type::standalone;
}

}  // namespace

server_description server_description::from_hello(host_address address, bson::view reply, double rtt_sample_ms,
                                                  std::optional<double> previous_average_rtt_ms,
                                                  std::int64_t last_update_time_ms) {
  if (!is_valid_rtt_sample(rtt_sample_ms))
    return unknown(std::move(address), fmt::format("invalid round-trip time sample {} ms: it must be a "
                                                   "non-negative number",
                                                   rtt_sample_ms));
  const auto ok = reply["ok"].as_truthy();
  if (!ok || !*ok) {
    const auto errmsg = reply["errmsg"].as_string();
    return unknown(std::move(address), fmt::format("hello failed: {}", errmsg.value_or("reply without ok: 1")));
  }
  hello_reader r(reply);
  server_description d;
  d.address = std::move(address);
  d.set_name = r.string("setName");
  d.type = classify(r, d.set_name);
  constexpr std::int64_t i32_max = INT32_MAX;
  d.min_wire_version = r.integer<std::int32_t>("minWireVersion", 0, i32_max).value_or(0);
  d.max_wire_version = r.integer<std::int32_t>("maxWireVersion", 0, i32_max).value_or(0);
  d.me = r.address("me");
  d.hosts = r.address_list("hosts");
  d.passives = r.address_list("passives");
  d.arbiters = r.address_list("arbiters");
  d.tags = r.tags();
  d.set_version = r.integer<std::int64_t>("setVersion", INT64_MIN, INT64_MAX);
  d.election_id = r.oid("electionId");
  d.primary = r.address("primary");
  d.logical_session_timeout_minutes = r.integer<std::int64_t>("logicalSessionTimeoutMinutes", 0, INT64_MAX);
  d.topology_version = r.topology_version();
  d.last_write_date_ms = r.last_write_date();
  d.last_update_time_ms = last_update_time_ms;
  d.service_id = r.oid("serviceId");
  d.max_bson_object_size = r.integer<std::int32_t>("maxBsonObjectSize", 1, i32_max).value_or(d.max_bson_object_size);
  d.max_message_size_bytes =
      r.integer<std::int32_t>("maxMessageSizeBytes", 1, i32_max).value_or(d.max_message_size_bytes);
  d.max_write_batch_size = r.integer<std::int32_t>("maxWriteBatchSize", 1, i32_max).value_or(d.max_write_batch_size);
  if (d.min_wire_version > d.max_wire_version && !r.failed()) {
    return unknown(std::move(d.address), fmt::format("hello reply has minWireVersion {} > maxWireVersion {}",
                                                     d.min_wire_version, d.max_wire_version));
  }
  if (r.failed()) return unknown(std::move(d.address), r.error());
  d.round_trip_time_ms = average_round_trip_time(previous_average_rtt_ms, rtt_sample_ms);
  return d;
}

bool server_description::lists_member(const host_address& a) const noexcept {
  auto in = [&](const std::vector<host_address>& v) { return std::find(v.begin(), v.end(), a) != v.end(); };
  return in(hosts) || in(passives) || in(arbiters);
}

bool server_description::equivalent_to(const server_description& o) const noexcept {
  auto same_set = [](std::vector<host_address> a, std::vector<host_address> b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return a == b;
  };
  auto sorted = [](tag_set t) {
    std::sort(t.begin(), t.end());
    return t;
  };
  return address == o.address && error == o.error && type == o.type && min_wire_version == o.min_wire_version &&
         max_wire_version == o.max_wire_version && me == o.me && same_set(hosts, o.hosts) &&
         same_set(passives, o.passives) && same_set(arbiters, o.arbiters) && sorted(tags) == sorted(o.tags) &&
         set_name == o.set_name && election_id == o.election_id && set_version == o.set_version &&
         primary == o.primary && logical_session_timeout_minutes == o.logical_session_timeout_minutes &&
         topology_version == o.topology_version;
}

}  // namespace mongowire::detail::sdam
