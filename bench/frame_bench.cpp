// Microbenchmark: encode + decode of a typical in-transaction insert OP_MSG, counting heap
// allocations (operator new and libbson's allocator) once warm. The last line is
// machine-readable: ns_per_frame=<x> allocs_per_frame=<n>.
#include <bson/bson.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "mongowire/bson.hpp"
#include "proto/wire/frame_decoder.hpp"
#include "proto/wire/op_msg.hpp"

namespace {

// ---- allocation counting (single-threaded benchmark: a plain counter is enough) ----
std::size_t allocations = 0;

void* counted_malloc(std::size_t n) {
  ++allocations;
  return std::malloc(n);
}
void* counted_calloc(std::size_t n, std::size_t size) {
  ++allocations;
  return std::calloc(n, size);
}
void* counted_realloc(void* p, std::size_t n) {
  ++allocations;
  return std::realloc(p, n);
}
void counted_free(void* p) { std::free(p); }

}  // namespace

void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

namespace bson = mongowire::bson;
namespace wire = mongowire::detail::wire;
using clock_type = std::chrono::steady_clock;

// Keeps the optimizer from dropping work whose result is unused.
template <class T>
void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

struct workload {
  bson::document command;
  bson::document inserted;
  std::uint8_t session_uuid[16] = {0x6b, 0x1c, 0x4e, 0x02, 0x9a, 0x55, 0x4d, 0x8e,
                                   0xb1, 0x0f, 0x33, 0x7a, 0xc2, 0x41, 0x90, 0x0d};
  std::int64_t txn_number = 1;
  std::int32_t counter = 0;

  // The command a driver sends for an insert inside a transaction (transactions.md:
  // lsid, txnNumber and autocommit: false on every command of the transaction).
  void build() {
    inserted.clear();
    inserted.append("_id", counter++).append("customer", "ACME Corporation").append("amount", 1234.5);
    inserted.append("status", "pending").append("items", std::int32_t{3}).append("note", "two-day shipping");
    command.clear();
    command.append("insert", "orders").append("$db", "shop");
    command.append_document("lsid", [&](bson::document& lsid) {
      lsid.append("id", bson::binary_ref{BSON_SUBTYPE_UUID, {session_uuid, sizeof session_uuid}});
    });
    command.append("txnNumber", txn_number).append("autocommit", false);
  }
};

struct round_trip {
  workload work;
  std::vector<std::uint8_t> out;
  wire::op_msg_encoder encoder{out};
  wire::frame_decoder decoder;
  std::int32_t request_id = 0;

  // Encode the frame, feed it to the decoder as the I/O layer would, parse it back.
  void run() {
    work.build();
    bson::view docs[] = {work.inserted};
    encoder.begin(++request_id);
    if (encoder.body(work.command) || encoder.add_sequence("documents", docs) || encoder.finish()) std::abort();
    auto room = decoder.prepare(out.size());
    std::memcpy(room.data(), out.data(), out.size());
    decoder.commit(out.size());
    if (decoder.next() != wire::decode_status::frame_ready) std::abort();
    wire::op_msg_view msg;
    if (wire::op_msg_view::parse(decoder.frame(), msg)) std::abort();
    auto seq = msg.find_sequence("documents");
    if (!seq || msg.body().first_key() != "insert") std::abort();
    keep(msg);
  }
};

template <class F>
double time_ns_per_iteration(F&& f, std::size_t iterations) {
  auto start = clock_type::now();
  for (std::size_t i = 0; i < iterations; ++i) f();
  std::chrono::duration<double, std::nano> elapsed = clock_type::now() - start;
  return elapsed.count() / static_cast<double>(iterations);
}

}  // namespace

int main(int argc, char** argv) {
  bson_mem_vtable_t vtable{};
  vtable.malloc = counted_malloc;
  vtable.calloc = counted_calloc;
  vtable.realloc = counted_realloc;
  vtable.free = counted_free;
  bson_mem_set_vtable(&vtable);

  std::size_t iterations = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 500'000;
  if (iterations == 0) iterations = 1;
  constexpr std::size_t warmup = 20'000;

  round_trip rt;
  for (std::size_t i = 0; i < warmup; ++i) rt.run();
  std::size_t frame_size = rt.out.size();

  std::size_t before = allocations;
  double ns_frame = time_ns_per_iteration([&] { rt.run(); }, iterations);
  std::size_t frame_allocs = allocations - before;

  // References measured in the same run: building the BSON alone, and copying the frame.
  workload bson_only;
  for (std::size_t i = 0; i < warmup; ++i) bson_only.build();
  double ns_bson = time_ns_per_iteration(
      [&] {
        bson_only.build();
        keep(bson_only.command);
      },
      iterations);
  double ns_parse = time_ns_per_iteration(
      [&] {
        wire::op_msg_view msg;
        if (wire::op_msg_view::parse(rt.out, msg)) std::abort();
        keep(msg);
      },
      iterations);
  std::vector<std::uint8_t> copy(frame_size);
  double ns_memcpy = time_ns_per_iteration(
      [&] {
        std::memcpy(copy.data(), rt.out.data(), frame_size);
        keep(copy[0]);
      },
      iterations);

  double allocs_per_frame = static_cast<double>(frame_allocs) / static_cast<double>(iterations);
  std::printf("mongowire frame bench: in-transaction insert, OP_MSG kind 0 + kind 1 (1 document)\n");
  std::printf("  frame size                    %zu bytes (body %zu, document %zu)\n", frame_size,
              rt.work.command.size(), rt.work.inserted.size());
  std::printf("  iterations                    %zu after %zu warm-up\n", iterations, warmup);
  std::printf("  build+encode+decode+parse     %.1f ns/frame, %zu heap allocations in total\n", ns_frame, frame_allocs);
  std::printf("  reference: BSON build alone   %.1f ns  -> frame path is %.2fx\n", ns_bson, ns_frame / ns_bson);
  std::printf("  reference: memcpy of frame    %.1f ns  -> frame path is %.1fx\n", ns_memcpy, ns_frame / ns_memcpy);
  std::printf("  wire overhead over BSON build %.1f ns/frame, of which parse+validate %.1f ns\n", ns_frame - ns_bson,
              ns_parse);
  std::printf("ns_per_frame=%.1f allocs_per_frame=%g\n", ns_frame, allocs_per_frame);
  return allocs_per_frame == 0 ? 0 : 1;
}
