// Runner of the CMAP pool tests (connection-monitoring-and-pooling/tests/cmap-format/README.md)
// over the sans-I/O pool of src/proto/cmap. The runner stands in for the I/O layer and for
// the threads of the format, deterministically:
//  - every "thread" is a queue of operations; a checkOut that must wait is a pending wait
//    ticket of the pool, a thread blocked on it runs again when the pool resumes the ticket;
//  - time is virtual: `wait` and the blocking operations advance a clock from one timer to
//    the next (wait-queue deadlines, connection establishments, background runs);
//  - establishing a connection completes at once, unless the file's failPoint (failCommand
//    on hello) blocks or fails it, as a server would; a failed handshake goes through the
//    SDAM rule first (clear the pool), then to the pool;
//  - the pool's "Background Thread" runs every backgroundThreadIntervalMS (1 s when absent,
//    never when negative), and at once when the pool asks for it (ready, clear).
// Each file is one test, named by its "description".
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "mongowire/bson.hpp"
#include "proto/cmap/pool.hpp"
#include "report.hpp"
#include "spec_file.hpp"

namespace mongowire::spec {

namespace {

namespace cmap = detail::cmap;
using cmap::connection_id;
using cmap::ticket_id;
using cmap::time_point;
using std::chrono::milliseconds;

// The file is malformed or asks for something the format does not define: "(file)" failure.
struct file_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The test needs something this simulation does not provide.
struct test_skip : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::string_view pool_address = "localhost:27017";
constexpr milliseconds default_background_interval{1000};
constexpr milliseconds max_block{60000};  // a blocking operation without its own timeout
constexpr std::string_view simulated_server_version = "8.0.0";
constexpr std::string_view simulated_topology = "single";

// ---------------------------------------------------------------- reading the file

std::string describe(const bson::element& e);

void check_keys(bson::view doc, std::initializer_list<std::string_view> allowed, std::string_view where) {
  for (const auto e : doc)
    if (std::find(allowed.begin(), allowed.end(), e.key()) == allowed.end())
      throw file_error(fmt::format("{}: unknown field '{}'", where, e.key()));
}

std::string string_of(const bson::element& e, std::string_view where) {
  auto s = e.as_string();
  if (!s) throw file_error(fmt::format("{}: expected a string, got {}", where, describe(e)));
  return std::string(*s);
}

bson::view document_of(const bson::element& e, std::string_view where) {
  auto d = e.as_document();
  if (!d) throw file_error(fmt::format("{}: expected a document, got {}", where, describe(e)));
  return *d;
}

bson::view array_of(const bson::element& e, std::string_view where) {
  auto a = e.as_array();
  if (!a) throw file_error(fmt::format("{}: expected an array, got {}", where, describe(e)));
  return *a;
}

// An integral JSON number (int32, int64, or a double without fraction).
std::int64_t integer_of(const bson::element& e, std::string_view where) {
  if (auto i = e.as_int64()) return *i;
  if (auto d = e.as_double(); d && *d == static_cast<double>(static_cast<std::int64_t>(*d)) && *d < 9e18 && *d > -9e18)
    return static_cast<std::int64_t>(*d);
  throw file_error(fmt::format("{}: expected an integer, got {}", where, describe(e)));
}

std::int64_t non_negative(const bson::element& e, std::string_view where) {
  const auto v = integer_of(e, where);
  if (v < 0) throw file_error(fmt::format("{}: must be >= 0, got {}", where, v));
  return v;
}

bool bool_of(const bson::element& e, std::string_view where) {
  auto b = e.as_bool();
  if (!b) throw file_error(fmt::format("{}: expected a boolean, got {}", where, describe(e)));
  return *b;
}

std::string describe(const bson::element& e) {
  if (!e) return "(absent)";
  bson::document d;
  d.append("v", e);
  auto json = d.get_view().to_relaxed_json();  // { "v" : X }
  auto colon = json.find(':');
  auto end = json.rfind('}');
  if (colon == std::string::npos || end == std::string::npos || end <= colon) return json;
  auto inner = json.substr(colon + 1, end - colon - 1);
  while (!inner.empty() && inner.front() == ' ') inner.erase(inner.begin());
  while (!inner.empty() && inner.back() == ' ') inner.pop_back();
  return inner;
}

// Event names of the format ("ConnectionPoolCreated", ...) for the pool's event types.
constexpr std::pair<pool_event_type, std::string_view> event_names[] = {
    {pool_event_type::pool_created, "ConnectionPoolCreated"},
    {pool_event_type::pool_ready, "ConnectionPoolReady"},
    {pool_event_type::pool_cleared, "ConnectionPoolCleared"},
    {pool_event_type::pool_closed, "ConnectionPoolClosed"},
    {pool_event_type::connection_created, "ConnectionCreated"},
    {pool_event_type::connection_ready, "ConnectionReady"},
    {pool_event_type::connection_closed, "ConnectionClosed"},
    {pool_event_type::connection_check_out_started, "ConnectionCheckOutStarted"},
    {pool_event_type::connection_check_out_failed, "ConnectionCheckOutFailed"},
    {pool_event_type::connection_checked_out, "ConnectionCheckedOut"},
    {pool_event_type::connection_checked_in, "ConnectionCheckedIn"},
};

std::string_view event_name(pool_event_type t) {
  for (const auto& [type, name] : event_names)
    if (type == t) return name;
  return "unknown";
}

std::string known_event_name(const bson::element& e, std::string_view where) {
  auto name = string_of(e, where);
  for (const auto& entry : event_names)
    if (entry.second == name) return name;
  throw file_error(fmt::format("{}: unknown event type '{}'", where, name));
}

// ---------------------------------------------------------------- the file's model

struct fail_point {
  enum class mode { always_on, off, times, skip } how = mode::off;
  std::int64_t count = 0;  // times: hellos left to fail; skip: hellos left to let through
  std::vector<std::string> commands;
  bool close_connection = false;
  bool block_connection = false;
  milliseconds block_time{0};
  std::optional<std::int32_t> error_code;
  std::optional<std::string> app_name;
};

struct test_file {
  bson::document doc;
  std::string description;
  cmap::pool_options options;
  milliseconds background_interval = default_background_interval;  // negative: never
  std::optional<std::string> app_name;
  std::optional<fail_point> failpoint;
  bson::view operations, events, ignore;
  std::optional<bson::view> error;
};

void read_pool_options(bson::view opts, test_file& f) {
  for (const auto e : opts) {
    const auto key = e.key();
    const auto where = fmt::format("poolOptions.{}", key);
    if (key == "maxPoolSize") f.options.max_pool_size = static_cast<std::size_t>(non_negative(e, where));
    else if (key == "minPoolSize") f.options.min_pool_size = static_cast<std::size_t>(non_negative(e, where));
    else if (key == "maxConnecting") f.options.max_connecting = static_cast<std::size_t>(non_negative(e, where));
    else if (key == "maxIdleTimeMS") f.options.max_idle_time = milliseconds(non_negative(e, where));
    else if (key == "waitQueueTimeoutMS") f.options.wait_queue_timeout = milliseconds(non_negative(e, where));
    else if (key == "appName") f.app_name = string_of(e, where);
    else if (key == "backgroundThreadIntervalMS") {
      f.background_interval = milliseconds(integer_of(e, where));
      if (f.background_interval.count() == 0) throw file_error(where + ": 0 is not allowed (README)");
    } else if (key == "waitQueueSize" || key == "waitQueueMultiple") {
      throw test_skip(fmt::format("{} is deprecated and MUST NOT be implemented (CMAP \"Deprecated Options\")", where));
    } else {
      throw file_error(where + ": not a ConnectionPoolOptions field");
    }
  }
  if (auto why = cmap::validate(f.options); !why.empty()) throw file_error("poolOptions: " + why);
}

void read_fail_point_mode(const bson::element& mode, fail_point& fp) {
  if (auto s = mode.as_string()) {
    if (*s == "alwaysOn") fp.how = fail_point::mode::always_on;
    else if (*s == "off") fp.how = fail_point::mode::off;
    else throw test_skip(fmt::format("failPoint mode '{}' is not simulated", *s));
    return;
  }
  auto doc = document_of(mode, "failPoint.mode");
  check_keys(doc, {"times", "skip"}, "failPoint.mode");
  if (doc.count() != 1) throw file_error("failPoint.mode: expected exactly one of times, skip");
  if (doc.contains("times"))
    fp.how = fail_point::mode::times, fp.count = non_negative(doc["times"], "failPoint.mode.times");
  else fp.how = fail_point::mode::skip, fp.count = non_negative(doc["skip"], "failPoint.mode.skip");
}

void read_fail_point_data(bson::view data, fail_point& fp) {
  for (const auto e : data) {
    const auto key = e.key();
    const auto where = fmt::format("failPoint.data.{}", key);
    if (key == "failCommands") {
      for (const auto c : array_of(e, where)) fp.commands.push_back(string_of(c, where));
    } else if (key == "closeConnection") fp.close_connection = bool_of(e, where);
    else if (key == "blockConnection") fp.block_connection = bool_of(e, where);
    else if (key == "blockTimeMS") fp.block_time = milliseconds(non_negative(e, where));
    else if (key == "errorCode") fp.error_code = static_cast<std::int32_t>(integer_of(e, where));
    else if (key == "appName") fp.app_name = string_of(e, where);
    else throw test_skip(fmt::format("{} is not simulated (only hello failures and delays are)", where));
  }
}

fail_point read_fail_point(bson::view doc) {
  check_keys(doc, {"configureFailPoint", "mode", "data"}, "failPoint");
  const auto name = string_of(doc["configureFailPoint"], "failPoint.configureFailPoint");
  if (name != "failCommand") throw test_skip(fmt::format("fail point '{}' is not simulated (only failCommand)", name));
  fail_point fp;
  read_fail_point_mode(doc["mode"], fp);
  if (doc.contains("data")) read_fail_point_data(document_of(doc["data"], "failPoint.data"), fp);
  return fp;
}

std::array<int, 3> parse_version(std::string_view text, std::string_view where) {
  std::array<int, 3> v{0, 0, 0};
  std::size_t part = 0;
  std::string digits;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '.') {
      if (digits.empty() || part >= 3 || digits.size() > 6)
        throw file_error(fmt::format("{}: bad version '{}'", where, text));
      v[part++] = std::stoi(digits);
      digits.clear();
    } else if (std::isdigit(static_cast<unsigned char>(text[i]))) {
      digits += text[i];
    } else {
      throw file_error(fmt::format("{}: bad version '{}'", where, text));
    }
  }
  return v;
}

