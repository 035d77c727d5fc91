// The entity map of unified-test-format.md ("Entity Map"): clients with the events they
// observed, databases, collections, sessions and saved BSON values, by unique name.
#pragma once

#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "mongowire/client.hpp"
#include "value.hpp"

namespace mongowire::spec {

struct client_entity {
  std::string id;
  std::unique_ptr<mongowire::client> client;
  std::set<std::string, std::less<>> observe;          // observeEvents
  std::set<std::string, std::less<>> ignore_commands;  // ignoreCommandMonitoringEvents
  bool observe_sensitive = false;                      // observeSensitiveCommands
  bool listening = true;                               // event listeners are disabled after the operations
  // Observed events as documents {event: "commandStartedEvent", commandName, databaseName,
  // command | reply, serverConnectionId, ...} (see event_log.hpp), in order, split by monitor.
  std::vector<bson::document> command_events;
  std::vector<bson::document> cmap_events;
  std::vector<bson::document> sdam_events;
  // observeLogMessages: {component, level, data} of each message (log_expectations.hpp).
  std::vector<bson::document> log_messages;
  // Every command this client started (apart from ignored ones), observed or not: for
  // assertSameLsidOnLastTwoCommands and assertDifferentLsidOnLastTwoCommands.
  std::vector<bson::document> started_commands;
  // Connections checked out now, counted from CMAP events whether observed or not
  // ("entity_client": for assertNumberConnectionsCheckedOut).
  std::int64_t connections_checked_out = 0;
  // The newest TopologyDescription the client published ({type, servers: [{address, type}]}),
  // observed or not: for recordTopologyDescription.
  bson::document topology;
};

// A test runner "thread" (unified-test-format.md "entity_thread_object"): a strand of
// operations run concurrently with the main sequence on the same io_context.
struct thread_entity {
  std::deque<bson::view> queue;  // operations dispatched by runOnThread, not yet started
  bool busy = false;             // the worker is running (it ends when the queue is empty)
  std::exception_ptr failure;    // the first operation that failed; waitForThread rethrows it
};

// A client's TopologyDescription at one point in time (recordTopologyDescription).
struct topology_description_entity {
  bson::document description;  // {type, servers: [{address, type}]}
};

struct database_entity {
  client_entity* client = nullptr;
  std::string name;
  collection_options options;
};

struct collection_entity {
  client_entity* client = nullptr;
  std::string database;
  std::string name;
  collection_options options;  // the database's, overridden by the collection's own
};

struct session_entity {
  client_entity* client = nullptr;
  std::optional<mongowire::session> session;
  bson::document lsid;  // kept after the session ended, for $$sessionLsid
};

// A cursor saved by createFindCursor or createCommandCursor ("entity_cursor"), iterated by
// iterateUntilDocumentOrError / iterateOnce and closed by close.
struct cursor_entity {
  mongowire::cursor cursor;
};

class entity_map {
 public:
  // kind_of() names the alternatives in this order.
  using entity =
      std::variant<std::unique_ptr<client_entity>, database_entity, collection_entity, std::unique_ptr<session_entity>,
                   value, std::unique_ptr<thread_entity>, topology_description_entity, std::unique_ptr<cursor_entity>>;

  client_entity& add(std::unique_ptr<client_entity> c);
  void add(const std::string& id, database_entity d);
  void add(const std::string& id, collection_entity c);
  session_entity& add(const std::string& id, std::unique_ptr<session_entity> s);
  void add(const std::string& id, value v);
  thread_entity& add(const std::string& id, std::unique_ptr<thread_entity> t);
  void add(const std::string& id, topology_description_entity t);
  void add(const std::string& id, std::unique_ptr<cursor_entity> c);

  // Each throws runner_error when the name is unknown or names another type of entity.
  client_entity& client(std::string_view id) const;
  const database_entity& database(std::string_view id) const;
  const collection_entity& collection(std::string_view id) const;
  session_entity& session(std::string_view id) const;
  const value& bson_entity(std::string_view id) const;
  bson::document session_lsid(std::string_view id) const;
  thread_entity& thread(std::string_view id) const;
  const topology_description_entity& topology_description(std::string_view id) const;
  cursor_entity& cursor(std::string_view id) const;

  bool contains(std::string_view id) const { return entities_.find(id) != entities_.end(); }
  // "database", "collection", ... of an entity (for dispatching operations).
  std::string_view kind_of(std::string_view id) const;

  std::vector<session_entity*> sessions() const;
  std::vector<client_entity*> clients() const;
  std::vector<thread_entity*> threads() const;

 private:
  void check_new(const std::string& id) const;
  template <class T>
  const T& get(std::string_view id, std::string_view kind) const;

  std::map<std::string, entity, std::less<>> entities_;
};

}  // namespace mongowire::spec
