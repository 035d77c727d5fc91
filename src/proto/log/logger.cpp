#include "proto/log/logger.hpp"

#include <array>
#include <cstdlib>

#include "proto/uri/host_address.hpp"

namespace mongowire {

namespace {

constexpr std::array<std::string_view, 10> level_names = {"off",  "emergency", "alert", "critical", "error",
                                                          "warn", "notice",    "info",  "debug",    "trace"};

bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// logging.md "Per-Component Configuration of Log Levels": an invalid value counts as unset.
std::optional<log_level> level_from_environment(const char* variable) {
  const char* value = std::getenv(variable);
  if (!value) return std::nullopt;
  return log_level_from_string(value);
}

}  // namespace

std::string_view to_string(log_component c) noexcept {
  switch (c) {
    case log_component::command: return "command";
    case log_component::topology: return "topology";
    case log_component::server_selection: return "serverSelection";
    case log_component::connection: return "connection";
  }
  return "unknown";
}

std::string_view to_string(log_level l) noexcept {
  const auto index = static_cast<std::size_t>(static_cast<int>(l) + 1);
  return index < level_names.size() ? level_names[index] : "unknown";
}

std::optional<log_level> log_level_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < level_names.size(); ++i)
    if (equal_ignoring_case(name, level_names[i])) return static_cast<log_level>(static_cast<int>(i) - 1);
  return std::nullopt;
}

log_level component_log_levels::of(log_component c) const noexcept {
  switch (c) {
    case log_component::command: return command;
    case log_component::topology: return topology;
    case log_component::server_selection: return server_selection;
    case log_component::connection: return connection;
  }
  return log_level::off;
}

component_log_levels component_log_levels::from_environment() {
  auto levels = all(level_from_environment("MONGODB_LOG_ALL").value_or(log_level::off));
  // "the component variable(s) MUST take precedence"
  if (auto l = level_from_environment("MONGODB_LOG_COMMAND")) levels.command = *l;
  if (auto l = level_from_environment("MONGODB_LOG_TOPOLOGY")) levels.topology = *l;
  if (auto l = level_from_environment("MONGODB_LOG_SERVER_SELECTION")) levels.server_selection = *l;
  if (auto l = level_from_environment("MONGODB_LOG_CONNECTION")) levels.connection = *l;
  return levels;
}

namespace detail {

void logger::emit(log_component c, log_level l, const bson::document& data) const {
  if (!enabled(c, l)) return;
  const bson::view view = data.get_view();
  handler_(log_message{c, l, view["message"].as_string().value_or(""), view});
}

std::string logger::document_json(bson::view doc) const {
  return truncate_json(doc.to_relaxed_json(), max_document_length_);
}

bson::document log_data(std::string_view message) {
  bson::document d;
  d.append("message", message);
  return d;
}

std::string truncate_json(std::string json, std::size_t max) {
  if (json.size() <= max) return json;
  std::size_t cut = max;
  // A UTF-8 continuation byte (10xxxxxx) would split a code point: cut before its sequence.
  while (cut > 0 && (static_cast<unsigned char>(json[cut]) & 0xC0) == 0x80) --cut;
  json.resize(cut);
  return json + "...";
}

bson::document failure_document(error_code ec, const diagnostics* diag, std::string_view message, bool redacted) {
  bson::document f;
  std::int32_t code = diag ? diag->server_code : 0;
  if (code == 0 && ec.category() == server_category()) code = ec.value();
  if (!redacted) {
    f.append("error", std::string(ec.category().name()) + ": " + ec.message());
    const std::string described = message.empty() && diag ? describe(*diag) : std::string(message);
    if (!described.empty()) f.append("message", described);
  }
  if (code != 0) f.append("code", code);
  if (diag && !diag->code_name.empty()) f.append("codeName", diag->code_name);
  if (diag && !diag->labels.empty())
    f.append_array_of("errorLabels", [&](bson::array_builder& a) {
      for (const auto& l : diag->labels.items()) a.push(std::string_view(l));
    });
  return f;
}

void append_server_address(bson::document& data, std::string_view address) {
  std::string why;
  const auto parts = uri::split_host_port(address, why);
  if (!parts) {
    data.append("serverHost", address);
    return;
  }
  data.append("serverHost", parts->host);
  if (!parts->port) return;  // a Unix domain socket
  if (auto port = uri::parse_port(*parts->port, why)) data.append("serverPort", static_cast<std::int32_t>(*port));
}

}  // namespace detail
}  // namespace mongowire
