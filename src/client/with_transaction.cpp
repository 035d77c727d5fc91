// session::with_transaction: the Asio driver of the pure decisions in
// proto/retry/with_transaction (transactions-convenient-api.md, "Sequence of Actions").
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/client_impl.hpp"
#include "mongowire/client.hpp"
#include "proto/retry/with_transaction.hpp"

namespace mongowire {

namespace asio = boost::asio;
using detail::with_transaction_step;

asio::awaitable<error_code> session::with_transaction(transaction_callback callback,
                                                      std::optional<transaction_options> options, diagnostics& diag) {
  const auto started = std::chrono::steady_clock::now();
  auto& client = *impl_->client;
  detail::with_transaction_clock clock;
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  };
  for (clock.transaction_attempt = 1;; ++clock.transaction_attempt) {
    diag.clear();
    if (auto ec = start_transaction(options, diag)) co_return ec;
    error_code ec = co_await callback(*this, diag);
    clock.elapsed = elapsed();
    clock.jitter = client.jitter();
    auto decision = detail::after_callback(ec ? &diag : nullptr, impl_->txn.state(), clock);
    if (decision.abort_first && in_transaction()) {
      diagnostics ignored;
      co_await abort_transaction(ignored);
    }
    if (decision.step == with_transaction_step::retry_transaction) {
      if (decision.backoff.count() > 0) {
        asio::steady_timer t(client.executor(), decision.backoff);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      continue;
    }
    if (decision.step == with_transaction_step::done) co_return error_code{};
    if (decision.step == with_transaction_step::return_error) co_return ec;
    if (decision.step == with_transaction_step::return_timeout) {
      diag.message = "withTransaction gave up after " + std::to_string(clock.elapsed.count()) + " ms: " + diag.message;
      co_return ec;
    }
    // Commit, retrying it while the outcome is unknown and time remains.
    for (;;) {
      diag.clear();
      ec = co_await commit_transaction(diag);
      clock.elapsed = elapsed();
      clock.jitter = client.jitter();
      decision = detail::after_commit(ec ? &diag : nullptr, clock);
      if (decision.step != with_transaction_step::retry_commit) break;
    }
    if (decision.step == with_transaction_step::retry_transaction) {
      if (decision.backoff.count() > 0) {
        asio::steady_timer t(client.executor(), decision.backoff);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      continue;
    }
    if (decision.step == with_transaction_step::done) co_return error_code{};
    co_return ec;
  }
}

}  // namespace mongowire
