// The workload through mongowire: one io_context thread, one client, one coroutine and one
// session per worker (the asynchronous model: concurrency without a thread per worker).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>

#include "mongowire/client.hpp"
#include "run_phases.hpp"

namespace compare {
namespace {

namespace asio = boost::asio;
using namespace mongowire;

class mongowire_worker {
 public:
  mongowire_worker(client& c, int w)
      : session_(c.start_session()),
        coll_(session_.get_collection(database_name, collection_name)),
        next_id_(std::int64_t{w + 1} << 40) {
    filter_.append("_id", std::int64_t{1});
    update_.append_document("$inc", [](bson::document& d) { d.append("n", std::int32_t{1}); });
  }

  asio::awaitable<void> run(const run_options& o, int w, run_phases& phases, run_record& record) {
    worker_loop loop(o, w, phases);
    bool timed = false;
    std::string error;
    while (error.empty() && loop.next(timed)) {
      const auto t0 = bench_clock::now();
      error = co_await transaction();
      if (timed) loop.record(static_cast<std::uint64_t>((bench_clock::now() - t0).count()));
    }
    loop.finish(record, error);
    co_await session_.end();
  }

 private:
  asio::awaitable<std::string> transaction() {
    diag_.clear();
    doc_.clear();
    doc_.append("_id", next_id_++).append("n", std::int32_t{1});
    error_code ec = session_.start_transaction(std::nullopt, diag_);
    if (!ec) ec = co_await coll_.update_one(filter_, update_, update_options{}, updated_, diag_);
    if (!ec) ec = co_await coll_.insert_one(doc_, insert_one_options{}, inserted_, diag_);
    if (!ec) ec = co_await session_.commit_transaction(diag_);
    co_return ec ? "mongowire: " + ec.message() + " " + describe(diag_) : std::string();
  }

  session session_;
  collection coll_;
  std::int64_t next_id_;
  bson::document filter_, update_, doc_;
  update_result updated_;
  insert_one_result inserted_;
  diagnostics diag_;
};

}  // namespace

void run_mongowire(const run_options& o, run_phases& phases, run_record& record) {
  asio::io_context io(1);  // one thread: no locking inside Asio
  auto c = std::make_unique<client>(io.get_executor(), o.uri);
  std::vector<std::unique_ptr<mongowire_worker>> workers;
  for (int w = 0; w < o.concurrency; ++w) workers.push_back(std::make_unique<mongowire_worker>(*c, w));
  auto remaining = std::make_shared<int>(o.concurrency);
  for (int w = 0; w < o.concurrency; ++w)
    asio::co_spawn(io, workers[static_cast<std::size_t>(w)]->run(o, w, phases, record),
                   [&c, &io, remaining](std::exception_ptr e) {
                     if (e) std::rethrow_exception(e);
                     // Everyone is done: close the client (endSessions), which lets io.run() return.
                     if (--*remaining == 0) asio::co_spawn(io, c->close(), asio::detached);
                   });
  io.run();
}

}  // namespace compare
