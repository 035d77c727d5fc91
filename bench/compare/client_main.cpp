// mongowire-compare-client: one client of bench/compare (the raw loopback floor, libmongoc or
// mongowire) runs the compare workload once and prints one JSON line. compare.py runs it
// under valgrind and strace as well, which is why each client is its own process.
//   mongowire-compare-client --client floor|mongoc|mongowire --uri URI [--concurrency N]
//                            [--transactions N] [--warmup N]
#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string_view>

#include "run_phases.hpp"

namespace compare {

double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

void run_phases::warmed_up() {
  if (arrived_.fetch_add(1) + 1 != workers_) return;
  cpu_start_ = process_cpu_seconds();
  start_ = bench_clock::now();
  measuring_.store(true, std::memory_order_release);
}

void run_phases::finished() {
  if (done_.fetch_add(1) + 1 != workers_) return;
  end_ = bench_clock::now();
  cpu_end_ = process_cpu_seconds();
}

worker_loop::worker_loop(const run_options& o, int w, run_phases& phases)
    : o_(o), phases_(phases), share_(share_of(o, w)) {
  latencies_.reserve(share_);
}

bool worker_loop::next(bool& timed) {
  timed = false;
  if (warm_ < o_.warmup) {
    ++warm_;
    return true;
  }
  if (!arrived_) {
    arrived_ = true;
    phases_.warmed_up();
  }
  if (!phases_.measuring()) return true;
  if (measured_ == share_) return false;
  ++measured_;
  timed = true;
  return true;
}

void worker_loop::finish(run_record& record, const std::string& error) {
  if (!arrived_) phases_.warmed_up();  // a failed worker must not hold the others back
  phases_.finished();
  if (!error.empty()) record.fail(error);
  record.add(std::move(latencies_));
}

void run_record::add(std::vector<std::uint64_t>&& latencies_ns) {
  std::lock_guard lock(mutex_);
  latencies_ns_.insert(latencies_ns_.end(), latencies_ns.begin(), latencies_ns.end());
}

void run_record::fail(const std::string& what) {
  std::lock_guard lock(mutex_);
  if (error_.empty()) error_ = what;
}

bool run_record::failed() const {
  std::lock_guard lock(mutex_);
  return !error_.empty();
}

std::string run_record::json(const run_options& o, const run_phases& phases) {
  std::lock_guard lock(mutex_);
  std::sort(latencies_ns_.begin(), latencies_ns_.end());
  auto percentile_us = [&](double p) {
    if (latencies_ns_.empty()) return 0.0;
    const auto i = static_cast<std::size_t>(p * static_cast<double>(latencies_ns_.size() - 1));
    return static_cast<double>(latencies_ns_[i]) / 1e3;
  };
  const double n = static_cast<double>(std::max<std::size_t>(latencies_ns_.size(), 1));
  std::string error;
  for (char c : error_) error += c == '"' || c == '\\' ? ' ' : c;
  char line[512];
  std::snprintf(line, sizeof line,
                "{\"client\": \"%s\", \"concurrency\": %d, \"transactions\": %zu, \"wall_us_per_txn\": %.3f, "
                "\"p50_us\": %.2f, \"p99_us\": %.2f, \"cpu_us_per_txn\": %.3f, \"error\": \"%s\"}",
                o.client.c_str(), o.concurrency, latencies_ns_.size(), phases.window_seconds() * 1e6 / n,
                percentile_us(0.50), percentile_us(0.99), phases.window_cpu_seconds() * 1e6 / n, error.c_str());
  return line;
}

}  // namespace compare

namespace {

template <class T>
bool parse_number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// host and port of "mongodb://host:port/..." for the floor, which speaks no URI.
bool split_host_port(compare::run_options& o) {
  std::string_view rest(o.uri);
  if (!rest.starts_with("mongodb://")) return false;
  rest.remove_prefix(10);
  rest = rest.substr(0, rest.find_first_of("/?,"));
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) return !(o.host = std::string(rest)).empty();
  o.host = std::string(rest.substr(0, colon));
  return parse_number(rest.substr(colon + 1), o.port);
}

bool parse_args(int argc, char** argv, compare::run_options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view arg = argv[i], v = argv[i + 1];
    bool ok = true;
    if (arg == "--client") o.client = v;
    else if (arg == "--uri") o.uri = v;
    else if (arg == "--concurrency") ok = parse_number(v, o.concurrency) && o.concurrency > 0;
    else if (arg == "--transactions") ok = parse_number(v, o.transactions) && o.transactions > 0;
    else if (arg == "--warmup") ok = parse_number(v, o.warmup);
    else ok = false;
    if (!ok) return false;
  }
  const bool known = o.client == "floor" || o.client == "mongoc" || o.client == "mongowire";
  return argc % 2 == 1 && known && split_host_port(o);
}

}  // namespace

int main(int argc, char** argv) {
  compare::run_options o;
  if (!parse_args(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: mongowire-compare-client --client floor|mongoc|mongowire --uri mongodb://HOST:PORT/... "
                 "[--concurrency N] [--transactions N] [--warmup N]\n");
    return 2;
  }
  compare::run_phases phases(o.concurrency);
  compare::run_record record;
  if (o.client == "floor") compare::run_floor(o, phases, record);
  else if (o.client == "mongoc") compare::run_mongoc(o, phases, record);
  else compare::run_mongowire(o, phases, record);
  std::printf("%s\n", record.json(o, phases).c_str());
  return record.failed() ? 1 : 0;
}
