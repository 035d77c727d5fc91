#include "alloc_counter.hpp"

#include <bson/bson.h>
#include <cxxabi.h>
#include <execinfo.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>

namespace txnbench::alloc {
namespace {

// One cache line per enrolled thread: no sharing on the hot path.
struct alignas(64) thread_counter {
  std::atomic<std::uint64_t> count{0};
};

constexpr std::size_t max_threads = 256;
thread_counter counters[max_threads];
std::atomic<std::size_t> enrolled{0};
thread_local thread_counter* this_thread_counter = nullptr;

constexpr int max_frames = 14;
struct sample {
  void* frames[max_frames];
  int depth;
};
std::atomic<bool> sampling{false};
std::atomic<std::size_t> sample_count{0};
std::size_t sample_capacity = 0;
sample* samples = nullptr;
thread_local bool in_sampler = false;

void take_sample() {
  if (in_sampler) return;  // backtrace itself may allocate
  std::size_t slot = sample_count.fetch_add(1, std::memory_order_relaxed);
  if (slot >= sample_capacity) {
    sampling.store(false, std::memory_order_relaxed);
    return;
  }
  in_sampler = true;
  samples[slot].depth = backtrace(samples[slot].frames, max_frames);
  in_sampler = false;
}

inline void count_one() noexcept {
  if (thread_counter* c = this_thread_counter) {
    c->count.fetch_add(1, std::memory_order_relaxed);
    if (sampling.load(std::memory_order_relaxed)) take_sample();
  }
}

void* counted_malloc(std::size_t n) {
  count_one();
  return std::malloc(n);
}
void* counted_calloc(std::size_t n, std::size_t size) {
  count_one();
  return std::calloc(n, size);
}
void* counted_realloc(void* p, std::size_t n) {
  count_one();
  return std::realloc(p, n);
}
void counted_free(void* p) { std::free(p); }

std::string demangle(const char* symbol_line) {
  // backtrace_symbols: "path(mangled+0xoff) [0xaddr]".
  std::string line(symbol_line);
  auto open = line.find('('), plus = line.find('+', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || plus == std::string::npos || plus == open + 1) return line;
  std::string mangled = line.substr(open + 1, plus - open - 1);
  int status = 0;
  char* readable = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
  if (status != 0 || !readable) return line;
  std::string out(readable);
  std::free(readable);
  if (out.size() > 160) out = out.substr(0, 157) + "...";
  return out;
}

}  // namespace

void install() {
  bson_mem_vtable_t vtable{};
  vtable.malloc = counted_malloc;
  vtable.calloc = counted_calloc;
  vtable.realloc = counted_realloc;
  vtable.free = counted_free;
  bson_mem_set_vtable(&vtable);
  void* warm[2];
  backtrace(warm, 2);  // loads the unwinder now rather than inside operator new
}

void enroll_this_thread() {
  if (this_thread_counter) return;
  std::size_t slot = enrolled.fetch_add(1);
  if (slot >= max_threads) std::abort();
  this_thread_counter = &counters[slot];
}

std::uint64_t total() {
  std::uint64_t sum = 0;
  const std::size_t n = std::min(enrolled.load(), max_threads);
  for (std::size_t i = 0; i < n; ++i) sum += counters[i].count.load(std::memory_order_relaxed);
  return sum;
}

void start_sampling(std::size_t max_samples) {
  in_sampler = true;
  samples = new sample[max_samples];
  in_sampler = false;
  sample_capacity = max_samples;
  sample_count = 0;
  sampling = true;
}

void stop_sampling() { sampling = false; }

std::vector<site> sampled_sites() {
  in_sampler = true;  // symbolizing allocates; keep it out of the samples
  std::map<std::vector<void*>, std::uint64_t> grouped;
  const std::size_t n = std::min(sample_count.load(), sample_capacity);
  for (std::size_t i = 0; i < n; ++i) {
    // Skip the two innermost frames: the counter and operator new / the bson hook.
    const int skip = std::min(2, samples[i].depth);
    grouped[std::vector<void*>(samples[i].frames + skip, samples[i].frames + samples[i].depth)]++;
  }
  std::vector<site> out;
  for (auto& [frames, count] : grouped) {
    site s;
    s.count = count;
    char** symbols = backtrace_symbols(const_cast<void* const*>(frames.data()), static_cast<int>(frames.size()));
    for (std::size_t i = 0; i < frames.size(); ++i) s.frames.push_back(symbols ? demangle(symbols[i]) : "?");
    std::free(symbols);
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const site& a, const site& b) { return a.count > b.count; });
  in_sampler = false;
  return out;
}

}  // namespace txnbench::alloc

// The replaced global allocation functions (all forms forward to these two).
void* operator new(std::size_t n) {
  txnbench::alloc::count_one();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t al) {
  txnbench::alloc::count_one();
  const std::size_t align = static_cast<std::size_t>(al);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, std::align_val_t al) { return operator new(n, al); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return operator new(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return operator new(n, std::nothrow); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
