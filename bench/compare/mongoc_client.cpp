// The workload through libmongoc 1.23, the C driver: one thread and one single-threaded
// mongoc_client_t per worker (the C driver's synchronous model), one session each.
#include <mongoc/mongoc.h>

#include <thread>

#include "run_phases.hpp"

namespace compare {
namespace {

// libmongoc handles of one worker, released in reverse order.
struct mongoc_worker {
  mongoc_client_t* client = nullptr;
  mongoc_collection_t* coll = nullptr;
  mongoc_client_session_t* session = nullptr;
  bson_t opts = BSON_INITIALIZER;  // {sessionId}
  bson_t* filter = nullptr;
  bson_t* update = nullptr;
  std::int64_t next_id;

  explicit mongoc_worker(int w) : next_id(std::int64_t{w + 1} << 40) {}
  ~mongoc_worker() {
    bson_destroy(filter);
    bson_destroy(update);
    bson_destroy(&opts);
    if (session) mongoc_client_session_destroy(session);
    if (coll) mongoc_collection_destroy(coll);
    if (client) mongoc_client_destroy(client);
  }

  std::string open(const std::string& uri) {
    bson_error_t error;
    client = mongoc_client_new(uri.c_str());
    if (!client) return "mongoc cannot use the URI " + uri;
    mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
    coll = mongoc_client_get_collection(client, database_name, collection_name);
    session = mongoc_client_start_session(client, nullptr, &error);
    if (!session || !mongoc_client_session_append(session, &opts, &error))
      return std::string("mongoc_client_start_session: ") + error.message;
    filter = BCON_NEW("_id", BCON_INT64(1));
    update = BCON_NEW("$inc", "{", "n", BCON_INT32(1), "}");
    return {};
  }

  std::string transaction() {
    bson_error_t error;
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_INT64(&doc, "_id", next_id++);
    BSON_APPEND_INT32(&doc, "n", 1);
    const bool ok = mongoc_client_session_start_transaction(session, nullptr, &error) &&
                    mongoc_collection_update_one(coll, filter, update, &opts, nullptr, &error) &&
                    mongoc_collection_insert_one(coll, &doc, &opts, nullptr, &error) &&
                    mongoc_client_session_commit_transaction(session, nullptr, &error);
    bson_destroy(&doc);
    return ok ? std::string() : std::string("libmongoc: ") + error.message;
  }
};

void mongoc_thread(const run_options& o, int w, run_phases& phases, run_record& record) {
  mongoc_worker m(w);
  std::string error = m.open(o.uri);
  worker_loop loop(o, w, phases);
  bool timed = false;
  while (error.empty() && loop.next(timed)) {
    const auto t0 = bench_clock::now();
    error = m.transaction();
    if (timed) loop.record(static_cast<std::uint64_t>((bench_clock::now() - t0).count()));
  }
  loop.finish(record, error);
}

}  // namespace

void run_mongoc(const run_options& o, run_phases& phases, run_record& record) {
  mongoc_init();
  {
    std::vector<std::thread> threads;
    for (int w = 0; w < o.concurrency; ++w)
      threads.emplace_back([&o, w, &phases, &record] { mongoc_thread(o, w, phases, record); });
    for (auto& t : threads) t.join();
  }
  mongoc_cleanup();
}

}  // namespace compare
