#include "test_runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "deployment.hpp"
#include "entities.hpp"
#include "event_log.hpp"
#include "log_expectations.hpp"
#include "match.hpp"
#include "mongowire/client.hpp"
#include "mongowire/uri.hpp"
#include "operations.hpp"
#include "uri_options.hpp"
#include "value.hpp"
#include "spec_file.hpp"

namespace mongowire::spec {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

// The newest schema version this runner implements (unified-test-format.md, "Test Runner
// Support": files of major version 1 up to this minor version are accepted).
// 1.22-1.28 only add optional features (awaitMinPoolSize, tracing, CSFLE forms); the
// runner rejects every field it does not implement, so such a file fails loudly rather
// than passing by ignoring what it asks for.
constexpr version supported_schema{1, 28, 0};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool icontains(std::string_view haystack, std::string_view needle) {
  return lower(haystack).find(lower(needle)) != std::string::npos;
}

std::string error_summary(const error_code& ec, const diagnostics& diag) {
  std::string s = ec.message() + " [" + ec.category().name() + ":" + std::to_string(ec.value()) + "]";
  if (auto m = describe(diag); !m.empty()) s += " \"" + m + "\"";
  if (diag.server_code != 0) s += " code=" + std::to_string(diag.server_code);
  if (!diag.code_name.empty()) s += " codeName=" + diag.code_name;
  if (!diag.labels.empty()) {
    s += " labels=[";
    for (const auto& l : diag.labels.items()) s += (s.back() == '[' ? "" : ",") + l;
    s += "]";
  }
  for (const auto& w : diag.write_errors)
    s += " writeError{index=" + std::to_string(w.index) + ",code=" + std::to_string(w.code) + ",\"" + w.errmsg + "\"}";
  if (diag.write_concern)
    s += " writeConcernError{code=" + std::to_string(diag.write_concern->code) + ",\"" + diag.write_concern->errmsg +
         "\"}";
  return s;
}

// ---------------------------------------------------------------- the deployment

struct deployment {
  version server_version;
  std::string topology;  // single, replicaset, sharded, load-balanced
  bool auth = false;
  bool serverless = false;
};

awaitable<bson::document> admin_command(mongowire::client& c, bson::document command) {
  bson::document reply;
  diagnostics diag;
  const std::string name(command.get_view().first_key());
  if (auto ec = co_await c.run_command("admin", std::move(command), reply, diag))
    throw runner_error(name + " failed: " + error_summary(ec, diag));
  co_return reply;
}

awaitable<deployment> describe_deployment(mongowire::client& internal, const connection_string& cs,
                                          const runner_options& options) {
  deployment d;
  bson::document build_info;
  build_info.append("buildInfo", 1);
  auto info = co_await admin_command(internal, std::move(build_info));
  // "Version String": the three elements of versionArray.
  if (auto parts = info["versionArray"].as_array()) {
    int* fields[] = {&d.server_version.major, &d.server_version.minor, &d.server_version.patch};
    std::size_t i = 0;
    for (const auto& p : *parts)
      if (i < 3) *fields[i++] = static_cast<int>(p.as_integer().value_or(0));
  } else if (auto v = info["version"].as_string()) {
    d.server_version = version::parse(*v);
  }
  bson::document hello_command;
  hello_command.append("hello", 1);
  auto hello = co_await admin_command(internal, std::move(hello_command));
  // Only a connection's first hello carries serviceId (mongos handleHello): loadBalanced=true says it.
  if (cs.load_balanced.value_or(false) || hello["serviceId"]) d.topology = "load-balanced";
  else if (hello["msg"].as_string() == std::optional<std::string_view>("isdbgrid")) d.topology = "sharded";
  else if (hello["setName"]) d.topology = "replicaset";
  else d.topology = "single";
  d.auth = cs.username.has_value();
  d.serverless = options.serverless;
  co_return d;
}

std::string version_string(const version& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

// One runOnRequirement: the reason it is not met, or nullopt.
awaitable<std::optional<std::string>> unmet_requirement(bson::view req, const deployment& d,
                                                        mongowire::client& internal) {
  for (const auto& field : req) {
    const auto key = field.key();
    if (key == "minServerVersion" || key == "maxServerVersion") {
      auto text = field.as_string();
      if (!text) throw runner_error(std::string(key) + " must be a string");
      const auto bound = version::parse(*text);
      const bool is_min = key == "minServerVersion";
      if (is_min ? d.server_version < bound : d.server_version > bound)
        co_return "server version: needs " + std::string(is_min ? ">= " : "<= ") + std::string(*text) + ", server is " +
            version_string(d.server_version);
    } else if (key == "topologies") {
      bool found = false;
      std::string wanted;
      const bson::view topologies = field.as_array().value_or(bson::view());
      for (const auto& t : topologies) {
        auto name = std::string(t.as_string().value_or(""));
        wanted += (wanted.empty() ? "" : ", ") + name;
        // "sharded" implies "sharded-replicaset" (3.6+ shards are replica sets).
        if (name == d.topology || (name == "sharded-replicaset" && d.topology == "sharded")) found = true;
      }
      if (!found) co_return "topology: needs " + wanted + "; deployment is " + d.topology;
    } else if (key == "serverless") {
      auto mode = field.as_string().value_or("allow");
      if (mode == "require" && !d.serverless) co_return std::string("serverless: needs Atlas Serverless");
      if (mode == "forbid" && d.serverless) co_return std::string("serverless: forbidden on Atlas Serverless");
    } else if (key == "auth") {
      const bool want = field.as_bool().value_or(false);
      if (want && !d.auth) co_return std::string("auth: needs authentication; deployment has none");
      if (!want && d.auth) co_return std::string("auth: needs a deployment without authentication");
    } else if (key == "authMechanism") {
      co_return "auth: needs mechanism " + std::string(field.as_string().value_or("")) +
          "; deployment has no authentication";
    } else if (key == "csfle") {
      if (field.as_bool().value_or(false))
        co_return std::string("csfle: needs client-side field level encryption, which mongowire does not have");
    } else if (key == "serverParameters") {
      const bson::view params = field.as_document().value_or(bson::view());
      for (const auto& param : params) {
        bson::document cmd;
        cmd.append("getParameter", 1);
        cmd.append(param.key(), 1);
        bson::document reply;
        diagnostics diag;
        auto ec = co_await internal.run_command("admin", std::move(cmd), reply, diag);
        // unified-test-format.md "serverParameters": an unsupported parameter is "not equal".
        if (ec || !values_equal(reply[param.key()], param))
          co_return "server parameter: needs " + std::string(param.key()) + " = " + describe(param);
      }
    } else {
      throw runner_error("unknown runOnRequirement field '" + std::string(key) + "'");
    }
  }
  co_return std::nullopt;
}

// A list of requirements is met when any one of them is (unified-test-format.md "runOnRequirements").
awaitable<std::optional<std::string>> unmet_requirements(bson::element list, const deployment& d,
                                                         mongowire::client& internal) {
  if (!list) co_return std::nullopt;
  auto array = list.as_array();
  if (!array) throw runner_error("runOnRequirements must be an array");
  std::string reasons;
  for (const auto& r : *array) {
    auto req = r.as_document();
    if (!req) throw runner_error("runOnRequirements must contain documents");
    auto reason = co_await unmet_requirement(*req, d, internal);
    if (!reason) co_return std::nullopt;
    if (reasons.find(*reason) == std::string::npos) reasons += (reasons.empty() ? "" : " | ") + *reason;
  }
  co_return reasons;
}

// ---------------------------------------------------------------- one test

struct file_context {
  asio::any_io_executor executor;
  std::string uri;
  // Load-balanced: the load balancer in front of one mongos and the one in front of several
  // (unified-test-format.md "Initializing the Test Runner").
  std::string single_mongos_lb_uri;
  std::string multi_mongos_lb_uri;
  mongowire::client* internal = nullptr;
  deployment server;
  std::string display;
  runner_options options;
};

class test_execution {
 public:
  test_execution(const file_context& file, bson::view file_doc, bson::view test)
      : file_(file), file_doc_(file_doc), test_(test) {
    ctx_.run_nested = [this](bson::view op) { return execute_operation(op); };
    file_uses_fail_points_ = file_doc.to_json().find("\"failPoint\"") != std::string::npos;
  }

  // Runs the test; throws test_failure / runner_error for the first problem. Cleans up
  // (fail points, sessions, clients, open transactions) in every case.
  awaitable<void> run() {
    std::exception_ptr failure;
    try {
      co_await load_initial_data();
      if (auto entities = file_doc_["createEntities"].as_array()) co_await create_entities(*entities);
      if (auto ops = test_["operations"].as_array())
        for (const auto& op : *ops) co_await execute_operation(*op.as_document());
    } catch (...) {
      failure = std::current_exception();
    }
    co_await finish_threads(failure);
    for (auto* c : entities_.clients()) c->listening = false;
    co_await disable_fail_points(failure);
    if (!failure) {
      try {
        check_expected_events();
        if (auto expected = test_["expectLogMessages"].as_array())
          for (const auto& entry : *expected) check_log_messages(entry.as_document().value_or(bson::view()), entities_);
        co_await check_outcome();
      } catch (...) {
        failure = std::current_exception();
      }
    }
    co_await clear_entities();
    if (ctx_.started_transaction || failure) co_await kill_all_sessions(*file_.internal);
    if (failure) std::rethrow_exception(failure);
  }

  static awaitable<void> kill_all_sessions(mongowire::client& internal) {
    // "Terminating Open Transactions"; Interrupted (11601), Unauthorized (13) and
    // CommandNotFound (59) may be ignored.
    bson::document cmd;
    cmd.append_array_of("killAllSessions", [](bson::array_builder&) {});
    bson::document reply;
    diagnostics diag;
    auto ec = co_await internal.run_command("admin", std::move(cmd), reply, diag);
    if (ec && ec != make_server_error(11601) && ec != make_server_error(13) && ec != make_server_error(59))
      throw runner_error("killAllSessions failed: " + error_summary(ec, diag));
  }

 private:
  // ---- setup

  awaitable<void> load_initial_data() {
    auto data = file_doc_["initialData"].as_array();
    if (!data) co_return;
    for (const auto& entry : *data) {
      auto cd = entry.as_document();
      if (!cd) throw runner_error("initialData must contain documents");
      arguments a(*cd, "initialData");
      auto coll = a.required_string("collectionName");
      auto db_name = a.required_string("databaseName");
      auto create_options = a.document("createOptions");
      auto docs = a.array("documents");
      a.check_all_used();
      // "All setup operations MUST use the internal MongoClient and a 'majority' write concern."
      collection_options majority;
      majority.write_concern.emplace();
      majority.write_concern->append("w", "majority");
      auto db = file_.internal->get_database(db_name).with_options(majority);
      diagnostics diag;
      if (auto ec = co_await db.drop_collection(coll, diag))
        throw runner_error("initialData: drop " + coll + " failed: " + error_summary(ec, diag));
      const bool has_documents = docs && !docs->empty();
      if (create_options || !has_documents) {
        if (auto ec = co_await db.create_collection(coll, bson::document(create_options.value_or(bson::view())), diag))
          throw runner_error("initialData: create " + coll + " failed: " + error_summary(ec, diag));
      }
      if (has_documents) {
        insert_many_result r;
        const insert_many_options options;
        if (auto ec = co_await db.get_collection(coll).insert_many(documents_of(*docs), options, r, diag))
          throw runner_error("initialData: insert into " + coll + " failed: " + error_summary(ec, diag));
      }
    }
  }

  static std::vector<bson::document> documents_of(bson::view array) {
    std::vector<bson::document> out;
    for (const auto& e : array) {
      auto d = e.as_document();
      if (!d) throw runner_error("expected an array of documents");
      out.emplace_back(*d);
    }
    return out;
  }

  awaitable<void> create_entities(bson::view list) {
    for (const auto& e : list) {
      auto wrapper = e.as_document();
      if (!wrapper || wrapper->count() != 1) throw runner_error("an entity must be a single-key document");
      const auto kind = wrapper->first_key();
      auto spec_doc = *(*wrapper)[kind].as_document();
      if (kind == "client") co_await create_client(spec_doc);
      else if (kind == "database") create_database(spec_doc);
      else if (kind == "collection") create_collection(spec_doc);
      else if (kind == "session") create_session(spec_doc);
      else if (kind == "bucket") gridfs_buckets_.emplace_back(spec_doc["id"].as_string().value_or(""));
      else if (kind == "thread") create_thread(spec_doc);
      else throw runner_error("unsupported entity type '" + std::string(kind) + "'");
    }
    co_return;
  }

  // unified-test-format.md: for a test that may configure a fail point, the runner MAY lower
  // heartbeatFrequencyMS (never when the client sets it) so that a server marked Unknown by
  // a simulated state-change error is rediscovered at once rather than after 10 s: a
  // streaming monitor otherwise waits out maxAwaitTimeMS, since failCommand changes no
  // topologyVersion.
  bson::document with_fast_recovery(bson::view uri_options) const {
    bson::document out(uri_options);
    if (!uri_options.contains("heartbeatFrequencyMS") && file_uses_fail_points_)
      out.append("heartbeatFrequencyMS", std::int32_t{500});  // uri-options.md: the smallest allowed
    return out;
  }

  // unified-test-format.md "client" awaitMinPoolSizeMS: wait until every known server's pool
  // holds minPoolSize established connections; failing that within the time, the test fails.
  awaitable<void> await_min_pool_size(const client_entity& c, std::size_t min_pool_size,
                                      std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto g = c.client->gauges();
      bool ready = !g.pools.empty();
      for (const auto& p : g.pools) ready = ready && p.total - p.pending >= min_pool_size;
      if (ready) co_return;
      if (std::chrono::steady_clock::now() >= deadline)
        throw runner_error("client " + c.id + ": the pools did not reach minPoolSize " + std::to_string(min_pool_size) +
                           " within awaitMinPoolSizeMS (" + std::to_string(limit.count()) + " ms)");
      co_await sleep_for(poll_interval);
    }
  }

  // unified-test-format.md "useMultipleMongoses": a sharded client not asking for every mongos
  // gets the first one only (as the fail points of `failPoint` need); a load-balanced one the
  // load balancer in front of several mongos when true or unset, else the one in front of one.
  std::string client_base_uri(std::optional<bool> use_multiple_mongoses) const {
    if (file_.server.topology == "sharded" && !use_multiple_mongoses.value_or(false))
      return uri_with_hosts(file_.uri, hosts_of(file_.uri).front());
    if (file_.server.topology == "load-balanced" && !file_.server.serverless)
      return use_multiple_mongoses.value_or(true) ? file_.multi_mongos_lb_uri : file_.single_mongos_lb_uri;
    return file_.uri;
  }

  awaitable<void> create_client(bson::view spec_doc) {
    arguments a(spec_doc, "client entity");
    auto c = std::make_unique<client_entity>();
    c->id = a.required_string("id");
    bson::view uri_options = a.document("uriOptions").value_or(bson::view());
    const auto use_multiple_mongoses = a.boolean("useMultipleMongoses");
    if (auto observe = a.array("observeEvents"))
      for (const auto& n : *observe) c->observe.emplace(n.as_string().value_or(""));
    if (auto ignore = a.array("ignoreCommandMonitoringEvents"))
      for (const auto& n : *ignore) c->ignore_commands.emplace(n.as_string().value_or(""));
    c->observe_sensitive = a.boolean("observeSensitiveCommands").value_or(false);
    const auto observe_log = a.document("observeLogMessages");
    const auto await_min_pool_ms = a.integer("awaitMinPoolSizeMS");
    a.check_all_used();
    client_options opts;
    auto* raw = c.get();
    if (observe_log) {
      opts.log_levels = observed_log_levels(*observe_log);
      opts.on_log = [raw](const log_message& m) { record_log_message(*raw, m); };
    }
    opts.on_command = [raw](const command_event& e) { record_command_event(*raw, e); };
    opts.on_pool_event = [raw](const pool_event& e) { record_pool_event(*raw, e); };
    opts.on_sdam_event = [raw](const sdam_event& e) { record_sdam_event(*raw, sdam_event_document(e)); };
    const auto uri = uri_with_options(client_base_uri(use_multiple_mongoses), with_fast_recovery(uri_options));
    try {
      c->client = std::make_unique<mongowire::client>(file_.executor, uri, std::move(opts));
    } catch (const mongowire::error& err) {
      throw runner_error("client " + c->id + ": cannot use " + uri + ": " + err.what());
    }
    const auto min_pool_size = uri_options["minPoolSize"].as_integer().value_or(0);
    auto& added = *c;
    entities_.add(std::move(c));
    if (await_min_pool_ms && min_pool_size > 0)
      co_await await_min_pool_size(added, static_cast<std::size_t>(min_pool_size),
                                   std::chrono::milliseconds(*await_min_pool_ms));
  }

  void create_thread(bson::view spec_doc) {
    arguments a(spec_doc, "thread entity");
    auto id = a.required_string("id");
    a.check_all_used();
    entities_.add(id, std::make_unique<thread_entity>());
  }

  void create_database(bson::view spec_doc) {
    arguments a(spec_doc, "database entity");
    auto id = a.required_string("id");
    database_entity d;
    d.client = &entities_.client(a.required_string("client"));
    d.name = a.required_string("databaseName");
    if (auto o = a.document("databaseOptions")) d.options = collection_options_from(*o);
    a.check_all_used();
    entities_.add(id, std::move(d));
  }

  void create_collection(bson::view spec_doc) {
    arguments a(spec_doc, "collection entity");
    auto id = a.required_string("id");
    const auto& db = entities_.database(a.required_string("database"));
    collection_entity c;
    c.client = db.client;
    c.database = db.name;
    c.name = a.required_string("collectionName");
    c.options = db.options;
    if (auto o = a.document("collectionOptions")) {
      auto own = collection_options_from(*o);
      if (own.read_concern) c.options.read_concern = std::move(own.read_concern);
      if (own.write_concern) c.options.write_concern = std::move(own.write_concern);
      if (own.read_preference) c.options.read_preference = std::move(own.read_preference);
      if (own.timeout) c.options.timeout = own.timeout;
    }
    a.check_all_used();
    entities_.add(id, std::move(c));
  }

  void create_session(bson::view spec_doc) {
    arguments a(spec_doc, "session entity");
    auto id = a.required_string("id");
    auto s = std::make_unique<session_entity>();
    s->client = &entities_.client(a.required_string("client"));
    session_options opts;
    if (auto o = a.document("sessionOptions")) {
      arguments so(*o, "sessionOptions");
      opts.causal_consistency = so.boolean("causalConsistency");
      opts.snapshot = so.boolean("snapshot");
      if (auto name = so.string("snapshotTime")) {
        // The name of an entity saved from getSnapshotTime.
        auto t = entities_.bson_entity(*name).get().as_timestamp();
        if (!t) throw runner_error("snapshotTime entity '" + *name + "' is not a timestamp");
        opts.snapshot_time = t;
      }
      if (auto d = so.document("defaultTransactionOptions"))
        opts.default_transaction_options = transaction_options_from(*d);
      if (auto t = so.integer("defaultTimeoutMS")) opts.default_timeout = std::chrono::milliseconds(*t);
      so.check_all_used();
    }
    a.check_all_used();
    try {
      s->session.emplace(s->client->client->start_session(opts));
    } catch (const mongowire::error& err) {
      throw runner_error("session " + id + ": " + err.what());
    }
    s->lsid = s->session->id();
    entities_.add(id, std::move(s));
  }

  // ---- operations

  awaitable<std::pair<error_code, diagnostics>> execute_operation(bson::view op) {
    auto object = op["object"].as_string();
    auto name = op["name"].as_string();
    if (!object || !name) throw runner_error("an operation needs 'name' and 'object' strings");
    const std::string where = std::string(*object) + "." + std::string(*name);
    // Issue 10: GridFS is outside this engine's scope; a bucket entity only records its id
    // so that a test using it is skipped, while tests that merely create one still run.
    if (std::find(gridfs_buckets_.begin(), gridfs_buckets_.end(), *object) != gridfs_buckets_.end())
      throw test_skipped("GridFS is outside this engine's scope");
    if (*object == "testRunner") {
      co_await special_operation(*name, op["arguments"].as_document().value_or(bson::view()));
      co_return std::pair<error_code, diagnostics>{};
    }
    for (const auto& f : op) {
      static constexpr std::string_view known[] = {
          "name", "object", "arguments", "expectError", "expectResult", "saveResultAsEntity", "ignoreResultAndError"};
      if (std::find(std::begin(known), std::end(known), f.key()) == std::end(known))
        throw runner_error(where + ": unknown operation field '" + std::string(f.key()) + "'");
    }
    operation_outcome out = co_await run_entity_operation(op, ctx_);
    if (op["ignoreResultAndError"].as_bool().value_or(false)) co_return std::pair{out.ec, std::move(out.diag)};
    if (auto expected = op["expectError"].as_document()) {
      if (!out.ec) throw test_failure(where + ": expected an error, the operation succeeded");
      check_expected_error(where, *expected, out);
    } else if (out.ec) {
      throw test_failure(where + ": unexpected error: " + error_summary(out.ec, out.diag));
    }
    if (auto expected = op["expectResult"])
      assert_matches(expected, out.result.get(), out.root, entities_, where + " result");
    if (auto save = op["saveResultAsEntity"].as_string(); save && out.cursor) {
      entities_.add(std::string(*save), std::move(out.cursor));
    } else if (save && out.collection) {
      entities_.add(std::string(*save), std::move(*out.collection));
    } else if (save) {
      if (!out.result.has_value()) throw runner_error(where + ": no result to save as " + std::string(*save));
      entities_.add(std::string(*save), std::move(out.result));
    }
    co_return std::pair{out.ec, std::move(out.diag)};
  }

  // expectedError (unified-test-format.md).
  void check_expected_error(const std::string& where, bson::view expected, const operation_outcome& out) {
    const auto& diag = out.diag;
    const bool from_server = out.ec.category() == server_category();
    auto fail = [&](const std::string& what) {
      throw test_failure(where + " error: " + what + "; the error was " + error_summary(out.ec, diag));
    };
    for (const auto& f : expected) {
      const auto key = f.key();
      if (key == "isError") continue;
      if (key == "isTimeoutError") {
        // client-side-operations-timeout.md "Errors": the distinct timeout error.
        if (f.as_bool().value_or(false) != (out.ec == client_errc::timeout))
          fail(f.as_bool().value_or(false) ? "expected a timeout error" : "expected an error other than a timeout");
        continue;
      }
      if (key == "isClientError") {
        // "Client errors include ... parameter validation errors before a command is sent to
        // the server; network errors."
        if (f.as_bool().value_or(false) == from_server)
          fail(from_server ? "expected a client error" : "expected a server error");
      } else if (key == "errorContains") {
        auto needle = f.as_string().value_or("");
        bool found = icontains(diag.client_message, needle) || icontains(diag.server_message, needle) ||
                     icontains(out.ec.message(), needle);
        for (const auto& w : diag.write_errors) found = found || icontains(w.errmsg, needle);
        if (diag.write_concern) found = found || icontains(diag.write_concern->errmsg, needle);
        if (!found) fail("expected the message to contain \"" + std::string(needle) + "\"");
      } else if (key == "errorCode") {
        auto code = f.as_integer().value_or(-1);
        bool found = diag.server_code == code || (from_server && out.ec.value() == code);
        for (const auto& w : diag.write_errors) found = found || w.code == code;
        if (diag.write_concern) found = found || diag.write_concern->code == code;
        if (!found) fail("expected code " + std::to_string(code));
      } else if (key == "errorCodeName") {
        auto name = lower(f.as_string().value_or(""));
        bool found = lower(diag.code_name) == name || (from_server && lower(server_code_name(out.ec.value())) == name);
        for (const auto& w : diag.write_errors) found = found || lower(w.code_name) == name;
        if (diag.write_concern) found = found || lower(diag.write_concern->code_name) == name;
        if (!found) fail("expected codeName " + std::string(*f.as_string()));
      } else if (key == "errorLabelsContain" || key == "errorLabelsOmit") {
        const bool contain = key == "errorLabelsContain";
        const bson::view labels = f.as_array().value_or(bson::view());
        for (const auto& l : labels) {
          auto label = l.as_string().value_or("");
          bool has = diag.has_label(label) || (diag.write_concern && diag.write_concern->labels.contains(label));
          if (has != contain) fail(std::string(contain ? "expected label " : "unexpected label ") + std::string(label));
        }
      } else if (key == "expectResult") {
        assert_matches(f, out.result.get(), out.root, entities_, where + " error result");
      } else if (key == "errorResponse") {
        bson::document holder;
        holder.append("v", diag.reply);
        assert_matches(f, holder["v"], match_root::document, entities_, where + " errorResponse");
      } else if (key == "writeConcernErrors") {
        array_of_write_concern_errors(where, f, out);
      } else if (key == "writeErrors") {
        map_of_write_errors(where, f, diag);
      } else {
        throw runner_error(where + ": unsupported expectError field '" + std::string(key) + "'");
      }
    }
  }

  // clientBulkWrite reports every command's write concern error (out.write_concern_errors),
  // other operations their one (diag.write_concern).
  void array_of_write_concern_errors(const std::string& where, const bson::element& expected,
                                     const operation_outcome& out) {
    bson::array_builder actual;
    auto push = [&](const write_concern_error& e) {
      bson::document d;
      d.append("code", e.code);
      d.append("message", e.errmsg);
      if (!e.err_info.get_view().empty()) d.append("details", e.err_info);
      actual.push(d.get_view());
    };
    for (const auto& e : out.write_concern_errors) push(e);
    if (out.write_concern_errors.empty() && out.diag.write_concern) push(*out.diag.write_concern);
    bson::document holder;
    holder.append_array("v", actual.get_view());
    assert_matches(expected, holder["v"], match_root::array_of_roots, entities_, where + " writeConcernErrors");
  }

  // expectedError.writeErrors: {"<index>": writeError} with exactly the error's indexes, each
  // matched as a root-level document.
  void map_of_write_errors(const std::string& where, const bson::element& expected, const diagnostics& diag) {
    const bson::view wanted = expected.as_document().value_or(bson::view());
    if (wanted.count() != diag.write_errors.size())
      throw test_failure(where + " writeErrors: expected " + std::to_string(wanted.count()) + " write errors, got " +
                         std::to_string(diag.write_errors.size()));
    for (const auto& w : diag.write_errors) {
      const std::string index = std::to_string(w.index);
      auto e = wanted[index];
      if (!e) throw test_failure(where + " writeErrors: unexpected write error at index " + index);
      bson::document d;
      d.append("code", w.code);
      d.append("message", w.errmsg);
      if (!w.err_info.get_view().empty()) d.append("details", w.err_info);
      bson::document holder;
      holder.append("v", d);
      assert_matches(e, holder["v"], match_root::document, entities_, where + " writeErrors." + index);
    }
  }

  // ---- special test operations (unified-test-format.md "Special Test Operations")

  awaitable<void> special_operation(std::string_view name, bson::view arguments_doc) {
    const std::string where = "testRunner." + std::string(name);
    arguments a(arguments_doc, where);
    const auto& table = special_operations();
    auto it = table.find(name);
    if (it == table.end()) throw runner_error("unsupported special operation " + where);
    co_await (this->*(it->second))(name, a, where);
  }

  using special_handler = awaitable<void> (test_execution::*)(std::string_view, arguments&, const std::string&);

  static const std::map<std::string_view, special_handler>& special_operations() {
    static const std::map<std::string_view, special_handler> table = {
        {"failPoint", &test_execution::fail_point},
        {"targetedFailPoint", &test_execution::targeted_fail_point},
        {"assertSessionTransactionState", &test_execution::assert_session_transaction_state},
        {"assertSessionPinned", &test_execution::assert_session_pinned},
        {"assertSessionUnpinned", &test_execution::assert_session_pinned},
        {"assertSessionDirty", &test_execution::assert_session_dirty},
        {"assertSessionNotDirty", &test_execution::assert_session_dirty},
        {"assertSameLsidOnLastTwoCommands", &test_execution::assert_lsid_on_last_two_commands},
        {"assertDifferentLsidOnLastTwoCommands", &test_execution::assert_lsid_on_last_two_commands},
        {"assertCollectionExists", &test_execution::assert_collection_exists},
        {"assertCollectionNotExists", &test_execution::assert_collection_exists},
        {"assertIndexExists", &test_execution::assert_index_exists},
        {"assertIndexNotExists", &test_execution::assert_index_exists},
        {"createEntities", &test_execution::create_entities_operation},
        {"wait", &test_execution::wait_operation},
        {"runOnThread", &test_execution::run_on_thread},
        {"waitForThread", &test_execution::wait_for_thread},
        {"waitForEvent", &test_execution::wait_for_event},
        {"assertEventCount", &test_execution::assert_event_count},
        {"assertNumberConnectionsCheckedOut", &test_execution::assert_number_connections_checked_out},
        {"recordTopologyDescription", &test_execution::record_topology_description},
        {"assertTopologyType", &test_execution::assert_topology_type},
        {"waitForPrimaryChange", &test_execution::wait_for_primary_change},
    };
    return table;
  }

  awaitable<void> fail_point(std::string_view, arguments& a, const std::string& where) {
    auto& c = entities_.client(a.required_string("client"));
    auto fp = a.required_document("failPoint");
    a.check_all_used();
    auto fp_name = fp["configureFailPoint"].as_string();
    if (!fp_name) throw runner_error(where + ": failPoint needs configureFailPoint");
    fail_points_.push_back({std::string(*fp_name), &c});
    bson::document reply;
    diagnostics diag;
    if (auto ec = co_await c.client->run_command("admin", bson::document(fp), reply, diag))
      throw runner_error(where + ": configureFailPoint failed: " + error_summary(ec, diag));
  }

  // unified-test-format.md "targetedFailPoint": on the mongos the session is pinned to,
  // through a direct connection to it; disabled at the test's end like any fail point.
  awaitable<void> targeted_fail_point(std::string_view, arguments& a, const std::string& where) {
    auto& s = entities_.session(a.required_string("session"));
    auto fp = a.required_document("failPoint");
    a.check_all_used();
    auto pinned = s.session->pinned_server();
    if (!pinned) throw runner_error(where + ": the session is not pinned to a mongos server");
    auto fp_name = fp["configureFailPoint"].as_string();
    if (!fp_name) throw runner_error(where + ": failPoint needs configureFailPoint");
    fail_points_.push_back({std::string(*fp_name), nullptr});
    diagnostics diag;
    bson::document command(fp);
    if (auto ec = co_await run_on_mongos(*pinned, std::move(command), diag))
      throw runner_error(where + ": configureFailPoint on " + *pinned + " failed: " + error_summary(ec, diag));
  }

  // One admin command on one mongos of the deployment, through a direct connection (empty
  // host: through the internal client).
  awaitable<mongowire::error_code> run_on_mongos(const std::string& host, bson::document command, diagnostics& diag) {
    std::optional<mongowire::client> direct;
    mongowire::client* target = file_.internal;
    if (!host.empty()) {
      bson::document options;
      options.append("directConnection", true);
      target = &direct.emplace(file_.executor, uri_with_options(uri_with_hosts(file_.uri, host), options));
    }
    bson::document reply;
    auto ec = co_await target->run_command("admin", std::move(command), reply, diag);
    if (direct) co_await direct->close();
    co_return ec;
  }

  awaitable<void> assert_session_transaction_state(std::string_view, arguments& a, const std::string& where) {
    auto& s = entities_.session(a.required_string("session"));
    auto state = a.required_string("state");
    a.check_all_used();
    auto actual = spec_state_name(s.session->current_transaction_state());
    if (actual != state) throw test_failure(where + ": expected state " + state + ", got " + actual);
    co_return;
  }

  awaitable<void> assert_session_pinned(std::string_view name, arguments& a, const std::string& where) {
    auto& s = entities_.session(a.required_string("session"));
    a.check_all_used();
    // transactions.md "Mongos Pinning": only sessions on sharded deployments are ever pinned.
    const bool want = name == "assertSessionPinned";
    const auto pinned = s.session->pinned_server();
    if (pinned.has_value() != want)
      throw test_failure(where + ": the session is " + (pinned ? "pinned to " + *pinned : std::string("not pinned")));
    co_return;
  }

  awaitable<void> assert_session_dirty(std::string_view name, arguments& a, const std::string& where) {
    auto& s = entities_.session(a.required_string("session"));
    a.check_all_used();
    const bool want = name == "assertSessionDirty";
    if (s.session->is_dirty() != want) throw test_failure(where + ": the session is " + (want ? "not dirty" : "dirty"));
    co_return;
  }

  awaitable<void> assert_lsid_on_last_two_commands(std::string_view name, arguments& a, const std::string& where) {
    auto& c = entities_.client(a.required_string("client"));
    a.check_all_used();
    const auto& started = c.started_commands;
    if (started.size() < 2) throw test_failure(where + ": fewer than two commands were started");
    auto last = started[started.size() - 1]["command"].as_document()->find("lsid");
    auto previous = started[started.size() - 2]["command"].as_document()->find("lsid");
    if (!last || !previous) throw test_failure(where + ": a command has no lsid");
    const bool same = values_equal(last, previous);
    if (same != (name == "assertSameLsidOnLastTwoCommands"))
      throw test_failure(where + ": lsids " + describe(previous) + " and " + describe(last));
    co_return;
  }

  awaitable<void> assert_collection_exists(std::string_view name, arguments& a, const std::string& where) {
    auto coll = a.required_string("collectionName");
    auto db = a.required_string("databaseName");
    a.check_all_used();
    const bool exists = co_await collection_exists(db, coll);
    if (exists != (name == "assertCollectionExists"))
      throw test_failure(where + ": collection " + db + "." + coll + (exists ? " exists" : " does not exist"));
  }

  awaitable<void> assert_index_exists(std::string_view name, arguments& a, const std::string& where) {
    auto coll = a.required_string("collectionName");
    auto db = a.required_string("databaseName");
    auto index = a.required_string("indexName");
    a.check_all_used();
    const bool exists = co_await index_exists(db, coll, index);
    if (exists != (name == "assertIndexExists"))
      throw test_failure(where + ": index " + index + " on " + db + "." + coll +
                         (exists ? " exists" : " does not exist"));
  }

  awaitable<void> create_entities_operation(std::string_view, arguments& a, const std::string&) {
    auto list = *a.array("entities");
    a.check_all_used();
    co_await create_entities(list);
  }

  awaitable<void> wait_operation(std::string_view, arguments& a, const std::string&) {
    auto ms = a.integer("ms").value_or(0);
    a.check_all_used();
    co_await sleep_for(std::chrono::milliseconds(ms));
  }

  static awaitable<void> sleep_for(std::chrono::milliseconds ms) {
    asio::steady_timer t(co_await asio::this_coro::executor, ms);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  // ---- threads (unified-test-format.md "runOnThread", "waitForThread")

  awaitable<void> run_on_thread(std::string_view, arguments& a, const std::string& where) {
    auto& t = entities_.thread(a.required_string("thread"));
    auto op = a.required_document("operation");
    a.check_all_used();
    if (!op["name"].as_string() || !op["object"].as_string())
      throw runner_error(where + ": the operation needs 'name' and 'object' strings");
    // "MUST NOT wait for the operation to complete": queued for the thread's worker, which
    // starts as soon as the main sequence next waits.
    t.queue.push_back(op);
    if (t.busy) co_return;
    t.busy = true;
    asio::co_spawn(file_.executor, thread_worker(t), asio::detached);
  }

  // Runs the thread's operations in order until its queue is empty. A failure is kept for
  // waitForThread ("If any of the operation's test assertions fail, the entire test case
  // MUST fail"); the thread goes on with the operations queued after it.
  awaitable<void> thread_worker(thread_entity& t) {
    while (!t.queue.empty()) {
      const bson::view op = t.queue.front();
      t.queue.pop_front();
      try {
        co_await execute_operation(op);
      } catch (...) {
        if (!t.failure) t.failure = std::current_exception();
      }
    }
    t.busy = false;
  }

  awaitable<void> wait_for_thread(std::string_view, arguments& a, const std::string& where) {
    auto id = a.required_string("thread");
    auto& t = entities_.thread(id);
    a.check_all_used();
    // "If the waitForThread operation is not satisfied after 10 seconds, this operation MUST
    // cause a test failure."
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (t.busy) {
      if (std::chrono::steady_clock::now() > deadline)
        throw test_failure(where + ": " + id + " did not finish its operations within 10 seconds");
      co_await sleep_for(poll_interval);
    }
    if (auto failure = std::exchange(t.failure, nullptr)) std::rethrow_exception(failure);
  }

  // After the operations: every thread's worker must end before its entities go away. A
  // thread the test never waited for fails the test like waitForThread would.
  awaitable<void> finish_threads(std::exception_ptr& failure) {
    for (auto* t : entities_.threads()) {
      while (t->busy) co_await sleep_for(poll_interval);
      if (t->failure && !failure) failure = std::exchange(t->failure, nullptr);
    }
  }

  // ---- events (unified-test-format.md "waitForEvent", "assertEventCount")

  awaitable<void> wait_for_event(std::string_view, arguments& a, const std::string& where) {
    auto& c = entities_.client(a.required_string("client"));
    auto event = a.required_document("event");
    auto count = a.integer("count");
    a.check_all_used();
    if (!count) throw runner_error(where + ": count must be an integer");
    // "not satisfied after 10 seconds ... MUST cause a test failure".
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (count_matching_events(event, c, entities_) < static_cast<std::size_t>(*count)) {
      if (std::chrono::steady_clock::now() > deadline)
        throw test_failure(where + ": " + c.id + " published " +
                           std::to_string(count_matching_events(event, c, entities_)) + " of " +
                           std::to_string(*count) + " events " + event.to_relaxed_json() + " within 10 seconds");
      co_await sleep_for(poll_interval);
    }
  }

  awaitable<void> assert_event_count(std::string_view, arguments& a, const std::string& where) {
    auto& c = entities_.client(a.required_string("client"));
    auto event = a.required_document("event");
    auto count = a.integer("count");
    a.check_all_used();
    if (!count) throw runner_error(where + ": count must be an integer");
    const auto n = count_matching_events(event, c, entities_);
    if (n != static_cast<std::size_t>(*count))
      throw test_failure(where + ": expected " + std::to_string(*count) + " events " + event.to_relaxed_json() + ", " +
                         c.id + " published " + std::to_string(n));
    co_return;
  }

  awaitable<void> assert_number_connections_checked_out(std::string_view, arguments& a, const std::string& where) {
    auto& c = entities_.client(a.required_string("client"));
    auto expected = a.integer("connections");
    a.check_all_used();
    if (!expected) throw runner_error(where + ": connections must be an integer");
    if (c.connections_checked_out != *expected)
      throw test_failure(where + ": expected " + std::to_string(*expected) + " connections checked out, " + c.id +
                         " has " + std::to_string(c.connections_checked_out));
    co_return;
  }

  // ---- topology descriptions ("recordTopologyDescription", "assertTopologyType",
  // "waitForPrimaryChange")

  awaitable<void> record_topology_description(std::string_view, arguments& a, const std::string&) {
    auto& c = entities_.client(a.required_string("client"));
    auto id = a.required_string("id");
    a.check_all_used();
    entities_.add(id, topology_description_entity{c.topology});
    co_return;
  }

  awaitable<void> assert_topology_type(std::string_view, arguments& a, const std::string& where) {
    const auto& t = entities_.topology_description(a.required_string("topologyDescription"));
    auto expected = a.required_string("topologyType");
    a.check_all_used();
    auto actual = t.description["type"].as_string().value_or("(none recorded)");
    if (actual != expected) throw test_failure(where + ": expected " + expected + ", got " + std::string(actual));
    co_return;
  }

  awaitable<void> wait_for_primary_change(std::string_view, arguments& a, const std::string& where) {
    auto& c = entities_.client(a.required_string("client"));
    const auto& prior = entities_.topology_description(a.required_string("priorTopologyDescription"));
    const auto timeout = std::chrono::milliseconds(a.integer("timeoutMS").value_or(10000));
    a.check_all_used();
    // "If the provided TopologyDescription does not include a primary, then this operation
    // will wait until the client discovers any primary."
    const auto before = primary_of(prior.description);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto now = primary_of(c.topology);
      if (now && now != before) co_return;
      if (std::chrono::steady_clock::now() > deadline)
        throw test_failure(where + ": " + c.id + " found no new primary within " + std::to_string(timeout.count()) +
                           " ms (before: " + before.value_or("none") + ", now: " + now.value_or("none") + ")");
      co_await sleep_for(poll_interval);
    }
  }

  // The address of the RSPrimary in a topology description document, if any.
  static std::optional<std::string> primary_of(const bson::document& topology) {
    const bson::view servers = topology["servers"].as_array().value_or(bson::view());
    for (const auto& s : servers) {
      const bson::view server = s.as_document().value_or(bson::view());
      if (server["type"].as_string() == std::optional<std::string_view>("RSPrimary"))
        return std::string(server["address"].as_string().value_or(""));
    }
    return std::nullopt;
  }

  static constexpr std::chrono::milliseconds poll_interval{5};

  static std::string spec_state_name(transaction_state s) {
    switch (s) {
      case transaction_state::none: return "none";
      case transaction_state::starting: return "starting";
      case transaction_state::in_progress: return "in_progress";
      case transaction_state::committed:
      case transaction_state::committed_empty: return "committed";
      case transaction_state::aborted: return "aborted";
    }
    return "unknown";
  }

  awaitable<bool> collection_exists(const std::string& db, const std::string& coll) {
    std::vector<bson::document> collections;
    diagnostics diag;
    const list_collections_options options;
    if (auto ec = co_await file_.internal->get_database(db).list_collections(options, collections, diag))
      throw runner_error("listCollections failed: " + error_summary(ec, diag));
    for (const auto& c : collections)
      if (c["name"].as_string() == std::optional<std::string_view>(coll)) co_return true;
    co_return false;
  }

  awaitable<bool> index_exists(const std::string& db, const std::string& coll, const std::string& index) {
    std::vector<bson::document> indexes;
    diagnostics diag;
    auto ec = co_await file_.internal->get_collection(db, coll).list_indexes(indexes, diag);
    if (ec == make_server_error(server_code::namespace_not_found)) co_return false;
    if (ec) throw runner_error("listIndexes failed: " + error_summary(ec, diag));
    for (const auto& i : indexes)
      if (i["name"].as_string() == std::optional<std::string_view>(index)) co_return true;
    co_return false;
  }

  // ---- after the operations

  // Each mongos has its own fail points: on a sharded deployment they are disabled on every
  // one of them, whichever the test set them on. Behind a load balancer the internal client
  // reaches the single-mongos one; a fail point set through a client entity is also disabled
  // through it, whose pooled connection leads to the mongos that took it.
  awaitable<void> disable_fail_points(std::exception_ptr& failure) {
    const bool sharded = file_.server.topology == "sharded";
    const auto routers = sharded ? hosts_of(file_.uri) : std::vector<std::string>{""};
    for (const auto& fp : fail_points_) {
      for (const auto& host : routers) {
        diagnostics diag;
        auto ec = co_await run_on_mongos(host, fail_point_off(fp.name), diag);
        if (ec && !failure)
          failure =
              std::make_exception_ptr(runner_error("disabling fail point " + fp.name + ": " + error_summary(ec, diag)));
      }
      if (file_.server.topology == "load-balanced" && fp.client) co_await disable_through(*fp.client, fp.name);
    }
  }

  // Best effort, its error ignored: the test may have closed the entity. A fail point left on
  // a second mongos is one a later test's multi-mongos client may meet, as in drivers' CI.
  static awaitable<void> disable_through(client_entity& c, const std::string& name) {
    bson::document reply;
    diagnostics diag;
    auto cmd = fail_point_off(name);
    co_await c.client->run_command("admin", std::move(cmd), reply, diag);
  }

  static bson::document fail_point_off(const std::string& name) {
    bson::document cmd;
    cmd.append("configureFailPoint", name);
    cmd.append("mode", "off");
    return cmd;
  }

  // test.expectEvents: each client's events of one monitor, in order (expectedEventsForClient).
  void check_expected_events() {
    auto list = test_["expectEvents"].as_array();
    if (!list) return;
    for (const auto& entry : *list) {
      arguments a(*entry.as_document(), "expectEvents");
      auto& c = entities_.client(a.required_string("client"));
      const auto monitor = monitor_named(a.string("eventType").value_or("command"));
      auto expected = *a.array("events");
      const bool ignore_extra = a.boolean("ignoreExtraEvents").value_or(false);
      a.check_all_used();
      const auto& actual = events_of(c, monitor);
      const std::string where = "events of " + c.id;
      for (const auto& e : expected) {
        // "The events allowed in an expectedEvent object depend on the value of eventType".
        auto doc = e.as_document().value_or(bson::view());
        if (doc.count() != 1 || monitor_of(doc.first_key()) != monitor)
          throw runner_error(where + ": " + doc.to_relaxed_json() + " is not an event of that eventType");
      }
      const auto expected_count = expected.count();
      if (actual.size() < expected_count || (!ignore_extra && actual.size() != expected_count))
        throw test_failure(where + ": expected " + std::to_string(expected_count) + " events, got " +
                           std::to_string(actual.size()) + ": " + event_list(actual));
      std::size_t i = 0;
      for (const auto& e : expected) {
        check_event(*e.as_document(), actual[i], entities_, where + "[" + std::to_string(i) + "]");
        ++i;
      }
    }
  }

  awaitable<void> check_outcome() {
    auto outcome = test_["outcome"].as_array();
    if (!outcome) co_return;
    for (const auto& entry : *outcome) {
      arguments a(*entry.as_document(), "outcome");
      auto coll = a.required_string("collectionName");
      auto db = a.required_string("databaseName");
      auto expected = *a.array("documents");
      a.check_all_used();
      // "an ascending sort order on the _id field, a primary read preference, and a local read concern".
      collection_options local;
      local.read_concern.emplace();
      local.read_concern->append("level", "local");
      find_options options;
      options.sort.emplace();
      options.sort->append("_id", 1);
      std::vector<bson::document> docs;
      diagnostics diag;
      auto c = file_.internal->get_collection(db, coll).with_options(local);
      if (auto ec = co_await c.find(bson::view(), std::move(options), docs, diag))
        throw runner_error("outcome: find on " + db + "." + coll + " failed: " + error_summary(ec, diag));
      bson::array_builder actual;
      for (const auto& d : docs) actual.push(d.get_view());
      bson::document holder_actual, holder_expected;
      holder_actual.append_array("v", actual.get_view());
      holder_expected.append_array("v", expected);
      assert_equal_documents(holder_expected["v"], holder_actual["v"], "outcome " + db + "." + coll);
    }
  }

  awaitable<void> clear_entities() {
    // "For each ClientSession in the entity map, the test runner MUST end the session."
    for (auto* s : entities_.sessions())
      if (s->session) co_await s->session->end();
    for (auto* c : entities_.clients())
      if (c->client) co_await c->client->close();
  }

  const file_context& file_;
  bson::view file_doc_;
  bson::view test_;
  entity_map entities_;
  operation_context ctx_{entities_, false, {}};
  struct set_fail_point {
    std::string name;
    client_entity* client = nullptr;  // failPoint: the client entity it was set through
  };
  std::vector<set_fail_point> fail_points_;
  std::vector<std::string> gridfs_buckets_;
  bool file_uses_fail_points_ = false;
};

// ---------------------------------------------------------------- one file

// Fields the runner does not know would otherwise be ignored silently.
void check_known_fields(bson::view doc, std::initializer_list<std::string_view> known, const std::string& where) {
  for (const auto& f : doc)
    if (std::find(known.begin(), known.end(), f.key()) == known.end())
      throw runner_error(where + ": unsupported field '" + std::string(f.key()) + "'");
}

// Issue 10: change streams are outside this engine's scope; tests that open one are
// skipped with that reason (and only those).
bool uses_operation(bson::view ops, std::string_view name) {
  for (const auto& o : ops) {
    auto op = o.as_document();
    if (!op) continue;
    if (op->find("name").as_string() == name) return true;
    auto args = op->find("arguments").as_document();
    if (!args) continue;
    for (auto nested : {args->find("callback"), args->find("operations")})
      if (auto list = nested.as_array(); list && uses_operation(*list, name)) return true;
  }
  return false;
}

std::optional<std::string> out_of_scope(bson::view test) {
  auto ops = test["operations"].as_array();
  if (ops && uses_operation(*ops, "createChangeStream")) return "change streams are outside this engine's scope";
  return std::nullopt;
}

// A test whose fail point blocks a connection for a few milliseconds around a timeout
// (e.g. socketTimeoutMS 100 against blockTimeMS 125) depends on scheduling: on a loaded
// machine the reply and the timer can be handled in either order. Such a test gets up to
// two more runs after a failure, and its report says so; every other test runs once.
bool blocks_connections(bson::view test) {
  auto ops = test["operations"].as_array();
  if (!ops) return false;
  for (const auto& o : *ops) {
    auto data = o.as_document().value_or(bson::view())["arguments"].as_document().value_or(bson::view());
    auto fp = data["failPoint"].as_document().value_or(bson::view())["data"].as_document();
    if (fp && fp->find("blockConnection").as_bool().value_or(false)) return true;
  }
  return false;
}

awaitable<void> run_with_timing_retries(file_context& file, bson::view doc, bson::view test, test_report& r) {
  const int runs = blocks_connections(test) ? 3 : 1;
  for (int run = 1;; ++run) {
    try {
      test_execution exec(file, doc, test);
      co_await exec.run();
      if (run > 1) r.detail = "passed on run " + std::to_string(run) + " of a timing-dependent test";
      co_return;
    } catch (const test_failure&) {
      if (run == runs) throw;
    }
  }
}

awaitable<void> run_tests(file_context& file, bson::view doc, const report_sink& report) {
  auto tests = doc["tests"].as_array();
  if (!tests) throw runner_error("the file has no tests array");
  auto file_requirements = co_await unmet_requirements(doc["runOnRequirements"], file.server, *file.internal);
  for (const auto& t : *tests) {
    auto test = t.as_document();
    if (!test) throw runner_error("tests must contain documents");
    std::string description(test->find("description").as_string().value_or("(no description)"));
    if (!file.options.only.empty() && description.find(file.options.only) == std::string::npos) continue;
    test_report r{test_status::pass, file.display, description, {}};
    try {
      if (file_requirements) {
        r = {test_status::skip, file.display, description, *file_requirements};
      } else if (auto reason = test->find("skipReason").as_string()) {
        r = {test_status::skip, file.display, description, "skipReason: " + std::string(*reason)};
      } else if (auto unmet =
                     co_await unmet_requirements(test->find("runOnRequirements"), file.server, *file.internal)) {
        r = {test_status::skip, file.display, description, *unmet};
      } else if (auto outside = out_of_scope(*test)) {
        r = {test_status::skip, file.display, description, *outside};
      } else {
        check_known_fields(*test,
                           {"description", "runOnRequirements", "skipReason", "operations", "expectEvents",
                            "expectLogMessages", "outcome"},
                           "test");
        co_await run_with_timing_retries(file, doc, *test, r);
      }
    } catch (const test_failure& e) {
      r = {test_status::fail, file.display, description, e.what()};
    } catch (const test_skipped& e) {
      r = {test_status::skip, file.display, description, e.what()};
    } catch (const std::exception& e) {
      r = {test_status::fail, file.display, description, std::string("runner error: ") + e.what()};
    }
    report(r);
  }
}

void check_schema_version(bson::view doc) {
  auto text = doc["schemaVersion"].as_string();
  if (!text) throw runner_error("the file has no schemaVersion");
  auto v = version::parse(*text);
  // "Test Runner Support": same major version, minor (and patch) not newer than ours.
  if (v.major != supported_schema.major || v > supported_schema)
    throw runner_error("schemaVersion " + std::string(*text) + " is not supported (this runner implements up to " +
                       version_string(supported_schema) + ")");
}

}  // namespace

