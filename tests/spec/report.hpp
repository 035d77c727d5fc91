// What every spec-suite runner reports: one line per test (unified format, SDAM phases,
// server selection, CMAP, connection strings). main.cpp dispatches files by suite and
// applies the pending list (tests/spec/pending.txt).
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace mongowire::spec {

enum class test_status { pass, fail, skip };

struct test_report {
  test_status status;
  std::string file;         // as displayed, e.g. "transactions/commit.json"
  std::string description;  // the test's description (unique within its file)
  std::string detail;       // skip reason or first mismatch
};

using report_sink = std::function<void(const test_report&)>;

// The runners of the suites that are not in the unified format. Each reads one JSON file
// and reports every test in it exactly once; a problem of the file itself (unreadable,
// unknown fields) is reported as a failed test with description "(file)". They never throw.
//
// connection-string/, uri-options/, auth/: connection-string/tests/README.md,
// uri-options/tests/README.md, auth/tests/README.md.
void run_connection_string_file(const std::filesystem::path& file, const std::string& display,
                                const report_sink& report);
// sdam/{rs,single,sharded,errors,monitoring,load-balanced}/: SDAM phases through the sans-I/O
// topology (server-discovery-and-monitoring-tests.md).
void run_sdam_file(const std::filesystem::path& file, const std::string& display, const report_sink& report);
// server-selection/{rtt,in_window,server_selection}/: server-selection-tests.md.
void run_server_selection_file(const std::filesystem::path& file, const std::string& display,
                               const report_sink& report);
// cmap/: connection-monitoring-and-pooling/tests/cmap-format/README.md, against the sans-I/O pool.
void run_cmap_file(const std::filesystem::path& file, const std::string& display, const report_sink& report);

}  // namespace mongowire::spec
