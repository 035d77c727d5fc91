#include "suite_format.hpp"

namespace mongowire::spec {

std::string_view to_string(suite_format f) noexcept {
  switch (f) {
    case suite_format::unified: return "unified";
    case suite_format::sdam: return "sdam";
    case suite_format::server_selection: return "server-selection";
    case suite_format::cmap: return "cmap";
    case suite_format::connection_string: return "connection-string";
    case suite_format::unknown: break;
  }
  return "unknown";
}

namespace {

bool is_connection_string_file(bson::view file) noexcept {
  auto tests = file["tests"].as_array();
  if (!tests || tests->empty()) return false;
  auto first = (*tests->begin()).as_document();
  return first && first->contains("uri");
}

}  // namespace

suite_format detect_format(bson::view file) noexcept {
  if (file.contains("schemaVersion")) return suite_format::unified;
  if (file.contains("phases")) return suite_format::sdam;
  if (file.contains("style") && file.contains("operations")) return suite_format::cmap;
  if (file.contains("topology_description") || file.contains("avg_rtt_ms")) return suite_format::server_selection;
  if (is_connection_string_file(file)) return suite_format::connection_string;
  return suite_format::unknown;
}

}  // namespace mongowire::spec