// "runOn": the simulated endpoint is a standalone of the newest version.
void check_run_on(bson::view run_on) {
  const auto server = parse_version(simulated_server_version, "simulated version");
  std::vector<std::string> reasons;
  for (const auto r : run_on) {
    auto req = document_of(r, "runOn[]");
    check_keys(req, {"minServerVersion", "maxServerVersion", "topology"}, "runOn[]");
    std::string why;
    if (req.contains("minServerVersion") &&
        server < parse_version(string_of(req["minServerVersion"], "runOn"), "runOn"))
      why = "minServerVersion " + string_of(req["minServerVersion"], "runOn");
    if (req.contains("maxServerVersion") &&
        parse_version(string_of(req["maxServerVersion"], "runOn"), "runOn") < server)
      why = "maxServerVersion " + string_of(req["maxServerVersion"], "runOn");
    if (req.contains("topology")) {
      bool found = false;
      for (const auto t : array_of(req["topology"], "runOn[].topology"))
        found |= string_of(t, "runOn") == simulated_topology;
      if (!found) why = "topology (the simulated endpoint is a standalone)";
    }
    if (why.empty()) return;
    reasons.push_back(why);
  }
  if (!reasons.empty())
    throw test_skip(fmt::format("runOn: no requirement met by the simulated {} server ({})", simulated_server_version,
                                fmt::join(reasons, "; ")));
}

