// Which runner reads a spec test file: decided by the file's own shape, so that a suite
// found under any directory name is run by the right runner.
#pragma once

#include <string_view>

#include "mongowire/bson.hpp"

namespace mongowire::spec {

enum class suite_format { unified, sdam, server_selection, cmap, connection_string, unknown };

std::string_view to_string(suite_format f) noexcept;

// unified-test-format.md: every file has schemaVersion; SDAM phases: "phases"; CMAP
// (cmap-format/README.md): "style" and "operations"; server selection: "topology_description"
// (selection and in_window) or "avg_rtt_ms" (rtt); connection strings: "tests" whose
// entries have "uri".
suite_format detect_format(bson::view file) noexcept;

}  // namespace mongowire::spec
