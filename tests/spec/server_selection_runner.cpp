// Runner of server-selection/{rtt,in_window,server_selection}/ (server-selection/tests/README.md,
// server-selection-tests.md) through the sans-I/O selection of src/proto/sdam. Each file is
// one test, named after the file. Files in the max-staleness style (heartbeatFrequencyMS,
// lastUpdateTime, lastWrite, maxStalenessSeconds, "error": true) run the same way.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <optional>
#include <fstream>
#include <initializer_list>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "mongowire/bson.hpp"
#include "mongowire/uri.hpp"
#include "proto/sdam/server_description.hpp"
#include "proto/sdam/server_selection.hpp"
#include "report.hpp"
#include "spec_file.hpp"

namespace mongowire::spec {
namespace {

namespace sdam = mongowire::detail::sdam;

// A problem of the file itself: reported as the "(file)" test.
struct file_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The verdict on the file's one test: empty when it passed, else the first mismatch.
using verdict = std::string;

[[noreturn]] void bad(std::string_view where, std::string_view what) {
  throw file_error(fmt::format("{}: {}", where, what));
}

// Unknown fields are file errors (report.hpp): a field this runner ignores could change the
// meaning of the test.
void check_keys(bson::view doc, std::initializer_list<std::string_view> known, std::string_view where) {
  for (const auto e : doc)
    if (std::find(known.begin(), known.end(), e.key()) == known.end())
      bad(where, fmt::format("unknown field '{}'", e.key()));
}

bson::view need_document(bson::view doc, std::string_view key, std::string_view where) {
  const auto d = doc[key].as_document();
  if (!d) bad(where, fmt::format("'{}' must be a document", key));
  return *d;
}

bson::view need_array(bson::view doc, std::string_view key, std::string_view where) {
  const auto a = doc[key].as_array();
  if (!a) bad(where, fmt::format("'{}' must be an array", key));
  return *a;
}

std::string_view need_string(bson::view doc, std::string_view key, std::string_view where) {
  const auto s = doc[key].as_string();
  if (!s) bad(where, fmt::format("'{}' must be a string", key));
  return *s;
}

double need_number(bson::view doc, std::string_view key, std::string_view where) {
  const auto n = doc[key].as_number();
  if (!n || !std::isfinite(*n)) bad(where, fmt::format("'{}' must be a finite number", key));
  return *n;
}

std::int64_t need_integer(const bson::element& e, std::string_view where) {
  if (e.type() == BSON_TYPE_DATE_TIME) return bson_iter_date_time(e.iter());
  const auto n = e.as_integer();
  if (!n) bad(where, fmt::format("'{}' must be an integer", e.key()));
  return *n;
}

host_address parse_address(std::string_view text, std::string_view where) {
  std::string why;
  auto a = parse_host_address(text, &why);
  if (!a) bad(where, fmt::format("bad address '{}': {}", text, why));
  return *a;
}

sdam::server_type parse_server_type(std::string_view name, std::string_view where) {
  using st = sdam::server_type;
  for (const auto t : {st::unknown, st::standalone, st::mongos, st::possible_primary, st::rs_primary, st::rs_secondary,
                       st::rs_arbiter, st::rs_other, st::rs_ghost, st::load_balancer})
    if (sdam::to_string(t) == name) return t;
  bad(where, fmt::format("unknown server type '{}'", name));
}

sdam::topology_type parse_topology_type(std::string_view name) {
  using tt = sdam::topology_type;
  for (const auto t : {tt::unknown, tt::single, tt::replica_set_no_primary, tt::replica_set_with_primary, tt::sharded,
                       tt::load_balanced})
    if (sdam::to_string(t) == name) return t;
  bad("topology_description", fmt::format("unknown topology type '{}'", name));
}

// The tests spell modes "SecondaryPreferred"; $readPreference documents "secondaryPreferred".
read_preference_mode parse_mode(std::string_view name) {
  using m = read_preference_mode;
  for (const auto mode : {m::primary, m::primary_preferred, m::secondary, m::secondary_preferred, m::nearest}) {
    const auto canonical = to_string(mode);
    if (name.size() == canonical.size() && !name.empty() && std::tolower(name[0]) == canonical[0] &&
        name.substr(1) == canonical.substr(1))
      return mode;
  }
  bad("read_preference", fmt::format("unknown mode '{}'", name));
}

tag_set parse_tags(bson::view doc, std::string_view where) {
  tag_set tags;
  for (const auto e : doc) {
    const auto value = e.as_string();
    if (!value) bad(where, fmt::format("tag '{}' must be a string", e.key()));
    tags.emplace_back(std::string(e.key()), std::string(*value));
  }
  return tags;
}

// One ServerDescription of topology_description.servers (and of the expected lists).
sdam::server_description parse_server(bson::view doc) {
  constexpr std::string_view where = "server";
  check_keys(
      doc, {"address", "type", "avg_rtt_ms", "tags", "lastUpdateTime", "lastWrite", "maxWireVersion", "minWireVersion"},
      where);
  sdam::server_description s;
  s.address = parse_address(need_string(doc, "address", where), where);
  s.type = parse_server_type(need_string(doc, "type", where), where);
  if (doc.contains("avg_rtt_ms")) s.round_trip_time_ms = need_number(doc, "avg_rtt_ms", where);
  if (doc.contains("tags")) s.tags = parse_tags(need_document(doc, "tags", where), "server tags");
  if (const auto e = doc["lastUpdateTime"]) s.last_update_time_ms = need_integer(e, where);
  if (doc.contains("lastWrite")) {
    const auto last_write = need_document(doc, "lastWrite", where);
    check_keys(last_write, {"lastWriteDate"}, "lastWrite");
    if (const auto e = last_write["lastWriteDate"]) s.last_write_date_ms = need_integer(e, "lastWrite");
  }
  if (const auto e = doc["maxWireVersion"]) s.max_wire_version = static_cast<std::int32_t>(need_integer(e, where));
  if (const auto e = doc["minWireVersion"]) s.min_wire_version = static_cast<std::int32_t>(need_integer(e, where));
  return s;
}

std::vector<sdam::server_description> parse_servers(bson::view array) {
  std::vector<sdam::server_description> out;
  for (const auto e : array) {
    const auto doc = e.as_document();
    if (!doc) bad("servers", "every server must be a document");
    out.push_back(parse_server(*doc));
  }
  return out;
}

std::vector<host_address> parse_addresses(bson::view array) {
  std::vector<host_address> out;
  for (const auto& s : parse_servers(array)) out.push_back(s.address);
  return out;
}

struct topology_input {
  sdam::topology_type type = sdam::topology_type::unknown;
  std::vector<sdam::server_description> servers;
};

topology_input parse_topology(bson::view file) {
  const auto doc = need_document(file, "topology_description", "file");
  check_keys(doc, {"type", "servers"}, "topology_description");
  topology_input t;
  t.type = parse_topology_type(need_string(doc, "type", "topology_description"));
  t.servers = parse_servers(need_array(doc, "servers", "topology_description"));
  return t;
}

sdam::read_preference parse_read_preference(bson::view doc) {
  constexpr std::string_view where = "read_preference";
  check_keys(doc, {"mode", "tag_sets", "maxStalenessSeconds", "hedge"}, where);
  sdam::read_preference rp;
  if (doc.contains("mode")) rp.mode = parse_mode(need_string(doc, "mode", where));
  if (doc.contains("tag_sets")) {
    for (const auto e : need_array(doc, "tag_sets", where)) {
      const auto tags = e.as_document();
      if (!tags) bad(where, "every tag set must be a document");
      rp.tag_sets.push_back(parse_tags(*tags, where));
    }
  }
  if (const auto e = doc["maxStalenessSeconds"]; e && !e.is_null()) {
    const auto n = e.as_number();
    if (!n) bad(where, "'maxStalenessSeconds' must be a number");
    rp.max_staleness_seconds = *n;
  }
  return rp;
}

std::string list(std::vector<host_address> addresses) {
  std::sort(addresses.begin(), addresses.end());
  std::string out = "[";
  for (std::size_t i = 0; i < addresses.size(); ++i) out += (i ? "," : "") + addresses[i].to_string();
  return out + "]";
}

std::vector<host_address> addresses_of(const sdam::server_list& servers) {
  std::vector<host_address> out;
  for (const auto* s : servers) out.push_back(s->address);
  return out;
}

// The README compares sets of servers: order does not matter.
verdict compare(std::string_view what, std::vector<host_address> expected, const sdam::server_list& got) {
  auto actual = addresses_of(got);
  std::sort(expected.begin(), expected.end());
  std::sort(actual.begin(), actual.end());
  if (expected == actual) return {};
  return fmt::format("{}: expected {}, got {}", what, list(expected), list(actual));
}

// rtt/: a server description with average avg_rtt_ms ("NULL": none) gets a new_rtt_ms sample.
verdict run_rtt(bson::view file) {
  check_keys(file, {"avg_rtt_ms", "new_rtt_ms", "new_avg_rtt"}, "file");
  std::optional<double> previous;
  const auto avg = file["avg_rtt_ms"];
  if (avg.as_string() != std::optional<std::string_view>("NULL") && !avg.is_null())
    previous = need_number(file, "avg_rtt_ms", "file");
  const double sample = need_number(file, "new_rtt_ms", "file");
  const double expected = need_number(file, "new_avg_rtt", "file");
  const auto hello = bson::document::from_json(R"({"ok": 1, "maxWireVersion": 21})");
  const auto d = sdam::server_description::from_hello(*parse_host_address("a:27017"), hello, sample, previous);
  if (!d.error.empty()) return "server description rejected the sample: " + d.error;
  const double got = d.round_trip_time_ms.value_or(NAN);
  if (std::fabs(got - expected) <= 1e-9 * std::max(1.0, std::fabs(expected))) return {};
  return fmt::format("new_avg_rtt: expected {}, got {}", expected, got);
}

struct selection_case {
  topology_input topology;
  sdam::operation_kind operation = sdam::operation_kind::read;
  sdam::read_preference read_pref;
  std::vector<host_address> deprioritized;
  sdam::selection_settings settings;
  bool expect_error = false;
};

selection_case parse_selection_case(bson::view file) {
  check_keys(file,
             {"description", "topology_description", "operation", "read_preference", "suitable_servers",
              "in_latency_window", "deprioritized_servers", "heartbeatFrequencyMS", "error"},
             "file");
  selection_case c;
  c.topology = parse_topology(file);
  if (file.contains("operation")) {
    const auto op = need_string(file, "operation", "file");
    if (op != "read" && op != "write") bad("file", fmt::format("operation must be read or write, not '{}'", op));
    c.operation = op == "read" ? sdam::operation_kind::read : sdam::operation_kind::write;
  }
  if (file.contains("read_preference"))
    c.read_pref = parse_read_preference(need_document(file, "read_preference", "file"));
  if (file.contains("deprioritized_servers"))
    c.deprioritized = parse_addresses(need_array(file, "deprioritized_servers", "file"));
  if (const auto e = file["heartbeatFrequencyMS"]) c.settings.heartbeat_frequency_ms = need_integer(e, "file");
  if (const auto e = file["error"]) {
    const auto flag = e.as_bool();
    if (!flag) bad("file", "'error' must be a boolean");
    c.expect_error = *flag;
  }
  if (!c.expect_error && !file.contains("in_latency_window")) bad("file", "needs in_latency_window or error: true");
  return c;
}

// server_selection/ (and max-staleness style files): suitable servers, then the latency window.
verdict run_selection(bson::view file) {
  const auto c = parse_selection_case(file);
  sdam::server_list servers;
  const auto error = sdam::find_suitable_servers(c.topology.type, c.topology.servers, c.operation, c.read_pref,
                                                 c.deprioritized, c.settings, servers);
  if (c.expect_error) {
    if (!error.empty()) return {};
    return "expected an error, got suitable_servers " + list(addresses_of(servers));
  }
  if (!error.empty()) return "unexpected error: " + error;
  if (file.contains("suitable_servers")) {
    auto mismatch = compare("suitable_servers", parse_addresses(need_array(file, "suitable_servers", "file")), servers);
    if (!mismatch.empty()) return mismatch;
  }
  sdam::keep_latency_window(servers, c.settings.local_threshold_ms);
  return compare("in_latency_window", parse_addresses(need_array(file, "in_latency_window", "file")), servers);
}

std::vector<std::uint64_t> operation_counts(bson::view state, const sdam::server_list& window) {
  std::vector<std::uint64_t> counts(window.size(), 0);  // a server the state omits has none in progress
  for (const auto e : state) {
    const auto doc = e.as_document();
    if (!doc) bad("mocked_topology_state", "every entry must be a document");
    check_keys(*doc, {"address", "operation_count"}, "mocked_topology_state");
    const auto address = parse_address(need_string(*doc, "address", "mocked_topology_state"), "mocked_topology_state");
    const auto count = need_integer((*doc)["operation_count"], "mocked_topology_state");
    if (count < 0) bad("mocked_topology_state", "operation_count must not be negative");
    for (std::size_t i = 0; i < window.size(); ++i)
      if (window[i]->address == address) counts[i] = static_cast<std::uint64_t>(count);
  }
  return counts;
}

// The observed frequency must be within tolerance; expected 0 or 1 must be exact (README).
verdict compare_frequencies(bson::view outcome_doc, const sdam::server_list& window,
                            const std::vector<std::int64_t>& tally, std::int64_t iterations) {
  check_keys(outcome_doc, {"tolerance", "expected_frequencies"}, "outcome");
  const double tolerance = need_number(outcome_doc, "tolerance", "outcome");
  const auto expected = need_document(outcome_doc, "expected_frequencies", "outcome");
  for (std::size_t i = 0; i < window.size(); ++i)
    if (tally[i] > 0 && !expected.contains(window[i]->address.to_string()))
      return fmt::format("{} was selected {} times but expected_frequencies does not list it",
                         window[i]->address.to_string(), tally[i]);
  for (const auto e : expected) {
    const auto address = parse_address(e.key(), "expected_frequencies");
    const auto want = e.as_number();
    if (!want) bad("expected_frequencies", "frequencies must be numbers");
    std::int64_t count = 0;
    for (std::size_t i = 0; i < window.size(); ++i)
      if (window[i]->address == address) count = tally[i];
    const double observed = static_cast<double>(count) / static_cast<double>(iterations);
    const bool exact = *want == 0 || *want == 1;
    if (exact ? observed == *want : std::fabs(observed - *want) <= tolerance + 1e-12) continue;
    return fmt::format("frequency of {}: expected {}{}, observed {} ({} of {} selections)", e.key(), *want,
                       exact ? " exactly" : fmt::format(" +/- {}", tolerance), observed, count, iterations);
  }
  return {};
}

// in_window/: `iterations` selections with mode nearest and fixed operation counts.
verdict run_in_window(bson::view file) {
  check_keys(file, {"description", "topology_description", "mocked_topology_state", "iterations", "outcome"}, "file");
  const auto topology = parse_topology(file);
  const auto iterations = need_integer(file["iterations"], "file");
  if (iterations <= 0) bad("file", "iterations must be positive");
  sdam::read_preference nearest;
  nearest.mode = read_preference_mode::nearest;
  const sdam::selection_settings settings;
  sdam::server_list window;
  const auto error = sdam::find_suitable_servers(topology.type, topology.servers, sdam::operation_kind::read, nearest,
                                                 {}, settings, window);
  if (!error.empty()) return "unexpected error: " + error;
  sdam::keep_latency_window(window, settings.local_threshold_ms);
  if (window.empty()) return "no server in the latency window";
  const auto counts = operation_counts(need_array(file, "mocked_topology_state", "file"), window);
  std::vector<std::int64_t> tally(window.size(), 0);
  std::mt19937_64 random(0x5e1ec7);  // fixed seed: a failure reproduces
  for (std::int64_t i = 0; i < iterations; ++i) ++tally[sdam::choose_less_busy(counts, random)];
  return compare_frequencies(need_document(file, "outcome", "file"), window, tally, iterations);
}

bson::document read_file(const std::filesystem::path& file) {
  std::string why;
  auto doc = read_json_file(file, why);
  if (!doc) throw file_error(why);
  return std::move(*doc);
}

verdict run_file(bson::view file) {
  if (file.contains("mocked_topology_state")) return run_in_window(file);
  if (file.contains("topology_description")) return run_selection(file);
  if (file.contains("new_rtt_ms")) return run_rtt(file);
  throw file_error("neither a selection, an in_window nor an rtt test");
}

}  // namespace

void run_server_selection_file(const std::filesystem::path& file, const std::string& display,
                               const report_sink& report) {
  test_report result{test_status::fail, display, file.stem().string(), {}};
  try {
    const auto doc = read_file(file);
    result.detail = run_file(doc.get_view());
    if (result.detail.empty()) result.status = test_status::pass;
  } catch (const file_error& e) {
    result.description = "(file)";
    result.detail = e.what();
  } catch (const std::exception& e) {
    result.description = "(file)";
    result.detail = std::string("runner crashed: ") + e.what();
  }
  try {
    report(result);
  } catch (...) {  // never throws, even when the sink does
  }
}

}  // namespace mongowire::spec
