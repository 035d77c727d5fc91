#include "mongoc_runner.hpp"

#include <mongoc/mongoc.h>

#include <charconv>
#include <memory>
#include <stdexcept>
#include <thread>

#include "alloc_counter.hpp"

namespace txnbench {

namespace {

// Command monitoring of one worker's client (mongoc calls back on the worker's thread).
// mongoc exposes no byte counters: bytes are the command/reply documents plus the OP_MSG
// header, flag bits and section kind (21 bytes), an estimate within a few bytes per message.
struct mongoc_tally {
  std::uint64_t started = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t retries = 0;  // failures followed by the driver's own retry are not visible
};
constexpr std::uint64_t op_msg_overhead = 21;

// The document's length prefix, read from its bytes: libmongoc's bson_t may live at a
// 16-byte boundary, so its fields are not accessed from C++ (see bson::bson_storage).
std::uint64_t length_of(const bson_t* b) {
  const std::uint8_t* d = bson_get_data(b);
  return std::uint32_t(d[0]) | std::uint32_t(d[1]) << 8 | std::uint32_t(d[2]) << 16 | std::uint32_t(d[3]) << 24;
}

void on_started(const mongoc_apm_command_started_t* e) {
  auto* t = static_cast<mongoc_tally*>(mongoc_apm_command_started_get_context(e));
  ++t->started;
  t->bytes_sent += length_of(mongoc_apm_command_started_get_command(e)) + op_msg_overhead;
}
void on_succeeded(const mongoc_apm_command_succeeded_t* e) {
  auto* t = static_cast<mongoc_tally*>(mongoc_apm_command_succeeded_get_context(e));
  t->bytes_received += length_of(mongoc_apm_command_succeeded_get_reply(e)) + op_msg_overhead;
}
void on_failed(const mongoc_apm_command_failed_t* e) {
  auto* t = static_cast<mongoc_tally*>(mongoc_apm_command_failed_get_context(e));
  t->bytes_received += length_of(mongoc_apm_command_failed_get_reply(e)) + op_msg_overhead;
}

struct bson_holder {
  bson_t b = BSON_INITIALIZER;
  ~bson_holder() { bson_destroy(&b); }
  void reset() {
    bson_destroy(&b);
    bson_init(&b);
  }
};

class mongoc_worker {
 public:
  mongoc_worker(const bench_options& o, run_control& control, int id, const std::string& uri,
                const std::string& coll_name)
      : o_(o),
        control_(control),
        id_(id),
        rng_(o.seed, id),
        pad_(padding_for(o.doc_size)),
        uri_(uri),
        coll_name_(coll_name) {}

  worker_stats stats;
  mongoc_tally tally;

  void run() {
    alloc::enroll_this_thread();
    bson_error_t error;
    mongoc_uri_t* uri = mongoc_uri_new_with_error(uri_.c_str(), &error);
    if (!uri) {
      stats.first_error = std::string("mongoc cannot parse the URI: ") + error.message;
      ++stats.all.failed;
      control_.stop_now();
      return;
    }
    client_ = mongoc_client_new_from_uri(uri);
    mongoc_uri_destroy(uri);
    mongoc_client_set_error_api(client_, MONGOC_ERROR_API_VERSION_2);
    mongoc_apm_callbacks_t* callbacks = mongoc_apm_callbacks_new();
    mongoc_apm_set_command_started_cb(callbacks, on_started);
    mongoc_apm_set_command_succeeded_cb(callbacks, on_succeeded);
    mongoc_apm_set_command_failed_cb(callbacks, on_failed);
    mongoc_client_set_apm_callbacks(client_, callbacks, &tally);
    coll_ = mongoc_client_get_collection(client_, o_.database.c_str(), coll_name_.c_str());
    session_ = mongoc_client_start_session(client_, nullptr, &error);
    txn_opts_ = make_transaction_opts();
    if (!session_) {
      stats.first_error = std::string("mongoc_client_start_session: ") + error.message;
      ++stats.all.failed;
      control_.stop_now();
    } else {
      loop();
    }
    tally_at_end = tally;
    cpu_seconds = thread_cpu_seconds();
    mongoc_transaction_opts_destroy(txn_opts_);
    if (session_) mongoc_client_session_destroy(session_);
    mongoc_collection_destroy(coll_);
    mongoc_client_destroy(client_);
    mongoc_apm_callbacks_destroy(callbacks);
  }

  mongoc_tally tally_at_end;
  double cpu_seconds = 0;