test_file read_file(const std::filesystem::path& path) {
  std::string why;
  auto doc = read_json_file(path, why);
  if (!doc) throw file_error(why);
  test_file f;
  f.doc = std::move(*doc);
  return f;
}

void read_model(test_file& f) {
  const bson::view d = f.doc;
  check_keys(d,
             {"version", "style", "description", "poolOptions", "operations", "error", "events", "ignore", "runOn",
              "failPoint"},
             "file");
  if (integer_of(d["version"], "version") != 1) throw file_error("version: only version 1 of the format is known");
  const auto style = string_of(d["style"], "style");
  if (style != "unit" && style != "integration") throw file_error("style: expected 'unit' or 'integration'");
  f.operations = array_of(d["operations"], "operations");
  f.events = d.contains("events") ? array_of(d["events"], "events") : bson::view();
  f.ignore = d.contains("ignore") ? array_of(d["ignore"], "ignore") : bson::view();
  for (const auto e : f.ignore) known_event_name(e, "ignore[]");
  if (d.contains("error")) f.error = document_of(d["error"], "error");
  if (d.contains("poolOptions")) read_pool_options(document_of(d["poolOptions"], "poolOptions"), f);
  if (d.contains("runOn")) check_run_on(array_of(d["runOn"], "runOn"));
  if (d.contains("failPoint")) f.failpoint = read_fail_point(document_of(d["failPoint"], "failPoint"));
}

// ---------------------------------------------------------------- MATCH (README "Spec Test Match Function")

bool is_placeholder(const bson::element& e) {
  if (auto n = e.as_number()) return *n == 42;
  if (auto s = e.as_string()) return *s == "42";
  return false;
}

std::optional<std::string> match(const bson::element& expected, const bson::element& actual, const std::string& path);

std::optional<std::string> match_document(bson::view expected, const bson::element& actual, const std::string& path,
                                          bool array) {
  auto doc = array ? actual.as_array() : actual.as_document();
  if (!doc) return fmt::format("{}: expected {}, got {}", path, array ? "an array" : "a document", describe(actual));
  for (const auto e : expected) {
    auto sub = array ? fmt::format("{}[{}]", path, e.key()) : (path.empty() ? "" : path + ".") + std::string(e.key());
    if (auto why = match(e, doc->find(e.key()), sub)) return why;
  }
  return std::nullopt;
}

