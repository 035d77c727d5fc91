// The same workload through the official C driver (libmongoc, synchronous): one thread and
// one mongoc_client_t per concurrent worker, against the same server, for a side-by-side.
#pragma once

#include <string>

#include "mongowire_runner.hpp"

namespace txnbench {

run_result run_mongoc(const bench_options& o, const std::string& uri, run_control& control,
                      const controller_fn& controller);

}  // namespace txnbench
