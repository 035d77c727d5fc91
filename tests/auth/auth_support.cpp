#include "auth_support.hpp"

#include "proto/auth/authenticator.hpp"

namespace auth_test {
namespace {

bool is_hello(std::string_view name) { return name == "hello" || name == "isMaster" || name == "ismaster"; }

// "n,,n=<user>,r=<nonce>" -> user
std::string user_of(bson::view sasl_start) {
  auto p = sasl_start["payload"].as_binary();
  if (!p) return {};
  std::string_view text(reinterpret_cast<const char*>(p->bytes.data()), p->bytes.size());
  const auto begin = text.find("n=", 3);
  const auto end = text.find(",r=");
  return begin == std::string_view::npos || end == std::string_view::npos
             ? std::string()
             : std::string(text.substr(begin + 2, end - begin - 2));
}

void note_sasl_start(sasl_counts& counts, bson::view start) {
  counts.user = user_of(start);
  counts.mechanism = std::string(start["mechanism"].as_string().value_or(""));
}

}  // namespace

std::map<std::int64_t, sasl_counts> auth_server::sasl_by_connection() const {
  std::lock_guard lock(mutex_);
  std::map<std::int64_t, sasl_counts> out;
  for (const auto& e : log_) {
    const bson::view cmd = e.command;
    if (is_hello(e.name)) {
      if (auto spec = cmd["speculativeAuthenticate"].as_document()) note_sasl_start(out[e.connection_id], *spec);
    } else if (e.name == "saslStart") {
      auto& counts = out[e.connection_id];
      ++counts.sasl_start;
      note_sasl_start(counts, cmd);
    } else if (e.name == "saslContinue") {
      ++out[e.connection_id].sasl_continue;
    }
  }
  return out;
}

int auth_server::sasl_continue_count() const {
  int n = 0;
  for (const auto& [id, counts] : sasl_by_connection()) n += counts.sasl_continue;
  return n;
}

std::set<std::int64_t> auth_server::hello_connections() const {
  std::lock_guard lock(mutex_);
  std::set<std::int64_t> out;
  for (const auto& e : log_)
    if (is_hello(e.name)) out.insert(e.connection_id);
  return out;
}

bool auth_server::sent_speculative(std::int64_t connection_id) const {
  std::lock_guard lock(mutex_);
  for (const auto& e : log_)
    if (e.connection_id == connection_id && is_hello(e.name) &&
        e.command.get_view().contains("speculativeAuthenticate"))
      return true;
  return false;
}

client_options outputs::options() {
  client_options o;
  o.on_command = [this](const command_event& e) {
    add(e.command_name + " " + e.database_name + " " + e.document.to_relaxed_json());
    if (e.diag) add(describe(*e.diag) + " " + e.diag->reply.get_view().to_relaxed_json());
    if (e.error) add(e.error.message());
  };
  o.on_pool_event = [this](const pool_event& e) {
    if (e.type == pool_event_type::pool_cleared) saw_pool_cleared = true;
    add(e.address + " " + e.reason);
  };
  o.on_heartbeat = [this](const server_heartbeat_event& e) {
    add(e.address + " " + e.reply.to_relaxed_json() + " " + e.error.message());
  };
  o.on_sdam_event = [this](const sdam_event& e) {
    if (e.type == sdam_event_type::server_description_changed && e.new_server.type == "Unknown" &&
        e.previous_server.type != "Unknown")
      saw_server_unknown = true;
    add(std::string(to_string(e.type)) + " " + e.new_server.error + " " + e.message + " " + e.reply.to_relaxed_json());
  };
  o.log = [this](const std::string& line) { add(line); };
  o.on_frame = [this](const frame_event& e) {
    add(std::string_view(reinterpret_cast<const char*>(e.frame.data()), e.frame.size()));
  };
  return o;
}

net::topology_options topology_options_for(auth_server& server, std::string mechanism) {
  net::topology_options o;
  o.sdam.seeds = {host_address{"127.0.0.1", server.embedded().port()}};
  o.sdam.direct_connection = true;
  o.monitoring_mode = server_monitoring_mode::poll;
  o.server_selection_timeout = std::chrono::seconds(5);
  const auto cs = parse_uri(server.uri() + "&authMechanism=" + mechanism);
  std::string why;
  REQUIRE_MESSAGE(!detail::auth::client_credential(cs, o.credential, why), why);
  return o;
}

}  // namespace auth_test
