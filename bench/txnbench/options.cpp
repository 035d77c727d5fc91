#include "options.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

namespace txnbench {

const char* usage_text() {
  return R"(usage: txnbench [options]
Runs MongoDB transactions as fast as it can and reports throughput, latency percentiles,
retries by error label, round trips, bytes and heap allocations per operation.
Without --uri it starts the in-process test server.

  --uri URI              run against this deployment instead of the embedded server
  --compressors LIST     wire compression (OP_COMPRESSED): zlib, zstd and/or snappy, in
                         priority order; mongowire's bytes are then those on the wire
                         (mongoc's are estimated from its documents, before compression)
  --concurrency N        concurrent workers (coroutines on the client's io_context)   [8]
  --threads N            io_contexts/threads, each with its own client                 [1]
  --ops-per-txn N        operations per transaction                                   [4]
  --mix SPEC             insert=F,update=F,find=F (normalised)   [insert=0.25,update=0.5,find=0.25]
  --duration S           measured seconds                                             [3]
  --transactions N       measure N transactions instead of a duration
  --warmup S             seconds run before measuring                                 [1]
  --doc-size BYTES       size of each inserted document                               [256]
  --keys N               documents seeded for updates and finds                       [1000]
  --mode txn|plain|both  plain: the same operations without a transaction; both: the
                         two, one after the other, and the transaction's overhead     [txn]
  --api manual|with_transaction   explicit retry loops or session::with_transaction   [manual]
  --read-concern LEVEL   the transactions' readConcern level                          [snapshot]
  --write-concern W      the transactions' writeConcern w (number or tag)             [majority]
  --latency-us US        embedded server: latency added before every reply            [0]
  --driver mongowire|mongoc|both  mongoc: the same workload through libmongoc (if built)
  --json                 print one JSON object instead of the text report
  --report FILE.html     also write one HTML page: parameters, latency histogram and CDF,
                         throughput over time, retries, round trips and bytes (SVG plots)
  --csv FILE             also write the per-second figures (throughput, latency, retries)
  --progress             live progress line (tps, p50/p99 so far, retries) on stderr, even
                         when it is not a terminal (on a terminal it is always shown)
  --alloc-sites N        print the N most frequent call stacks of steady-state allocations
  --seed N               random seed                                                  [42]
  --retry-trace FILE     write every failed attempt and the engine's decision (retry,
                         rerun, give up, backoff) as JSON lines (mongowire runs)
  --jitter-seed N        seed the engine's backoff jitter: with one worker, the same
                         failures give the same trace
  --fail-point JSON      a configureFailPoint command sent after seeding (repeatable;
                         mongowire runs only), e.g. '{"configureFailPoint": "failCommand",
                         "mode": {"times": 2}, "data": {"failCommands": ["insert"],
                         "errorCode": 112, "errorLabels": ["TransientTransactionError"]}}'
  --workload mix|bank    bank: transfers between accounts in transactions (with_transaction or
                         --api manual), checked at the end: total balance, every committed
                         transfer present once, no aborted one, no session or connection
                         left; exit 1 if a check fails (README "Bank soak")        [mix]
  --accounts N           bank: accounts seeded with a balance of 1000 each          [1000]
  --faults F             bank: fraction of transfers given a fault (connection closed before
                         the commit's or a statement's reply, TransientTransactionError,
                         UnknownTransactionCommitResult, a stall, contention)      [0]
  --failover-every S     bank: run on an embedded three-member replica set and step the
                         primary down (replSetStepDown) every S seconds
  --help
)";
}

const char* to_string(bench_mode m) { return m == bench_mode::txn ? "txn" : m == bench_mode::plain ? "plain" : "both"; }
const char* to_string(txn_api a) { return a == txn_api::manual ? "manual" : "with_transaction"; }

namespace {

template <class T>
bool parse_number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_seconds(std::string_view s, double& out) {
  try {
    std::size_t used = 0;
    out = std::stod(std::string(s), &used);
    return used == s.size() && std::isfinite(out) && out >= 0;
  } catch (...) {
    return false;
  }
}

std::string parse_mix(std::string_view spec, op_mix& mix) {
  op_mix parsed{0, 0, 0};
  while (!spec.empty()) {
    auto comma = spec.find(',');
    auto item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) return "--mix: expected name=fraction, got '" + std::string(item) + "'";
    double value = 0;
    if (!parse_seconds(item.substr(eq + 1), value)) return "--mix: bad fraction in '" + std::string(item) + "'";
    auto name = item.substr(0, eq);
    if (name == "insert") parsed.insert = value;
    else if (name == "update") parsed.update = value;
    else if (name == "find") parsed.find = value;
    else return "--mix: unknown operation '" + std::string(name) + "' (insert, update, find)";
  }
  double sum = parsed.insert + parsed.update + parsed.find;
  if (sum <= 0) return "--mix: the fractions sum to 0";
  mix = {parsed.insert / sum, parsed.update / sum, parsed.find / sum};
  return {};
}

// --workload bank takes only the options it uses; the bank's options need it.
std::string check_bank_options(bench_options& o) {
  if (o.workload != workload_kind::bank) {
    if (o.faults > 0 || o.failover_every_s || o.self_test_tamper)
      return "--faults, --failover-every and --self-test-tamper need --workload bank";
    return {};
  }
  if (!o.api_given) o.api = txn_api::with_transaction;
  if (o.driver != driver_kind::mongowire) return "--workload bank runs with --driver mongowire only";
  if (o.mode != bench_mode::txn) return "--workload bank needs --mode txn";
  if (!o.fail_points.empty()) return "--workload bank sets its own fail points (--faults), not --fail-point";
  if (o.failover_every_s && !o.uri.empty()) return "--failover-every needs the embedded replica set (no --uri)";
  return {};
}

}  // namespace

