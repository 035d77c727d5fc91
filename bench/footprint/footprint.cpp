// Memory per idle connection and per session (issue 13): mongowire beside libmongoc 1.23, in
// live heap bytes. Both libraries allocate through the two hooks installed here: C++ operator
// new (mongowire, Boost.Asio) and libbson's allocator vtable (libbson, libmongoc, mongowire's
// documents); malloc_usable_size gives the bytes of each block, so the live total is exact for
// what goes through them (not OpenSSL's own malloc, which plain TCP does not use).
//   mongowire-footprint --driver mongowire|mongoc --uri URI [--connections N] [--sessions M]
// prints one JSON line: {"driver", "per_connection_bytes", "per_session_bytes", ...}.
// An idle connection is each library's own model of one: a connection in mongowire's pool (the
// pool filled by minPoolSize) and a connected mongoc_client_t waiting in mongoc_client_pool_t.
// A session has been used once (its server session, lsid, exists) and is still open.
#include <bson/bson.h>
#include <malloc.h>
#include <mongoc/mongoc.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "footprint.hpp"

namespace {

std::atomic<std::int64_t> live_bytes{0};

void* track(void* p) {
  if (p) live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  return p;
}
void untrack(void* p) {
  if (p) live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
}

void* counted_malloc(std::size_t n) { return track(std::malloc(n)); }
void* counted_calloc(std::size_t n, std::size_t size) { return track(std::calloc(n, size)); }
void* counted_realloc(void* p, std::size_t n) {
  untrack(p);
  void* q = std::realloc(p, n);
  if (!q && n) track(p);  // the old block survives a failed realloc
  return track(q);
}
void counted_free(void* p) {
  untrack(p);
  std::free(p);
}

}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
// Over-aligned types (libbson's bson_t wants 128 bytes) come through these.
void* operator new(std::size_t n, std::align_val_t al) {
  const auto a = static_cast<std::size_t>(al);
  if (void* p = track(std::aligned_alloc(a, (n + a - 1) / a * a + (n ? 0 : a)))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t al) { return operator new(n, al); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }

namespace footprint {

std::int64_t heap_bytes() { return live_bytes.load(std::memory_order_relaxed); }

std::string with_options(const std::string& uri, const std::string& options) {
  if (uri.find('?') != std::string::npos) return uri + "&" + options;
  const bool has_path = uri.find('/', std::string_view("mongodb://").size()) != std::string::npos;
  return uri + (has_path ? "?" : "/?") + options;
}

}  // namespace footprint

namespace {

struct options {
  std::string driver, uri;
  int connections = 32;
  int sessions = 200;
};

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const char* value = argv[i + 1];
    if (key == "--driver") o.driver = value;
    else if (key == "--uri") o.uri = value;
    else if (key == "--connections") o.connections = std::atoi(value);
    else if (key == "--sessions") o.sessions = std::atoi(value);
    else return false;
  }
  return (o.driver == "mongowire" || o.driver == "mongoc") && !o.uri.empty() && o.connections >= 2 && o.sessions >= 1;
}

}  // namespace

int main(int argc, char** argv) {
  bson_mem_vtable_t vtable{};
  vtable.malloc = counted_malloc;
  vtable.calloc = counted_calloc;
  vtable.realloc = counted_realloc;
  vtable.free = counted_free;
  bson_mem_set_vtable(&vtable);
  options o;
  if (argc % 2 == 0 || !parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: mongowire-footprint --driver mongowire|mongoc --uri URI [--connections N>=2] "
                 "[--sessions M>=1]\n");
    return 2;
  }
  footprint::figures f;
  const std::string error = o.driver == "mongowire" ? footprint::measure_mongowire(o.uri, o.connections, o.sessions, f)
                                                    : footprint::measure_mongoc(o.uri, o.connections, o.sessions, f);
  if (!error.empty()) {
    std::fprintf(stderr, "mongowire-footprint (%s): %s\n", o.driver.c_str(), error.c_str());
    return 1;
  }
  std::printf(
      "{\"driver\": \"%s\", \"connections\": %d, \"sessions\": %d, \"client_bytes\": %lld, "
      "\"per_connection_bytes\": %lld, \"per_session_bytes\": %lld}\n",
      o.driver.c_str(), o.connections, o.sessions, static_cast<long long>(f.client_bytes),
      static_cast<long long>(f.per_connection_bytes), static_cast<long long>(f.per_session_bytes));
  return 0;
}
