// mongowire-spec-runner: runs MongoDB's driver spec tests against the engine, each file
// with the runner of its format (unified, SDAM phases, server selection, CMAP, connection
// strings; see suite_format.hpp).
//
//   mongowire-spec-runner [--uri URI [--single-mongos-lb-uri URI --multi-mongos-lb-uri URI]] [--only TEXT]
//                         [--serverless] [--pending FILE] [--contradicted FILE] [PATH...]
//
// PATHs are JSON test files or directories (searched recursively, files in name order).
// Without PATHs: $MONGOWIRE_SPECS_DIR, else the directory given by --default-dir. Without
// --uri every unified file runs against a fresh in-process test server. A load-balanced --uri
// needs the two load balancer URIs of drivers' CI (SINGLE_MONGOS_LB_URI, MULTI_MONGOS_LB_URI). Prints one line per
// test, per-suite counts, and a last line "N passed, N failed, N skipped, N pending"; exits 1
// when a test failed, 77 (skip) when there is nothing to run unless $CI is set, 2 on bad
// arguments. With --pending, tests listed there are reported PENDING when they fail, and
// FAIL when they pass (see pending_list.hpp). With --contradicted, tests whose expectation the
// prose specification contradicts (contradicted.txt, with the quote) are SKIPs that cite it.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "mongowire/client.hpp"
#include "pending_list.hpp"
#include "suite_format.hpp"
#include "test_runner.hpp"
#include "spec_file.hpp"

namespace fs = std::filesystem;
using namespace mongowire;
using namespace mongowire::spec;

namespace {

struct file_to_run {
  fs::path path;
  std::string display;  // relative to the directory it was found in
};

struct arguments {
  runner_options options;
  std::vector<std::string> paths;
  std::string default_dir;
  std::string pending_file;
  std::string contradicted_file;  // tests the prose specification contradicts (contradicted.txt)
};

std::vector<file_to_run> collect(const fs::path& root) {
  std::vector<file_to_run> out;
  if (fs::is_regular_file(root)) {
    out.push_back({root, root.parent_path().filename().string() + "/" + root.filename().string()});
    return out;
  }
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    out.push_back({entry.path(), fs::relative(entry.path(), root).generic_string()});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.display < b.display; });
  return out;
}

bool ci_is_set() {
  const char* ci = std::getenv("CI");
  if (!ci) return false;
  std::string v(ci);
  return !v.empty() && v != "0" && v != "false";
}

int usage(const std::string& why) {
  std::cerr << "mongowire-spec-runner: " << why << "\n"
            << "usage: mongowire-spec-runner [--uri URI [--single-mongos-lb-uri URI --multi-mongos-lb-uri URI]]"
               " [--only TEXT] [--serverless] [--pending FILE] [--contradicted FILE] [--default-dir DIR] [PATH...]\n";
  return 2;
}

// Counts per suite (the first directory of the displayed path) and in total.
struct tally {
  std::size_t passed = 0, failed = 0, skipped = 0, pending = 0;
  std::string line() const {
    std::ostringstream s;
    s << passed << " passed, " << failed << " failed, " << skipped << " skipped, " << pending << " pending";
    return s.str();
  }
};

class reporter {
 public:
  reporter(std::optional<pending_list> pending, std::optional<pending_list> contradicted)
      : pending_(std::move(pending)), contradicted_(std::move(contradicted)) {}

  void operator()(test_report r) {
    auto reason = pending_ ? pending_->lookup(r.file, r.description) : std::nullopt;
    auto contradiction = contradicted_ ? contradicted_->lookup(r.file, r.description) : std::nullopt;
    const char* word = contradiction ? classify_contradicted(r, *contradiction) : classify(r, reason);
    std::cout << word << "  " << r.file << "  " << r.description;
    if (!r.detail.empty()) std::cout << "  -- " << r.detail;
    std::cout << std::endl;
  }

  // Entries of the pending list that named no test: the list must name real tests.
  void fail_unused_entries() {
    if (pending_)
      for (const auto& e : pending_->unused()) (*this)({test_status::fail, e, "(pending.txt)", "names no test"});
    if (contradicted_)
      for (const auto& e : contradicted_->unused())
        (*this)({test_status::fail, e, "(contradicted.txt)", "names no test"});
  }

  void print_summary() const {
    for (const auto& [suite, t] : suites_) std::cout << "suite " << suite << ": " << t.line() << "\n";
    std::cout << total_.line() << std::endl;
  }
  bool ok() const noexcept { return total_.failed == 0; }

 private:
  const char* classify(test_report& r, const std::optional<std::string>& reason) {
    auto& suite = suites_[r.file.substr(0, r.file.find('/'))];
    auto count = [&](std::size_t tally::*field, const char* word) {
      ++(suite.*field), ++(total_.*field);
      return word;
    };
    if (reason && r.status == test_status::fail) {
      r.detail = "waits for " + *reason + (r.detail.empty() ? "" : "; now: " + r.detail);
      return count(&tally::pending, "PENDING");
    }
    if (reason && r.status == test_status::pass) {
      r.detail = "listed in pending.txt (" + *reason + ") but passes: remove it from the list";
      return count(&tally::failed, "FAIL");
    }
    if (r.status == test_status::pass) return count(&tally::passed, "PASS");
    if (r.status == test_status::fail) return count(&tally::failed, "FAIL");
    return count(&tally::skipped, "SKIP");
  }

