#include "timeline.hpp"

#include <chrono>

namespace txnbench {

namespace {
const char* phase_name(run_control::phase_t p) {
  return p == run_control::warmup ? "warm-up" : p == run_control::measure ? "measure" : "stop";
}
double us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }
double rate(std::uint64_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0; }
}  // namespace

timeline_recorder::timeline_recorder(const run_control& control, bench_clock::time_point start)
    : control_(control), start_(start), last_(start) {}

bool timeline_recorder::tick(bench_clock::time_point now, bool force) {
  using std::chrono::duration;
  if (!force && now - last_ < std::chrono::seconds(1)) return false;
  const log_linear_histogram live = control_.latency_ns.snapshot();
  const auto phase = control_.phase();
  if (phase != run_control::warmup && !window_seen_) {
    window_seen_ = true;
    window_latency_ = last_latency_;  // the window began during this second: count it in
  }
  so_far_ = window_seen_ ? difference(live, window_latency_) : live;
  const log_linear_histogram second = difference(live, last_latency_);
  timeline_sample s;
  s.end_s = duration<double>(now - start_).count();
  s.interval_s = duration<double>(now - last_).count();
  s.phase = phase;
  const std::uint64_t commits = control_.commits.load(), ops = control_.ops.load();
  const std::uint64_t aborts = control_.aborts.load(), retries = control_.retries.load();
  s.commits = commits - commits_, s.ops = ops - ops_, s.aborts = aborts - aborts_, s.retries = retries - retries_;
  s.latency_count = second.count();
  s.p50_us = us(second.value_at_percentile(50));
  s.p99_us = us(second.value_at_percentile(99));
  s.max_us = us(second.max());
  samples_.push_back(s);
  commits_ = commits, ops_ = ops, aborts_ = aborts, retries_ = retries;
  last_latency_ = live;
  last_ = now;
  return true;
}

std::string progress_line(const char* name, const timeline_sample& last, const log_linear_histogram& so_far,
                          std::uint64_t commits, std::uint64_t retries) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "[%s %5.1f s] %-8s tps %9.1f  p50 %8.0f us  p99 %8.0f us  commits %9llu  retries %6llu ", name,
                last.end_s, phase_name(last.phase), rate(last.commits, last.interval_s),
                us(so_far.value_at_percentile(50)), us(so_far.value_at_percentile(99)),
                static_cast<unsigned long long>(commits), static_cast<unsigned long long>(retries));
  return buf;
}

void write_timeline_csv(std::FILE* out, const std::vector<const run_result*>& runs) {
  std::fputs(
      "driver,mode,second_end_s,interval_s,phase,commits,tps,ops,ops_per_s,aborts,retries,"
      "latency_count,p50_us,p99_us,max_us\n",
      out);
  for (const run_result* r : runs)
    for (const timeline_sample& s : r->timeline)
      std::fprintf(out, "%s,%s,%.3f,%.3f,%s,%llu,%.1f,%llu,%.1f,%llu,%llu,%llu,%.1f,%.1f,%.1f\n", r->driver.c_str(),
                   to_string(r->mode), s.end_s, s.interval_s, phase_name(s.phase),
                   static_cast<unsigned long long>(s.commits), rate(s.commits, s.interval_s),
                   static_cast<unsigned long long>(s.ops), rate(s.ops, s.interval_s),
                   static_cast<unsigned long long>(s.aborts), static_cast<unsigned long long>(s.retries),
                   static_cast<unsigned long long>(s.latency_count), s.p50_us, s.p99_us, s.max_us);
}

}  // namespace txnbench