 private:
  mongoc_transaction_opt_t* make_transaction_opts() {
    mongoc_transaction_opt_t* t = mongoc_transaction_opts_new();
    mongoc_read_concern_t* rc = mongoc_read_concern_new();
    mongoc_read_concern_set_level(rc, o_.read_concern.c_str());
    mongoc_transaction_opts_set_read_concern(t, rc);
    mongoc_read_concern_destroy(rc);
    mongoc_write_concern_t* wc = mongoc_write_concern_new();
    int w = 0;
    const auto& s = o_.write_concern;
    if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), w); ec == std::errc() && p == s.data() + s.size())
      mongoc_write_concern_set_w(wc, w);
    else if (s == "majority") mongoc_write_concern_set_wmajority(wc, 0);
    else mongoc_write_concern_set_wtag(wc, s.c_str());
    mongoc_transaction_opts_set_write_concern(t, wc);
    mongoc_write_concern_destroy(wc);
    return t;
  }

  void loop() {
    bool measured = false;
    while (control_.begin_transaction(measured)) {
      const auto started = bench_clock::now();
      txn_counters c;
      if (o_.mode == bench_mode::plain) plain_group(c);
      else if (o_.api == txn_api::manual) manual_transaction(c);
      else convenient_transaction(c);
      const auto elapsed = bench_clock::now() - started;
      measured = measured && (control_.phase() == run_control::measure || o_.transactions);
      stats.all.add(c);
      control_.transaction_done(c.commits, c.total_retries(), elapsed);
      if (measured) {
        stats.measured.add(c);
        if (c.commits) stats.latency_ns.record(static_cast<std::uint64_t>(elapsed.count()));
        control_.end_measured_transaction();
      }
      if (c.failed && control_.phase() == run_control::warmup) control_.stop_now();
    }
  }

  // One operation of the mix; `reply` receives the server's reply (error labels).
  bool one_operation(bool in_session, bson_t* reply, bson_error_t* error) {
    bson_holder opts;
    if (in_session && !mongoc_client_session_append(session_, &opts.b, error)) return false;
    switch (rng_.next_op(o_.mix)) {
      case op_kind::insert:
        build_document(doc_, inserted_id(id_, seq_++), pad_);
        return mongoc_collection_insert_one(coll_, doc_.raw(), &opts.b, reply, error);
      case op_kind::update: {
        filter_.clear();
        filter_.append("_id", rng_.next_key(o_.keys));
        if (update_.size() <= 5)
          update_.append_document("$inc", [](mongowire::bson::document& d) { d.append("n", std::int32_t{1}); });
        return mongoc_collection_update_one(coll_, filter_.raw(), update_.raw(), &opts.b, reply, error);
      }
      case op_kind::find: break;
    }
    filter_.clear();
    filter_.append("_id", rng_.next_key(o_.keys));
    BSON_APPEND_INT64(&opts.b, "limit", 1);
    BSON_APPEND_BOOL(&opts.b, "singleBatch", true);
    bson_init(reply);
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll_, filter_.raw(), &opts.b, nullptr);
    const bson_t* doc = nullptr;
    while (mongoc_cursor_next(cursor, &doc)) {
    }
    const bson_t* error_doc = nullptr;
    const bool failed = mongoc_cursor_error_document(cursor, error, &error_doc);
    if (failed && error_doc) bson_copy_to(error_doc, reply), void();
    mongoc_cursor_destroy(cursor);
    return !failed;
  }

  bool run_operations(bool in_session, txn_counters& c, bson_t* reply, bson_error_t* error) {
    for (int i = 0; i < o_.ops_per_txn; ++i) {
      bson_destroy(reply);
      if (!one_operation(in_session, reply, error)) return false;
      ++c.ops;
      control_.ops.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
  }

  void record_failure(txn_counters& c, const bson_error_t& error) {
    ++c.failed;
    if (stats.first_error.empty()) stats.first_error = std::string("mongoc: ") + error.message;
  }

  void plain_group(txn_counters& c) {
    bson_t reply = BSON_INITIALIZER;
    bson_error_t error;
    if (run_operations(false, c, &reply, &error)) ++c.commits;
    else record_failure(c, error);
    bson_destroy(&reply);
  }

  // The MongoDB manual's loops, as in the mongowire workload.
  void manual_transaction(txn_counters& c) {
    bson_t reply = BSON_INITIALIZER;
    bson_error_t error;
    auto label = [&](const char* l) { return mongoc_error_has_label(&reply, l); };
    for (;;) {
      if (!mongoc_client_session_start_transaction(session_, txn_opts_, &error)) {
        record_failure(c, error);
        break;
      }
      if (!run_operations(true, c, &reply, &error)) {
        ++c.aborts;
        control_.aborts.fetch_add(1, std::memory_order_relaxed);
        bson_error_t ignored;
        mongoc_client_session_abort_transaction(session_, &ignored);
        if (label("TransientTransactionError")) {
          ++c.retries[static_cast<std::size_t>(retry_label::transient_transaction_error)];
          continue;
        }
        record_failure(c, error);
        break;
      }
      bool rerun = false;
      for (;;) {
        bson_destroy(&reply);
        if (mongoc_client_session_commit_transaction(session_, &reply, &error)) {
          ++c.commits;
          break;
        }
        if (label("UnknownTransactionCommitResult")) {
          ++c.retries[static_cast<std::size_t>(retry_label::unknown_transaction_commit_result)];
          continue;
        }
        if (label("TransientTransactionError")) {
          ++c.retries[static_cast<std::size_t>(retry_label::transient_transaction_error)];
          rerun = true;
          break;
        }
        record_failure(c, error);
        break;
      }
      if (!rerun) break;
    }
    bson_destroy(&reply);
  }

  struct callback_context {
    mongoc_worker* self;
    txn_counters* counters;
    int attempts = 0;
  };

  static bool callback(mongoc_client_session_t*, void* ctx, bson_t** reply, bson_error_t* error) {
    auto* c = static_cast<callback_context*>(ctx);
    ++c->attempts;
    *reply = bson_new();
    return c->self->run_operations(true, *c->counters, *reply, error);
  }

  void convenient_transaction(txn_counters& c) {
    callback_context ctx{this, &c};
    bson_t reply;
    bson_error_t error;
    const bool ok = mongoc_client_session_with_transaction(session_, callback, txn_opts_, &ctx, &reply, &error);
    bson_destroy(&reply);
    if (ctx.attempts > 1) {
      c.aborts += static_cast<std::uint64_t>(ctx.attempts - 1);
      c.retries[static_cast<std::size_t>(retry_label::transient_transaction_error)] +=
          static_cast<std::uint64_t>(ctx.attempts - 1);
    }
    if (ok) ++c.commits;
    else record_failure(c, error);
  }

  const bench_options& o_;
  run_control& control_;
  int id_;
  workload_rng rng_;
  std::string pad_;
  std::string uri_;
  std::string coll_name_;
  mongoc_client_t* client_ = nullptr;
  mongoc_collection_t* coll_ = nullptr;
  mongoc_client_session_t* session_ = nullptr;
  mongoc_transaction_opt_t* txn_opts_ = nullptr;
  std::uint64_t seq_ = 0;
  mongowire::bson::document doc_, filter_, update_;
};