std::optional<std::string> match(const bson::element& expected, const bson::element& actual, const std::string& path) {
  if (is_placeholder(expected)) {
    if (!actual || actual.is_null()) return fmt::format("{}: expected a value, got none", path);
    return std::nullopt;
  }
  if (!actual) return fmt::format("{}: expected {}, got none", path, describe(expected));
  if (auto doc = expected.as_document()) return match_document(*doc, actual, path, false);
  if (auto arr = expected.as_array()) return match_document(*arr, actual, path, true);
  bool same = false;
  if (expected.is_number()) same = actual.is_number() && *actual.as_number() == *expected.as_number();
  else if (expected.is_string()) same = actual.as_string() == expected.as_string();
  else if (expected.is_bool()) same = actual.as_bool() == expected.as_bool();
  else if (expected.is_null()) same = actual.is_null();
  else return fmt::format("{}: the runner cannot compare {}", path, describe(expected));
  if (same) return std::nullopt;
  return fmt::format("{}: expected {}, got {}", path, describe(expected), describe(actual));
}

// ---------------------------------------------------------------- the simulation

struct sim_error {
  std::string type;
  std::string message;
};

struct sim_thread {
  enum class block { none, ticket, establishing, sleep, event, thread };
  std::string name;
  std::deque<bson::view> ops;
  block blocked = block::none;
  time_point until{};                // sleep, event (deadline)
  std::string event_or_thread;       // event name / thread name
  std::int64_t count = 0;            // event
  std::optional<std::string> label;  // of the checkOut in progress
  std::optional<sim_error> error;
  bool idle() const { return ops.empty() && blocked == block::none; }
};

struct establishing {
  std::size_t owner = 0;  // thread index, or npos for a population connection
  bool fails = false;
  bool network_error = false;
  std::uint64_t timer = 0;  // the timer that completes it (0: none)
  std::optional<std::int32_t> code;
};

struct timer_entry {
  enum class kind { wake, ticket_deadline, establish_done, background, background_now } what = kind::wake;
  std::uint64_t id = 0;  // ticket or connection
};

constexpr std::size_t no_thread = static_cast<std::size_t>(-1);

class simulation {
 public:
  explicit simulation(test_file& f);
  std::optional<sim_error> run();
  std::vector<bson::document> actual_events() const;

 private:
  // Clock and timers.
  std::uint64_t add_timer(time_point at, timer_entry t);
  bool advance_clock();
  bool process_due_timers();
  void on_timer(const timer_entry& t, std::uint64_t seq);
  // Threads.
  void settle();
  bool step(std::size_t index);
  bool resolve(std::size_t index);
  void execute(std::size_t index, bson::view op);
  void execute_pool_op(sim_thread& t, std::size_t index, const std::string& name, bson::view op);
  void check_out(std::size_t index, bson::view op);
  void check_in(sim_thread& t, bson::view op);
  void block_on_event(sim_thread& t, bson::view op);
  sim_thread& thread_named(const std::string& name, std::string_view where);
  void fail_thread(sim_thread& t, sim_error e);
  // The pool's side.
  void deliver(std::size_t index, const cmap::checkout_result& r, const sim_error* cause = nullptr);
  void drain();
  void handle(const cmap::action& a);
  void start_establishment(connection_id id, std::size_t owner);
  void complete_establishment(connection_id id);
  void record(const cmap::event& e);
  sim_error error_of(cmap::pool_error e) const;

  test_file& file_;
  cmap::pool pool_;
  time_point now_;
  std::vector<sim_thread> threads_;  // [0]: the main thread
  std::map<std::string, connection_id> labels_;
  std::map<ticket_id, std::size_t> waiting_;  // ticket -> thread
  std::map<connection_id, establishing> establishing_;
  std::multimap<std::pair<time_point, std::uint64_t>, timer_entry> timers_;
  std::uint64_t next_timer_ = 1;
  bool background_now_scheduled_ = false;
  bool draining_ = false;
  time_point main_blocked_since_{};
  std::vector<std::pair<std::string, bson::document>> events_;
};

simulation::simulation(test_file& f) : file_(f), pool_(f.options), now_(time_point{} + std::chrono::hours(1)) {
  threads_.push_back({});
  threads_[0].name = "main";
  for (const auto op : f.operations) threads_[0].ops.push_back(document_of(op, "operations[]"));
  drain();  // PoolCreated
  if (f.background_interval.count() > 0) add_timer(now_ + f.background_interval, {timer_entry::kind::background, 0});
}

std::uint64_t simulation::add_timer(time_point at, timer_entry t) {
  const auto seq = next_timer_++;
  timers_.emplace(std::make_pair(at, seq), t);
  return seq;
}

// Moves the clock to the next timer; false when there is none.
bool simulation::advance_clock() {
  if (timers_.empty()) return false;
  now_ = std::max(now_, timers_.begin()->first.first);
  return true;
}

