// txnbench's command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace txnbench {

// both: the same workload plain and in transactions, one after the other, with the overhead.
enum class bench_mode { txn, plain, both };
enum class txn_api { manual, with_transaction };
enum class driver_kind { mongowire, mongoc, both };
// mix: the operations of --mix; bank: transfers between accounts, checked at the end (bank.hpp).
enum class workload_kind { mix, bank };

// Fractions of insert, update and find among the operations of a transaction (sum 1).
struct op_mix {
  double insert = 0.25;
  double update = 0.5;
  double find = 0.25;
};

struct bench_options {
  std::string uri;      // empty: start the embedded test server
  int concurrency = 8;  // workers (coroutines; threads for mongoc)
  int threads = 1;      // io_contexts, each with its own client
  int ops_per_txn = 4;
  op_mix mix;
  double duration_s = 3.0;  // measured window, unless transactions is set
  std::optional<std::uint64_t> transactions;
  std::size_t doc_size = 256;  // bytes of each inserted document
  std::int64_t keys = 1000;    // documents seeded for updates and finds
  bench_mode mode = bench_mode::txn;
  txn_api api = txn_api::manual;  // --workload bank: with_transaction unless --api is given
  bool api_given = false;
  double warmup_s = 1.0;
  std::int64_t latency_us = 0;  // embedded server: added reply latency
  std::string read_concern = "snapshot";
  std::string write_concern = "majority";
  // --compressors: wire compression (zlib, zstd, snappy), added to the URI as compressors=LIST.
  std::string compressors;
  std::string database = "txnbench";
  bool json = false;
  std::string report_path;      // --report: one self-contained HTML page with SVG plots
  std::string csv_path;         // --csv: per-second figures
  bool progress = false;        // forced on; otherwise only when stderr is a terminal
  std::size_t alloc_sites = 0;  // print the N most frequent allocation stacks
  driver_kind driver = driver_kind::mongowire;
  std::uint64_t seed = 42;
  // --retry-trace: the engine's retry events as JSON lines (mongowire runs).
  std::string retry_trace_path;
  // --jitter-seed: client_options::jitter_seed (thread t's client: N + t), so backoffs replay.
  std::optional<std::uint64_t> jitter_seed;
  // --fail-point: configureFailPoint commands (extended JSON) sent after seeding, before each
  // mongowire run: injected failures, e.g. to see what retries cost.
  std::vector<std::string> fail_points;
  // --workload bank (issue 14): --accounts balances, --faults F of the transfers get a fault,
  // --failover-every S steps the primary of an embedded three-member replica set down.
  workload_kind workload = workload_kind::mix;
  std::int64_t accounts = 1000;
  double faults = 0;
  std::optional<double> failover_every_s;
  bool self_test_tamper = false;  // hidden: delete one committed transfer before the check
};

// Parses argv; returns an error message (empty on success). `help` is set for --help.
std::string parse_options(int argc, char** argv, bench_options& out, bool& help);
const char* usage_text();
const char* to_string(bench_mode m);
const char* to_string(txn_api a);

}  // namespace txnbench
