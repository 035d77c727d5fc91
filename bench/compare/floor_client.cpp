// The raw loopback floor: what the three round trips of the workload cost with nothing but
// the kernel in the way. One blocking socket per worker thread, the three requests encoded
// once before the run (the same bytes every time), one send and, for a reply that arrives
// whole, one recv per round trip. No driver can do less work per transaction.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <thread>

#include "mongowire/bson.hpp"
#include "proto/wire/op_msg.hpp"
#include "run_phases.hpp"

namespace compare {
namespace {

using namespace mongowire;
namespace wire = mongowire::detail::wire;

// Session and transaction fields the drivers add (driver-sessions.md, transactions.md).
void add_transaction_fields(bson::document& cmd, bool first, int worker) {
  std::array<std::uint8_t, 16> uuid{};
  uuid[0] = static_cast<std::uint8_t>(worker);
  uuid[6] = 0x40;  // version 4
  bson::document lsid;
  lsid.append("id", bson::binary_ref{BSON_SUBTYPE_UUID, uuid});
  cmd.append("lsid", lsid).append("txnNumber", std::int64_t{1});
  if (first) cmd.append("startTransaction", true);
  cmd.append("autocommit", false);
}

std::vector<std::uint8_t> encode(const bson::document& body, std::int32_t request_id) {
  std::vector<std::uint8_t> frame;
  wire::op_msg_encoder enc(frame);
  enc.begin(request_id);
  enc.body(body);
  enc.finish();
  return frame;
}

// update {_id: 1} with {$inc: {n: 1}}, insert {_id, n}, commitTransaction.
std::array<std::vector<std::uint8_t>, 3> transaction_frames(int worker) {
  bson::document update, statement, q, u, inc, insert, doc, commit;
  inc.append("n", std::int32_t{1});
  q.append("_id", std::int64_t{1});
  u.append("$inc", inc);
  statement.append("q", q).append("u", u);
  bson::array_builder updates;
  updates.push(statement.get_view());
  update.append("update", collection_name).append_array("updates", updates.get_view()).append("ordered", true);
  add_transaction_fields(update, true, worker);
  update.append("$db", database_name);
  doc.append("_id", std::int64_t{worker} << 40).append("n", std::int32_t{1});
  bson::array_builder documents;
  documents.push(doc.get_view());
  insert.append("insert", collection_name).append_array("documents", documents.get_view()).append("ordered", true);
  add_transaction_fields(insert, false, worker);
  insert.append("$db", database_name);
  commit.append("commitTransaction", std::int32_t{1});
  add_transaction_fields(commit, false, worker);
  commit.append("$db", "admin");
  return {encode(update, 1), encode(insert, 2), encode(commit, 3)};
}

int connect_to(const run_options& o) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
  const std::string host = o.host == "localhost" ? "127.0.0.1" : o.host;
  if (fd < 0 || ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// One round trip: the request, then recv until the whole reply (messageLength) is in.
bool round_trip(int fd, const std::vector<std::uint8_t>& request, std::vector<std::uint8_t>& buffer) {
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return false;
  std::size_t have = 0;
  for (;;) {
    const ssize_t n = ::recv(fd, buffer.data() + have, buffer.size() - have, 0);
    if (n <= 0) return false;
    have += static_cast<std::size_t>(n);
    if (have < wire::header_size) continue;
    const auto length = static_cast<std::size_t>(wire::load_i32le(buffer.data()));
    if (length > buffer.size()) buffer.resize(length);
    if (have >= length) return true;
  }
}

void floor_worker(const run_options& o, int w, run_phases& phases, run_record& record) {
  const auto frames = transaction_frames(w);
  std::vector<std::uint8_t> buffer(64 * 1024);
  const int fd = connect_to(o);
  std::string error = fd < 0 ? "cannot connect to " + o.host + ":" + std::to_string(o.port) : "";
  worker_loop loop(o, w, phases);
  bool timed = false;
  while (error.empty() && loop.next(timed)) {
    const auto t0 = bench_clock::now();
    for (const auto& frame : frames)
      if (!round_trip(fd, frame, buffer)) error = std::string("round trip failed: ") + std::strerror(errno);
    if (timed) loop.record(static_cast<std::uint64_t>((bench_clock::now() - t0).count()));
  }
  loop.finish(record, error);
  if (fd >= 0) ::close(fd);
}

}  // namespace

void run_floor(const run_options& o, run_phases& phases, run_record& record) {
  std::vector<std::thread> threads;
  for (int w = 0; w < o.concurrency; ++w)
    threads.emplace_back([&o, w, &phases, &record] { floor_worker(o, w, phases, record); });
  for (auto& t : threads) t.join();
}

}  // namespace compare
