// mongowire-spec-runner: runs MongoDB's unified-format driver spec tests against the
// engine.
//
//   mongowire-spec-runner [--uri mongodb://...] [--only TEXT] [--serverless] [PATH...]
//
// PATHs are JSON test files or directories (searched recursively, files in name order).
// Without PATHs: $MONGOWIRE_SPECS_DIR, else the directory given by --default-dir. Without
// --uri every file runs against a fresh in-process test server. Prints one line per test
// and a last line "N passed, N failed, N skipped"; exits 1 when a test failed, 77 (skip)
// when there is nothing to run unless $CI is set, 2 on bad arguments.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "test_runner.hpp"

namespace fs = std::filesystem;
using namespace mongowire::spec;

namespace {

struct file_to_run {
  fs::path path;
  std::string display;  // relative to the directory it was found in, with that directory's name
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
            << "usage: mongowire-spec-runner [--uri URI] [--only TEXT] [--serverless] [--default-dir DIR] [PATH...]\n";
  return 2;
}

const char* status_word(test_status s) {
  switch (s) {
    case test_status::pass: return "PASS";
    case test_status::fail: return "FAIL";
    case test_status::skip: return "SKIP";
  }
  return "????";
}

}  // namespace

int main(int argc, char** argv) {
  runner_options options;
  std::vector<std::string> paths;
  std::string default_dir;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--uri") options.uri = next();
      else if (arg == "--only") options.only = next();
      else if (arg == "--serverless") options.serverless = true;
      else if (arg == "--default-dir") default_dir = next();
      else if (arg == "--help" || arg == "-h") return usage("help"), 0;
      else if (!arg.empty() && arg[0] == '-') return usage("unknown option " + arg);
      else paths.push_back(arg);
    } catch (const std::exception& e) {
      return usage(e.what());
    }
  }
  if (paths.empty()) {
    const char* env = std::getenv("MONGOWIRE_SPECS_DIR");
    std::string dir = env && *env ? env : default_dir;
    if (dir.empty()) return usage("no test files given");
    paths.push_back(dir);
  }

  std::vector<file_to_run> files;
  for (const auto& p : paths) {
    if (!fs::exists(p)) {
      std::cout << "spec tests not found: " << p
                << " does not exist (give PATHs, set MONGOWIRE_SPECS_DIR, or configure -Dspecs_dir)\n";
      std::cout << "0 passed, 0 failed, 0 skipped\n";
      return ci_is_set() ? 1 : 77;
    }
    auto found = collect(p);
    files.insert(files.end(), found.begin(), found.end());
  }

  std::size_t passed = 0, failed = 0, skipped = 0;
  auto report = [&](const test_report& r) {
    (r.status == test_status::pass ? passed : r.status == test_status::fail ? failed : skipped)++;
    std::cout << status_word(r.status) << "  " << r.file << "  " << r.description;
    if (!r.detail.empty()) std::cout << "  -- " << r.detail;
    std::cout << std::endl;
  };

  boost::asio::io_context io;
  for (const auto& f : files) {
    boost::asio::co_spawn(io, run_file(f.path, f.display, options, report), [&](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        report({test_status::fail, f.display, "(file)", std::string("runner crashed: ") + ex.what()});
      }
    });
    io.run();
    io.restart();
  }
  std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped" << std::endl;
  return failed == 0 ? 0 : 1;
}
