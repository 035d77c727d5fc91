#include "entities.hpp"

#include <iterator>

namespace mongowire::spec {

void entity_map::check_new(const std::string& id) const {
  // "Test runners MUST raise an error if an attempt is made to store an entity with a name
  // that already exists in the map."
  if (contains(id)) throw runner_error("entity '" + id + "' already exists");
}

client_entity& entity_map::add(std::unique_ptr<client_entity> c) {
  check_new(c->id);
  auto& slot = entities_[c->id];
  slot = std::move(c);
  return *std::get<std::unique_ptr<client_entity>>(slot);
}

void entity_map::add(const std::string& id, database_entity d) {
  check_new(id);
  entities_[id] = std::move(d);
}

void entity_map::add(const std::string& id, collection_entity c) {
  check_new(id);
  entities_[id] = std::move(c);
}

session_entity& entity_map::add(const std::string& id, std::unique_ptr<session_entity> s) {
  check_new(id);
  auto& slot = entities_[id];
  slot = std::move(s);
  return *std::get<std::unique_ptr<session_entity>>(slot);
}

void entity_map::add(const std::string& id, value v) {
  check_new(id);
  entities_[id] = std::move(v);
}

thread_entity& entity_map::add(const std::string& id, std::unique_ptr<thread_entity> t) {
  check_new(id);
  auto& slot = entities_[id];
  slot = std::move(t);
  return *std::get<std::unique_ptr<thread_entity>>(slot);
}

void entity_map::add(const std::string& id, topology_description_entity t) {
  check_new(id);
  entities_[id] = std::move(t);
}

void entity_map::add(const std::string& id, std::unique_ptr<cursor_entity> c) {
  check_new(id);
  entities_[id] = std::move(c);
}

template <class T>
const T& entity_map::get(std::string_view id, std::string_view kind) const {
  auto it = entities_.find(id);
  if (it == entities_.end()) throw runner_error("no entity named '" + std::string(id) + "'");
  if (auto* p = std::get_if<T>(&it->second)) return *p;
  throw runner_error("entity '" + std::string(id) + "' is not a " + std::string(kind));
}

client_entity& entity_map::client(std::string_view id) const {
  return *get<std::unique_ptr<client_entity>>(id, "client");
}
const database_entity& entity_map::database(std::string_view id) const { return get<database_entity>(id, "database"); }
const collection_entity& entity_map::collection(std::string_view id) const {
  return get<collection_entity>(id, "collection");
}
session_entity& entity_map::session(std::string_view id) const {
  return *get<std::unique_ptr<session_entity>>(id, "session");
}
const value& entity_map::bson_entity(std::string_view id) const { return get<value>(id, "BSON value"); }
bson::document entity_map::session_lsid(std::string_view id) const { return session(id).lsid; }
thread_entity& entity_map::thread(std::string_view id) const {
  return *get<std::unique_ptr<thread_entity>>(id, "thread");
}
const topology_description_entity& entity_map::topology_description(std::string_view id) const {
  return get<topology_description_entity>(id, "TopologyDescription");
}

cursor_entity& entity_map::cursor(std::string_view id) const {
  return *get<std::unique_ptr<cursor_entity>>(id, "cursor");
}

std::string_view entity_map::kind_of(std::string_view id) const {
  auto it = entities_.find(id);
  if (it == entities_.end()) throw runner_error("no entity named '" + std::string(id) + "'");
  static constexpr std::string_view kinds[] = {"client", "database", "collection",          "session",
                                               "value",  "thread",   "topologyDescription", "cursor"};
  static_assert(std::size(kinds) == std::variant_size_v<entity>);
  return kinds[it->second.index()];
}

std::vector<session_entity*> entity_map::sessions() const {
  std::vector<session_entity*> out;
  for (const auto& [id, e] : entities_)
    if (auto* s = std::get_if<std::unique_ptr<session_entity>>(&e)) out.push_back(s->get());
  return out;
}

std::vector<client_entity*> entity_map::clients() const {
  std::vector<client_entity*> out;
  for (const auto& [id, e] : entities_)
    if (auto* c = std::get_if<std::unique_ptr<client_entity>>(&e)) out.push_back(c->get());
  return out;
}

std::vector<thread_entity*> entity_map::threads() const {
  std::vector<thread_entity*> out;
  for (const auto& [id, e] : entities_)
    if (auto* t = std::get_if<std::unique_ptr<thread_entity>>(&e)) out.push_back(t->get());
  return out;
}

}  // namespace mongowire::spec
