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

#include "report.hpp"

namespace mongowire::spec {

struct runner_options {
  std::optional<std::string> uri;  // a real deployment; nullopt: the in-process test server
  // With uri, a load-balanced deployment: the load balancers in front of one mongos and of
  // several (unified-test-format.md "Initializing the Test Runner": SINGLE_MONGOS_LB_URI,
  // MULTI_MONGOS_LB_URI).
  std::optional<std::string> single_mongos_lb_uri;
  std::optional<std::string> multi_mongos_lb_uri;
  std::string only;         // run only tests whose description contains this
  bool serverless = false;  // the deployment is Atlas Serverless
};

// Runs every test of one file; reports each test once. Never throws for a problem of the
// file or of a test: those are reported as failures.
boost::asio::awaitable<void> run_file(std::filesystem::path file, std::string display_name, runner_options options,
                                      report_sink report);

}  // namespace mongowire::spec
