// Runs the test files of the unified test format (unified-test-format.md, "Test Runner
// Implementation") against one deployment: the in-process test server (a fresh one per
// file) or a real deployment given by URI.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace mongowire::spec {

enum class test_status { pass, fail, skip };

struct test_report {
  test_status status;
  std::string file;         // as displayed, e.g. "transactions/commit.json"
  std::string description;  // the test's description
  std::string detail;       // skip reason or first mismatch
};

struct runner_options {
  std::optional<std::string> uri;  // a real deployment; nullopt: the in-process test server
  std::string only;                // run only tests whose description contains this
  bool serverless = false;         // the deployment is Atlas Serverless
};

using report_sink = std::function<void(const test_report&)>;

// Runs every test of one file; reports each test once. Never throws for a problem of the
// file or of a test: those are reported as failures.
boost::asio::awaitable<void> run_file(std::filesystem::path file, std::string display_name, runner_options options,
                                      report_sink report);

}  // namespace mongowire::spec