bool simulation::process_due_timers() {
  bool any = false;
  while (!timers_.empty() && timers_.begin()->first.first <= now_) {
    auto node = timers_.extract(timers_.begin());
    on_timer(node.mapped(), node.key().second);
    any = true;
  }
  return any;
}

void simulation::on_timer(const timer_entry& t, std::uint64_t seq) {
  switch (t.what) {
    case timer_entry::kind::wake: return;
    case timer_entry::kind::ticket_deadline: {
      auto it = waiting_.find(t.id);
      if (it == waiting_.end()) return;  // resumed before its deadline
      const auto index = it->second;
      const auto r = pool_.on_wait_timeout(t.id, now_);
      if (r.status == cmap::checkout_status::failed) waiting_.erase(t.id);
      drain();
      deliver(index, r);
      return;
    }
    case timer_entry::kind::establish_done: {
      auto it = establishing_.find(t.id);
      if (it != establishing_.end() && it->second.timer == seq) complete_establishment(t.id);
      return;
    }
    case timer_entry::kind::background:
      pool_.run_background(now_);
      drain();
      add_timer(now_ + file_.background_interval, {timer_entry::kind::background, 0});
      return;
    case timer_entry::kind::background_now:
      background_now_scheduled_ = false;
      if (pool_.background_run_wanted()) pool_.run_background(now_), drain();
      return;
  }
}

// Runs the other threads and the due timers until nothing moves at the current instant.
void simulation::settle() {
  for (bool progress = true; progress;) {
    progress = process_due_timers();
    for (std::size_t i = 1; i < threads_.size(); ++i)
      while (step(i)) progress = true;
  }
}

bool simulation::step(std::size_t index) {
  if (threads_[index].blocked != sim_thread::block::none) return resolve(index);
  if (threads_[index].error) threads_[index].ops.clear();  // a failed thread runs nothing more
  if (threads_[index].ops.empty()) return false;
  const bson::view op = threads_[index].ops.front();
  threads_[index].ops.pop_front();
  execute(index, op);
  return true;
}

// Unblocks a thread whose condition holds; true when it changed.
bool simulation::resolve(std::size_t index) {
  sim_thread& t = threads_[index];
  using b = sim_thread::block;
  if (t.blocked == b::sleep && t.until <= now_) {
    t.blocked = b::none;
    return true;
  }
  if (t.blocked == b::event) {
    const auto seen =
        std::count_if(events_.begin(), events_.end(), [&](const auto& e) { return e.first == t.event_or_thread; });
    if (seen >= t.count) t.blocked = b::none;
    else if (t.until <= now_)
      fail_thread(t,
                  {"Timeout", fmt::format("waitForEvent: saw {} of {} {} events", seen, t.count, t.event_or_thread)});
    return t.blocked == b::none;
  }
  if (t.blocked == b::thread) {
    sim_thread& target = thread_named(t.event_or_thread, "waitForThread");
    if (!target.idle()) return false;
    t.blocked = b::none;
    // "waitForThread: ... Propagate any errors to the main thread."
    if (target.error) fail_thread(t, *target.error);
    return true;
  }
  return false;  // tickets and establishments are resumed by the pool's answers
}

std::optional<sim_error> simulation::run() {
  using b = sim_thread::block;
  for (;;) {
    settle();
    if (threads_[0].error) return threads_[0].error;
    if (threads_[0].blocked == b::none) {
      if (threads_[0].ops.empty()) return std::nullopt;
      const bson::view op = threads_[0].ops.front();
      threads_[0].ops.pop_front();
      main_blocked_since_ = now_;
      execute(0, op);
      continue;
    }
    if (resolve(0)) continue;
    // Sleeps and waitForEvent end at their own deadline; other blocks are capped.
    const bool own_deadline = threads_[0].blocked == b::sleep || threads_[0].blocked == b::event;
    if ((!own_deadline && now_ - main_blocked_since_ > max_block) || !advance_clock())
      return sim_error{"Deadlock",
                       fmt::format("the main thread stays blocked (virtual time +{} ms)",
                                   std::chrono::duration_cast<milliseconds>(now_ - main_blocked_since_).count())};
  }
}

sim_thread& simulation::thread_named(const std::string& name, std::string_view where) {
  for (auto& t : threads_)
    if (t.name == name && &t != &threads_[0]) return t;
  throw file_error(fmt::format("{}: no thread named '{}' was started", where, name));
}

void simulation::fail_thread(sim_thread& t, sim_error e) {
  t.blocked = sim_thread::block::none;
  t.error = std::move(e);
  t.ops.clear();  // a thread stops at its first error
}