std::string parse_options(int argc, char** argv, bench_options& o, bool& help) {
  help = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view& v) {
      if (i + 1 >= argc) return false;
      v = argv[++i];
      return true;
    };
    std::string_view v;
    // An option whose value is a non-empty text, stored as given.
    auto text = [&](std::string& field) {
      if (!value(v) || v.empty()) return false;
      field = v;
      return true;
    };
    auto bad = [&] {
      return "bad or missing value for " + std::string(arg) + (v.empty() ? "" : ": '" + std::string(v) + "'");
    };
    if (arg == "--help" || arg == "-h") {
      help = true;
    } else if (arg == "--json") {
      o.json = true;
    } else if (arg == "--progress") {
      o.progress = true;
    } else if (arg == "--report") {
      if (!text(o.report_path)) return bad();
    } else if (arg == "--csv") {
      if (!text(o.csv_path)) return bad();
    } else if (arg == "--uri") {
      if (!text(o.uri)) return bad();
    } else if (arg == "--compressors") {
      if (!text(o.compressors)) return bad();
    } else if (arg == "--concurrency") {
      if (!value(v) || !parse_number(v, o.concurrency) || o.concurrency < 1) return bad();
    } else if (arg == "--threads") {
      if (!value(v) || !parse_number(v, o.threads) || o.threads < 1 || o.threads > 64) return bad();
    } else if (arg == "--ops-per-txn") {
      if (!value(v) || !parse_number(v, o.ops_per_txn) || o.ops_per_txn < 1) return bad();
    } else if (arg == "--mix") {
      if (!value(v)) return bad();
      if (auto err = parse_mix(v, o.mix); !err.empty()) return err;
    } else if (arg == "--duration") {
      if (!value(v) || !parse_seconds(v, o.duration_s) || o.duration_s <= 0) return bad();
    } else if (arg == "--transactions") {
      std::uint64_t n = 0;
      if (!value(v) || !parse_number(v, n) || n == 0) return bad();
      o.transactions = n;
    } else if (arg == "--warmup") {
      if (!value(v) || !parse_seconds(v, o.warmup_s)) return bad();
    } else if (arg == "--doc-size") {
      if (!value(v) || !parse_number(v, o.doc_size) || o.doc_size > 16 * 1024 * 1024) return bad();
    } else if (arg == "--keys") {
      if (!value(v) || !parse_number(v, o.keys) || o.keys < 1) return bad();
    } else if (arg == "--mode") {
      if (!value(v)) return bad();
      if (v == "txn") o.mode = bench_mode::txn;
      else if (v == "plain") o.mode = bench_mode::plain;
      else if (v == "both") o.mode = bench_mode::both;
      else return bad();
    } else if (arg == "--api") {
      if (!value(v)) return bad();
      o.api_given = true;
      if (v == "manual") o.api = txn_api::manual;
      else if (v == "with_transaction") o.api = txn_api::with_transaction;
      else return bad();
    } else if (arg == "--read-concern") {
      if (!text(o.read_concern)) return bad();
    } else if (arg == "--write-concern") {
      if (!text(o.write_concern)) return bad();
    } else if (arg == "--latency-us") {
      if (!value(v) || !parse_number(v, o.latency_us) || o.latency_us < 0) return bad();
    } else if (arg == "--driver") {
      if (!value(v)) return bad();
      if (v == "mongowire") o.driver = driver_kind::mongowire;
      else if (v == "mongoc") o.driver = driver_kind::mongoc;
      else if (v == "both") o.driver = driver_kind::both;
      else return bad();
    } else if (arg == "--alloc-sites") {
      if (!value(v) || !parse_number(v, o.alloc_sites)) return bad();
    } else if (arg == "--seed") {
      if (!value(v) || !parse_number(v, o.seed)) return bad();
    } else if (arg == "--retry-trace") {
      if (!text(o.retry_trace_path)) return bad();
    } else if (arg == "--jitter-seed") {
      std::uint64_t n = 0;
      if (!value(v) || !parse_number(v, n)) return bad();
      o.jitter_seed = n;
    } else if (arg == "--fail-point") {
      if (!text(o.fail_points.emplace_back())) return bad();
    } else if (arg == "--workload") {
      if (!value(v)) return bad();
      if (v == "mix") o.workload = workload_kind::mix;
      else if (v == "bank") o.workload = workload_kind::bank;
      else return bad();
    } else if (arg == "--accounts") {
      if (!value(v) || !parse_number(v, o.accounts) || o.accounts < 2) return bad();
    } else if (arg == "--faults") {
      if (!value(v) || !parse_seconds(v, o.faults) || o.faults > 1) return bad();
    } else if (arg == "--failover-every") {
      double s = 0;
      if (!value(v) || !parse_seconds(v, s) || s <= 0) return bad();
      o.failover_every_s = s;
    } else if (arg == "--self-test-tamper") {
      o.self_test_tamper = true;
    } else {
      return "unknown option '" + std::string(arg) + "' (see --help)";
    }
  }
  if (o.threads > o.concurrency) return "--threads must not exceed --concurrency";
  if (auto err = check_bank_options(o); !err.empty()) return err;
  if (!o.fail_points.empty() && o.driver != driver_kind::mongowire)
    return "--fail-point needs --driver mongowire (libmongoc's runs have no fail point)";
  return {};
}

}  // namespace txnbench