// Seeds the keys through mongoc too, so that the run needs nothing from mongowire.
std::string seed(const bench_options& o, const std::string& uri_text, const std::string& coll_name) {
  bson_error_t error;
  mongoc_uri_t* uri = mongoc_uri_new_with_error(uri_text.c_str(), &error);
  if (!uri) return std::string("mongoc cannot parse the URI: ") + error.message;
  mongoc_client_t* client = mongoc_client_new_from_uri(uri);
  mongoc_uri_destroy(uri);
  mongoc_collection_t* coll = mongoc_client_get_collection(client, o.database.c_str(), coll_name.c_str());
  mongoc_collection_drop(coll, &error);  // NamespaceNotFound is fine
  std::string result;
  const std::string pad = padding_for(o.doc_size);
  constexpr std::size_t batch = 1000;
  std::vector<mongowire::bson::document> docs;
  const bson_t* ptrs[batch];
  for (std::int64_t first = 0; first < o.keys && result.empty(); first += batch) {
    docs.clear();
    for (std::int64_t k = first; k < std::min<std::int64_t>(o.keys, first + batch); ++k)
      build_document(docs.emplace_back(), k, pad);
    for (std::size_t i = 0; i < docs.size(); ++i) ptrs[i] = docs[i].raw();
    if (!mongoc_collection_insert_many(coll, ptrs, docs.size(), nullptr, nullptr, &error))
      result = std::string("seeding through mongoc failed: ") + error.message;
  }
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  return result;
}

}  // namespace

run_result run_mongoc(const bench_options& o, const std::string& uri, run_control& control,
                      const controller_fn& controller) {
  mongoc_init();
  mongoc_log_set_handler(nullptr, nullptr);  // its warnings (e.g. ignored abort errors) would flood stderr
  run_result result;
  result.driver = "mongoc";
  const std::string coll_name = "txnbench_mongoc";
  // Without a seeded collection there is nothing to measure: end the program with the reason.
  if (auto err = seed(o, uri, coll_name); !err.empty()) throw std::runtime_error(err);
  std::vector<std::unique_ptr<mongoc_worker>> workers;
  for (int w = 0; w < o.concurrency; ++w)
    workers.push_back(std::make_unique<mongoc_worker>(o, control, w, uri, coll_name));
  std::atomic<int> running{o.concurrency};
  std::vector<std::thread> threads;
  for (auto& w : workers)
    threads.emplace_back([&running, worker = w.get()] {
      worker->run();
      running.fetch_sub(1);
    });
  controller(running);
  for (auto& t : threads) t.join();
  for (auto& w : workers) {
    result.measured.add(w->stats.measured);
    result.all.add(w->stats.all);
    result.latency_ns.merge(w->stats.latency_ns);
    if (!w->stats.first_error.empty() && result.errors.size() < 5) result.errors.push_back(w->stats.first_error);
    result.round_trips += w->tally_at_end.started;
    result.client_cpu_s += w->cpu_seconds;
    result.bytes_sent += w->tally_at_end.bytes_sent;
    result.bytes_received += w->tally_at_end.bytes_received;
  }
  result.window_s = control.window_seconds();
  result.window_ops = control.window_ops();
  result.window_allocations = control.window_allocations();
  // mongoc_cleanup() is left out: a later run in this process may use mongoc again.
  return result;
}

}  // namespace txnbench