void simulation::execute(std::size_t index, bson::view op) {
  const auto name = string_of(op["name"], "operation.name");
  if (op.contains("thread") && index == 0) {
    // "If a thread is specified, the main thread MUST schedule the operation" there.
    thread_named(string_of(op["thread"], name + ".thread"), name).ops.push_back(op);
    return;
  }
  sim_thread& t = threads_[index];
  const auto where = "operation " + name;
  if (name == "start") {
    check_keys(op, {"name", "target", "thread"}, where);
    const auto target = string_of(op["target"], where + ".target");
    if (target == "main" || std::any_of(threads_.begin(), threads_.end(), [&](auto& x) { return x.name == target; }))
      throw file_error(fmt::format("{}: thread '{}' already exists", where, target));
    threads_.push_back({});
    threads_.back().name = target;
  } else if (name == "wait") {
    check_keys(op, {"name", "ms", "thread"}, where);
    t.blocked = sim_thread::block::sleep;
    t.until = now_ + milliseconds(non_negative(op["ms"], where + ".ms"));
    add_timer(t.until, {});
  } else if (name == "waitForThread") {
    check_keys(op, {"name", "target", "thread"}, where);
    t.event_or_thread = string_of(op["target"], where + ".target");
    thread_named(t.event_or_thread, where);
    t.blocked = sim_thread::block::thread;
  } else if (name == "waitForEvent") {
    block_on_event(t, op);
  } else {
    execute_pool_op(t, index, name, op);
  }
}

void simulation::block_on_event(sim_thread& t, bson::view op) {
  check_keys(op, {"name", "event", "count", "timeout", "thread"}, "operation waitForEvent");
  t.event_or_thread = known_event_name(op["event"], "waitForEvent.event");
  t.count = non_negative(op["count"], "waitForEvent.count");
  const auto timeout =
      op.contains("timeout") ? milliseconds(non_negative(op["timeout"], "waitForEvent.timeout")) : max_block;
  t.until = now_ + timeout;
  t.blocked = sim_thread::block::event;
  add_timer(t.until, {});
}

void simulation::execute_pool_op(sim_thread& t, std::size_t index, const std::string& name, bson::view op) {
  const auto where = "operation " + name;
  if (name == "checkOut") {
    check_keys(op, {"name", "label", "thread"}, where);
    check_out(index, op);
  } else if (name == "checkIn") {
    check_keys(op, {"name", "connection", "thread"}, where);
    check_in(t, op);
  } else if (name == "clear") {
    check_keys(op, {"name", "interruptInUseConnections", "thread"}, where);
    const bool interrupt = op.contains("interruptInUseConnections") &&
                           bool_of(op["interruptInUseConnections"], where + ".interruptInUseConnections");
    pool_.clear(now_, interrupt);
  } else if (name == "close") {
    check_keys(op, {"name", "thread"}, where);
    pool_.close(now_);
  } else if (name == "ready") {
    check_keys(op, {"name", "thread"}, where);
    pool_.ready();  // a closed pool stays closed ("cannot be marked as ready")
  } else {
    throw file_error(fmt::format("operations: unknown operation '{}'", name));
  }
  drain();
}

void simulation::check_out(std::size_t index, bson::view op) {
  sim_thread& t = threads_[index];
  t.label.reset();
  if (op.contains("label")) t.label = string_of(op["label"], "checkOut.label");
  const auto r = pool_.request_checkout(now_);
  drain();
  deliver(index, r);
}

void simulation::check_in(sim_thread& t, bson::view op) {
  const auto label = string_of(op["connection"], "checkIn.connection");
  auto it = labels_.find(label);
  if (it == labels_.end()) return fail_thread(t, {"RunnerError", "checkIn: no connection is labelled '" + label + "'"});
  const auto id = it->second;
  labels_.erase(it);
  if (auto e = pool_.checkin(id, now_); e != cmap::pool_error::none) fail_thread(t, error_of(e));
}

// The outcome of a checkout for the thread that asked for it.
void simulation::deliver(std::size_t index, const cmap::checkout_result& r, const sim_error* cause) {
  using s = cmap::checkout_status;
  sim_thread& t = threads_[index];
  switch (r.status) {
    case s::none: return;
    case s::rejected: throw std::logic_error(fmt::format("the pool rejected a call: {}", cmap::message(r.error)));
    case s::use:
      t.blocked = sim_thread::block::none;
      if (t.label) labels_[*t.label] = r.connection;
      return;
    case s::failed: return fail_thread(t, cause ? *cause : error_of(r.error));
    case s::wait:
      t.blocked = sim_thread::block::ticket;
      waiting_[r.ticket] = index;
      if (r.deadline != time_point::max()) add_timer(r.deadline, {timer_entry::kind::ticket_deadline, r.ticket});
      return;
    case s::establish: t.blocked = sim_thread::block::establishing; return start_establishment(r.connection, index);
  }
}