  // A test whose expectation the current prose specification contradicts: reported as a skip
  // that quotes the spec; if it passes, the engine broke the spec's rule. Except in csot/,
  // whose contradicted tests expect a timeout that a slow enough machine (a loaded CI runner,
  // sanitizers) produces anyway: there a pass is not evidence, so it stays a skip.
  const char* classify_contradicted(test_report& r, const std::string& quote) {
    if (r.status == test_status::pass && r.file.starts_with("csot/")) {
      r.status = test_status::skip;
      r.detail = "contradicts " + quote + " (it passed this run, by the machine's slowness alone)";
    } else if (r.status == test_status::pass) {
      r.status = test_status::fail;
      r.detail = "listed in contradicted.txt (" + quote + ") but passes: the engine no longer follows the spec";
    } else {
      r.status = test_status::skip;
      r.detail = "contradicts " + quote;
    }
    return classify(r, std::nullopt);
  }

  std::optional<pending_list> pending_;
  std::optional<pending_list> contradicted_;
  std::map<std::string, tally> suites_;
  tally total_;
};

void run_unified(const file_to_run& f, const runner_options& options, const report_sink& report) {
  boost::asio::io_context io;
  boost::asio::co_spawn(io, run_file(f.path, f.display, options, report), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      report({test_status::fail, f.display, "(file)", std::string("runner crashed: ") + ex.what()});
    }
  });
  io.run();
}

void run_one(const file_to_run& f, const runner_options& options, const report_sink& report) {
  std::string why;
  auto doc = read_json_file(f.path, why);
  if (!doc) return report({test_status::fail, f.display, "(file)", why});
  switch (detect_format(*doc)) {
    case suite_format::unified: return run_unified(f, options, report);
    case suite_format::sdam: return run_sdam_file(f.path, f.display, report);
    case suite_format::server_selection: return run_server_selection_file(f.path, f.display, report);
    case suite_format::cmap: return run_cmap_file(f.path, f.display, report);
    case suite_format::connection_string: return run_connection_string_file(f.path, f.display, report);
    case suite_format::unknown: break;
  }
  report({test_status::fail, f.display, "(file)", "no runner knows this file's format"});
}

// With --uri, one ping first: an unreachable deployment ends the run with its reason within
// serverSelectionTimeoutMS instead of failing every file after that long.
std::string probe_deployment(const std::string& uri) {
  boost::asio::io_context io;
  auto probe = [&]() -> boost::asio::awaitable<std::string> {
    client c(co_await boost::asio::this_coro::executor, uri);
    diagnostics diag;
    bson::document reply;
    auto ping = bson::document::from_json(R"({"ping": 1})");
    auto ec = co_await c.run_command("admin", ping, reply, diag);
    co_await c.close();
    co_return ec ? ec.message() + ": " + describe(diag) : std::string();
  };
  auto result = boost::asio::co_spawn(io, probe(), boost::asio::use_future);
  io.run();
  try {
    return result.get();
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

namespace {

std::optional<int> parse_arguments(int argc, char** argv, arguments& a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--uri") a.options.uri = next();
      else if (arg == "--single-mongos-lb-uri") a.options.single_mongos_lb_uri = next();
      else if (arg == "--multi-mongos-lb-uri") a.options.multi_mongos_lb_uri = next();
      else if (arg == "--only") a.options.only = next();
      else if (arg == "--serverless") a.options.serverless = true;
      else if (arg == "--default-dir") a.default_dir = next();
      else if (arg == "--pending") a.pending_file = next();
      else if (arg == "--contradicted") a.contradicted_file = next();
      else if (arg == "--help" || arg == "-h") return usage("help"), 0;
      else if (!arg.empty() && arg[0] == '-') return usage("unknown option " + arg);
      else a.paths.push_back(arg);
    } catch (const std::exception& e) {
      return usage(e.what());
    }
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  arguments args;
  if (auto code = parse_arguments(argc, argv, args)) return *code;
  // A full run (no PATH, no --only) also checks that every pending entry names a test.
  const bool full_run = args.paths.empty() && args.options.only.empty();
  if (args.paths.empty()) {
    const char* env = std::getenv("MONGOWIRE_SPECS_DIR");
    std::string dir = env && *env ? env : args.default_dir;
    if (dir.empty()) return usage("no test files given");
    args.paths.push_back(dir);
  }
  std::optional<pending_list> pending, contradicted;
  try {
    if (!args.pending_file.empty()) pending = pending_list::load(args.pending_file);
    if (!args.contradicted_file.empty()) contradicted = pending_list::load(args.contradicted_file);
  } catch (const std::exception& e) {
    return usage(e.what());
  }
  std::vector<file_to_run> files;
  for (const auto& p : args.paths) {
    if (!fs::exists(p)) {
      std::cout << "spec tests not found: " << p
                << " does not exist (give PATHs, set MONGOWIRE_SPECS_DIR, or configure -Dspecs_dir)\n";
      std::cout << "0 passed, 0 failed, 0 skipped, 0 pending\n";
      return ci_is_set() ? 1 : 77;
    }
    auto found = collect(p);
    files.insert(files.end(), found.begin(), found.end());
  }
  if (args.options.uri) {
    if (auto why = probe_deployment(*args.options.uri); !why.empty()) {
      std::cerr << "mongowire-spec-runner: cannot reach the deployment: " << why << "\n";
      return 1;
    }
  }
  reporter out(std::move(pending), std::move(contradicted));
  // --only filters every format's tests by description (the unified runner filters too).
  report_sink sink = [&](const test_report& r) {
    if (args.options.only.empty() || r.description.find(args.options.only) != std::string::npos) out(r);
  };
  for (const auto& f : files) run_one(f, args.options, sink);
  if (full_run) out.fail_unused_entries();
  out.print_summary();
  return out.ok() ? 0 : 1;
}
