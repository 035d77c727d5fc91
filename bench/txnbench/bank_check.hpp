// The bank soak's end-of-run check and the helpers bank.cpp shares with it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <string>
#include <vector>

#include "bank.hpp"

namespace txnbench::bank {

// Runs `job(executor)` (a coroutine) on a fresh io_context on this thread and returns its
// result; a client created inside is destroyed before io.run() returns.
template <class Job>
auto run_job(Job job) {
  boost::asio::io_context io;
  auto f = boost::asio::co_spawn(io, job(io.get_executor()), boost::asio::use_future);
  io.run();
  return f.get();
}

// `uri` with one more URI option ("appname=x").
std::string with_uri_option(const std::string& uri, const std::string& option);

struct check_input {
  const bench_options& o;
  std::string uri;                       // the deployment, as the workers used it
  std::vector<std::string> member_uris;  // each member alone (serverStatus)
  const outcomes& seen;
  bool tamper = false;  // --self-test-tamper: delete one committed transfer first
};

// Reads every account and transfer and each member's open transactions, and compares them
// with what the client saw. Fills everything but client_sessions_in_use and leaked_connections.
check_result check_bank(const check_input& in);

}  // namespace txnbench::bank
