#include "log_expectations.hpp"

#include "match.hpp"
#include "value.hpp"

namespace mongowire::spec {

namespace {

log_level& level_of(component_log_levels& levels, std::string_view component) {
  if (component == to_string(log_component::command)) return levels.command;
  if (component == to_string(log_component::topology)) return levels.topology;
  if (component == to_string(log_component::server_selection)) return levels.server_selection;
  if (component == to_string(log_component::connection)) return levels.connection;
  throw runner_error("observeLogMessages: unknown log component '" + std::string(component) + "'");
}

std::string describe_message(const bson::document& m) {
  const bson::view data = m["data"].as_document().value_or(bson::view());
  return std::string(m["component"].as_string().value_or("")) + " " + std::string(m["level"].as_string().value_or("")) +
         " '" + std::string(data["message"].as_string().value_or("")) + "'";
}

std::string message_list(const std::vector<const bson::document*>& messages) {
  std::string out;
  for (const auto* m : messages) out += (out.empty() ? "" : ", ") + describe_message(*m);
  return "[" + out + "]";
}

// failureIsRedacted: mongowire's failure document keeps only code, codeName and errorLabels
// when redacted; otherwise it has the error and what the client or the server said.
void check_redaction(const bson::document& actual, bool redacted, const std::string& where) {
  const bson::view data = actual["data"].as_document().value_or(bson::view());
  const auto failure = data["failure"].as_document();
  if (!failure) throw test_failure(where + ": expected a failure, the message has none");
  const bool has_text = failure->contains("error") || failure->contains("message");
  if (redacted && has_text)
    throw test_failure(where + ": expected a redacted failure, got " + failure->to_relaxed_json());
  if (!redacted && !has_text) throw test_failure(where + ": expected an unredacted failure, got a redacted one");
}

// expectedLogMessage: level, component, then data as a root-level document.
void check_message(bson::view expected, const bson::document& actual, const entity_map& entities,
                   const std::string& where) {
  arguments a(expected, "expectedLogMessage");
  const auto level = a.required_string("level");
  const auto component = a.required_string("component");
  const auto redacted = a.boolean("failureIsRedacted");
  a.required_document("data");
  a.check_all_used();
  if (actual["component"].as_string().value_or("") != component || actual["level"].as_string().value_or("") != level)
    throw test_failure(where + ": expected " + component + " " + level + ", got " + describe_message(actual));
  assert_matches(expected["data"], actual["data"], match_root::document, entities, where + ".data");
  if (redacted) check_redaction(actual, *redacted, where);
}

bool matches_any(bson::view expected_list, const bson::document& actual, const entity_map& entities) {
  for (const auto& e : expected_list) {
    try {
      check_message(e.as_document().value_or(bson::view()), actual, entities, "ignoreMessages");
      return true;
    } catch (const test_failure&) {
    }
  }
  return false;
}

}  // namespace

component_log_levels observed_log_levels(bson::view observe) {
  component_log_levels levels;
  for (const auto& field : observe) {
    const auto name = field.as_string();
    const auto level = name ? log_level_from_string(*name) : std::nullopt;
    if (!level)
      throw runner_error("observeLogMessages: bad level " + describe(field) + " for " + std::string(field.key()));
    level_of(levels, field.key()) = *level;
  }
  return levels;
}

void record_log_message(client_entity& c, const log_message& m) {
  if (!c.listening) return;
  bson::document d;
  d.append("component", to_string(m.component));
  d.append("level", to_string(m.level));
  d.append("data", m.data);
  c.log_messages.push_back(std::move(d));
}

void check_log_messages(bson::view expected_for_client, const entity_map& entities) {
  arguments a(expected_for_client, "expectLogMessages");
  auto& c = entities.client(a.required_string("client"));
  const auto expected = a.array("messages");
  if (!expected) throw runner_error("expectLogMessages: messages is required");
  const bson::view ignored = a.array("ignoreMessages").value_or(bson::view());
  const bool ignore_extra = a.boolean("ignoreExtraMessages").value_or(false);
  a.check_all_used();
  std::vector<const bson::document*> actual;
  for (const auto& m : c.log_messages)
    if (!matches_any(ignored, m, entities)) actual.push_back(&m);
  const std::string where = "log messages of " + c.id;
  const auto expected_count = expected->count();
  if (actual.size() < expected_count || (!ignore_extra && actual.size() != expected_count))
    throw test_failure(where + ": expected " + std::to_string(expected_count) + " messages, got " +
                       std::to_string(actual.size()) + ": " + message_list(actual));
  std::size_t i = 0;
  for (const auto& e : *expected) {
    check_message(e.as_document().value_or(bson::view()), *actual[i], entities, where + "[" + std::to_string(i) + "]");
    ++i;
  }
}

}  // namespace mongowire::spec