// Runs what the pool asked for; re-entrant calls leave the work to the outer loop.
void simulation::drain() {
  if (draining_) return;
  draining_ = true;
  for (;;) {
    while (auto e = pool_.next_event()) record(*e);
    auto a = pool_.next_action();
    if (!a) break;
    handle(*a);
  }
  draining_ = false;
  if (pool_.background_run_wanted() && file_.background_interval.count() > 0 && !background_now_scheduled_) {
    background_now_scheduled_ = true;
    add_timer(now_, {timer_entry::kind::background_now, 0});
  }
}

void simulation::handle(const cmap::action& a) {
  switch (a.kind) {
    case cmap::action_kind::resume: {
      auto it = waiting_.find(a.outcome.ticket);
      if (it == waiting_.end()) throw std::logic_error("the pool resumed a ticket nobody waits for");
      const auto index = it->second;
      waiting_.erase(it);
      return deliver(index, a.outcome);
    }
    case cmap::action_kind::establish: return start_establishment(a.connection, no_thread);
    case cmap::action_kind::close: return;  // no socket to close
    case cmap::action_kind::interrupt: {
      auto it = establishing_.find(a.connection);
      if (it == establishing_.end()) return;  // in use: its socket is simply gone
      const auto owner = it->second.owner;
      establishing_.erase(it);  // the cancelled handshake ends now
      const auto r = pool_.connection_failed(a.connection, now_);
      if (owner != no_thread) deliver(owner, r);
      return;
    }
  }
}

// The simulated server's side of the handshake: failCommand on hello may block and/or fail it.
void simulation::start_establishment(connection_id id, std::size_t owner) {
  establishing e;
  e.owner = owner;
  milliseconds delay{0};
  if (auto& fp = file_.failpoint; fp && fp->how != fail_point::mode::off) {
    const bool hello = std::any_of(fp->commands.begin(), fp->commands.end(), [](const std::string& c) {
      return c == "hello" || c == "isMaster" || c == "ismaster";
    });
    const bool app = !fp->app_name || fp->app_name == file_.app_name;
    bool active = hello && app;
    if (active && fp->how == fail_point::mode::skip) active = fp->count-- <= 0;
    if (active && fp->how == fail_point::mode::times) active = fp->count-- > 0;
    if (active) {
      if (fp->block_connection) delay = fp->block_time;
      e.fails = fp->close_connection || fp->error_code.has_value();
      e.network_error = fp->close_connection;
      e.code = fp->error_code;
    }
  }
  establishing_[id] = e;
  if (delay.count() == 0) return complete_establishment(id);
  establishing_[id].timer = add_timer(now_ + delay, {timer_entry::kind::establish_done, id});
}

void simulation::complete_establishment(connection_id id) {
  auto node = establishing_.extract(id);
  const establishing& e = node.mapped();
  cmap::checkout_result r;
  sim_error cause;
  if (e.fails) {
    cause = e.network_error ? sim_error{"NetworkError", "connection closed by the server during hello (failCommand)"}
                            : sim_error{"ServerError", fmt::format("hello failed with code {} (failCommand)", *e.code)};
    // server-discovery-and-monitoring.md, "Error handling": an error during the handshake
    // marks the server Unknown and clears its pool, except network errors, which the pool
    // labels SystemOverloadedError (CMAP "Backpressure-enabled") and SDAM then leaves alone.
    if (!e.network_error) pool_.clear(now_), drain();
    r = pool_.connection_failed(id, now_);
  } else {
    r = pool_.connection_established(id, now_);
  }
  drain();
  if (e.owner != no_thread)
    deliver(e.owner, r, e.fails && r.error == cmap::pool_error::connection_error ? &cause : nullptr);
}

sim_error simulation::error_of(cmap::pool_error e) const {
  using pe = cmap::pool_error;
  std::string type = "PoolError";
  if (e == pe::pool_closed) type = "PoolClosedError";
  if (e == pe::pool_cleared || e == pe::connection_interrupted) type = "PoolClearedError";
  if (e == pe::wait_queue_timeout) type = "WaitQueueTimeoutError";
  return {type, std::string(cmap::message(e))};
}

void simulation::record(const cmap::event& e) {
  using t = pool_event_type;
  const auto name = event_name(e.type);
  bson::document d;
  d.append("type", name).append("address", pool_address);
  const bool about_connection = e.type == t::connection_created || e.type == t::connection_ready ||
                                e.type == t::connection_closed || e.type == t::connection_checked_out ||
                                e.type == t::connection_checked_in;
  if (about_connection) d.append("connectionId", static_cast<std::int64_t>(e.connection));
  if (!e.reason.empty()) d.append("reason", e.reason);
  if (e.type == t::connection_ready || e.type == t::connection_checked_out || e.type == t::connection_check_out_failed)
    d.append("duration", std::chrono::duration<double, std::milli>(e.duration).count());
  if (e.type == t::pool_cleared) d.append("interruptInUseConnections", e.interrupt_in_use_connections);
  if (e.type == t::pool_created) {
    const auto& o = pool_.options();
    d.append_document("options", [&](bson::document& opts) {
      opts.append("maxPoolSize", static_cast<std::int64_t>(o.max_pool_size))
          .append("minPoolSize", static_cast<std::int64_t>(o.min_pool_size))
          .append("maxConnecting", static_cast<std::int64_t>(o.max_connecting))
          .append("maxIdleTimeMS", static_cast<std::int64_t>(o.max_idle_time.count()))
          .append("waitQueueTimeoutMS", static_cast<std::int64_t>(o.wait_queue_timeout.count()));
    });
  }
  events_.emplace_back(std::string(name), std::move(d));
}