awaitable<void> run_file(std::filesystem::path path, std::string display, runner_options options, report_sink report) {
  auto fail_file = [&](const std::string& why) { report({test_status::fail, display, "(file)", why}); };
  bson::document doc;
  try {
    std::string why;
    auto parsed = read_json_file(path, why);
    if (!parsed) throw runner_error(why);
    doc = std::move(*parsed);
    check_schema_version(doc);
    check_known_fields(
        doc,
        {"description", "schemaVersion", "runOnRequirements", "createEntities", "initialData", "tests", "_yamlAnchors"},
        "test file");
  } catch (const std::exception& e) {
    fail_file(e.what());
    co_return;
  }
  // A fresh in-process deployment per file, of the topology it asks for, unless one was given.
  std::optional<in_process_deployment> server;
  file_context file;
  file.executor = co_await asio::this_coro::executor;
  file.display = display;
  file.options = options;
  std::optional<mongowire::client> internal;
  try {
    if (options.uri) {
      file.uri = *options.uri;
      file.single_mongos_lb_uri = options.single_mongos_lb_uri.value_or("");
      file.multi_mongos_lb_uri = options.multi_mongos_lb_uri.value_or("");
    } else {
      server.emplace(topology_for(doc), requires_auth(doc), max_wire_version_for(doc));
      file.uri = server->uri();
      file.single_mongos_lb_uri = server->uri();
      file.multi_mongos_lb_uri = server->multi_mongos_uri();
    }
    internal.emplace(file.executor, file.uri);
    file.internal = &*internal;
    file.server = co_await describe_deployment(*internal, parse_uri(file.uri), options);
    // "the test runner MUST error if either of these URIs is not provided".
    if (file.server.topology == "load-balanced" && !file.server.serverless &&
        (file.single_mongos_lb_uri.empty() || file.multi_mongos_lb_uri.empty()))
      throw runner_error("a load-balanced deployment needs --single-mongos-lb-uri and --multi-mongos-lb-uri");
    // "The test runner SHOULD terminate any open transactions ... before executing any tests."
    co_await test_execution::kill_all_sessions(*internal);
    co_await run_tests(file, doc, report);
  } catch (const std::exception& e) {
    fail_file(e.what());
  }
  if (internal) co_await internal->close();
}

}  // namespace mongowire::spec
