// The workload through mongowire: `threads` io_contexts, each with its own client and its
// share of the `concurrency` worker coroutines.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "options.hpp"
#include "workload.hpp"

namespace txnbench {

// Runs while `controller` (called on this thread once the workers started) moves the
// phases; `running` counts the threads whose workers have not finished yet.
using controller_fn = std::function<void(const std::atomic<int>& running)>;

run_result run_mongowire(const bench_options& o, const std::string& uri, run_control& control,
                         const controller_fn& controller);

}  // namespace txnbench