// "calculate actualEvents as every Connection Event emitted whose type is not in ignore".
std::vector<bson::document> simulation::actual_events() const {
  std::set<std::string, std::less<>> ignored;
  for (const auto e : file_.ignore) ignored.insert(std::string(*e.as_string()));
  std::vector<bson::document> out;
  for (const auto& [name, doc] : events_)
    if (!ignored.contains(name)) out.push_back(doc);
  return out;
}

// ---------------------------------------------------------------- verdict

std::string summary(const std::vector<bson::document>& events) {
  std::vector<std::string> parts;
  for (const auto& e : events) {
    auto part = std::string(*e.find("type").as_string());
    if (auto id = e.find("connectionId").as_int64()) part += fmt::format("({})", *id);
    if (auto reason = e.find("reason").as_string()) part += fmt::format("[{}]", *reason);
    parts.push_back(part);
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "If error is presented: Assert that an actual error actualError was thrown by the main
// thread; Assert that actualError MATCHES error". Messages are compared without regard to
// case: the spec's own texts ("Connection Pool Errors") and the test files capitalize differently.
std::optional<std::string> check_error(const test_file& f, const std::optional<sim_error>& actual) {
  if (!f.error) {
    if (actual) return fmt::format("unexpected error in the main thread: {}: {}", actual->type, actual->message);
    return std::nullopt;
  }
  check_keys(*f.error, {"type", "message", "address"}, "error");
  if (!actual) return std::string("expected an error in the main thread, got none");
  bson::document doc;
  doc.append("type", actual->type).append("message", lowercase(actual->message)).append("address", pool_address);
  bson::document expected;
  for (const auto e : *f.error) {
    if (e.key() == "message" && e.is_string()) expected.append("message", lowercase(*e.as_string()));
    else expected.append(e.key(), e);
  }
  bson::document holder;
  holder.append("v", doc);
  bson::document expected_holder;
  expected_holder.append("v", expected);
  if (auto why = match(expected_holder.find("v"), holder.find("v"), "error"))
    return *why + fmt::format(" (actual error: {}: {})", actual->type, actual->message);
  return std::nullopt;
}

std::optional<std::string> check_events(const test_file& f, const std::vector<bson::document>& actual) {
  std::size_t index = 0;
  for (const auto expected : f.events) {
    const auto where = fmt::format("events[{}]", index);
    const auto doc = document_of(expected, where);
    check_keys(doc, {"type", "address", "connectionId", "duration", "options", "reason", "interruptInUseConnections"},
               where);
    known_event_name(doc["type"], where + ".type");
    if (index >= actual.size())
      return fmt::format("{}: expected {}, but only {} events were emitted: {}", where,
                         expected.as_document()->to_relaxed_json(), actual.size(), summary(actual));
    bson::document holder;
    holder.append("v", actual[index].get_view());
    if (auto why = match(expected, holder.find("v"), where)) return *why + "; actual events: " + summary(actual);
    ++index;
  }
  return std::nullopt;
}

test_report run_one(const std::filesystem::path& file, const std::string& display) {
  test_file f = read_file(file);
  const auto description =
      f.doc.get_view().contains("description") ? string_of(f.doc["description"], "description") : std::string("(file)");
  try {
    read_model(f);
    simulation sim(f);
    const auto error = sim.run();
    if (auto why = check_error(f, error)) return {test_status::fail, display, description, *why};
    if (auto why = check_events(f, sim.actual_events())) return {test_status::fail, display, description, *why};
    return {test_status::pass, display, description, {}};
  } catch (const test_skip& e) {
    return {test_status::skip, display, description, e.what()};
  } catch (const file_error& e) {
    return {test_status::fail, display, "(file)", e.what()};
  }
}

}  // namespace

void run_cmap_file(const std::filesystem::path& file, const std::string& display, const report_sink& report) {
  try {
    report(run_one(file, display));
  } catch (const file_error& e) {
    report({test_status::fail, display, "(file)", e.what()});
  } catch (const std::exception& e) {
    report({test_status::fail, display, "(file)", std::string("runner error: ") + e.what()});
  }
}

}  // namespace mongowire::spec
