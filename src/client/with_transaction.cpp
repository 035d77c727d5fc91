// session::with_transaction: the Asio driver of the pure decisions in
// proto/retry/with_transaction (transactions-convenient-api.md, "Sequence of Actions").
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>

#include "client/client_impl.hpp"
#include "mongowire/client.hpp"
#include "proto/retry/with_transaction.hpp"

namespace mongowire {

namespace asio = boost::asio;
using detail::with_transaction_step;
using steady = std::chrono::steady_clock;

namespace {

struct step_result {
  error_code ec;
  detail::with_transaction_decision decision;
};

// The clock is read after whatever the last step did (an abort included): the pseudo-code
// compares Date.now() with the start only once that step returned.
void measure(detail::with_transaction_clock& clock, steady::time_point started, detail::client_impl& client) {
  clock.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started);
  clock.jitter = client.jitter();
}

asio::awaitable<void> sleep_for(asio::any_io_executor ex, std::chrono::microseconds backoff) {
  if (backoff.count() <= 0) co_return;
  asio::steady_timer t(ex, backoff);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

// The retry trace of withTransaction's own loop (issue 16): what failed and what comes next.
void trace(const detail::client_impl& client, std::string_view command, int attempt, error_code ec,
           const diagnostics& d, const detail::with_transaction_decision& decision, steady::time_point started) {
  const auto& handler = client.options().on_retry;
  if (!handler || !ec) return;
  retry_event e;
  e.command = command;
  e.attempt = attempt;
  e.decision = decision.step == with_transaction_step::retry_transaction ? retry_decision::rerun_transaction
               : decision.step == with_transaction_step::retry_commit    ? retry_decision::retry_commit
                                                                         : retry_decision::give_up;
  if (decision.step == with_transaction_step::retry_transaction) e.backoff = decision.backoff;
  detail::emit_retry_event(handler, e, ec, d, steady::now() - started);
}

// Steps 9-10: commit, and commit again while the outcome is unknown and time remains.
asio::awaitable<step_result> commit_until_known(session& s, detail::client_impl& client,
                                                detail::with_transaction_clock& clock, steady::time_point started,
                                                diagnostics& diag) {
  for (int attempt = 1;; ++attempt) {
    diag.clear();
    error_code ec = co_await s.commit_transaction(diag);
    measure(clock, started, client);
    auto decision = detail::after_commit(ec ? &diag : nullptr, clock);
    trace(client, "commitTransaction", attempt, ec, diag, decision, started);
    if (decision.step != with_transaction_step::retry_commit) co_return step_result{ec, decision};
  }
}

// "Timeout Error propagation": a timeout error that exposes the previous error (diag.cause and
// the other fields of `diag`, which still describe it) and keeps its labels.
error_code timeout_error(error_code last, std::chrono::milliseconds elapsed, diagnostics& diag) {
  diag.cause = last;
  const auto previous = describe(diag);
  diag.client_message = "withTransaction timed out after " + std::to_string(elapsed.count()) +
                        " ms; last error: " + (previous.empty() ? last.message() : previous);
  return client_errc::with_transaction_timeout;
}

// Step 7.1 for a callback that throws: its transaction is aborted before the exception
// propagates (to the caller of the awaitable form; the async form reports it as
// client_errc::internal_error).
asio::awaitable<error_code> run_callback(session::transaction_callback& callback, session& s, diagnostics& diag) {
  std::exception_ptr thrown;
  error_code ec;
  try {
    ec = co_await callback(s, diag);
  } catch (...) {
    thrown = std::current_exception();
  }
  if (!thrown) co_return ec;
  if (s.in_transaction()) {
    diagnostics ignored;
    co_await s.abort_transaction(ignored);
  }
  std::rethrow_exception(thrown);
}

// The swallowed-error guard (issue 16): the callback returned success although a statement
// failed on the server, which aborted the transaction. Committing could only fail with
// NoSuchTransaction (labelled TransientTransactionError) and rerun the callback until the
// time limit; instead the statement's own error is raised as the callback's, with its labels
// (transactions-convenient-api.md: a callback "MUST NOT silently handle" such errors).
error_code swallowed_error(const detail::session_impl& s, diagnostics& diag) {
  if (!s.server_abort) return {};
  diag = s.server_abort->second;
  return s.server_abort->first;
}

}  // namespace

asio::awaitable<error_code> session::with_transaction(transaction_callback callback,
                                                      std::optional<transaction_options> options, diagnostics& diag) {
  const auto started = steady::now();
  auto& client = *impl_->client;
  detail::with_transaction_clock clock;
  clock.limit = client.with_transaction_limit;
  for (clock.transaction_attempt = 1;; ++clock.transaction_attempt) {
    diag.clear();
    if (auto ec = start_transaction(options, diag)) co_return ec;
    step_result r;
    r.ec = co_await run_callback(callback, *this, diag);
    if (!r.ec) r.ec = swallowed_error(*impl_, diag);
    const auto state = impl_->txn.state();
    if (r.ec && detail::abort_after_callback_error(state)) {  // step 7.1
      diagnostics ignored;
      co_await abort_transaction(ignored);
    }
    measure(clock, started, client);
    r.decision = detail::after_callback(r.ec ? &diag : nullptr, state, clock);
    trace(client, "withTransaction", clock.transaction_attempt, r.ec, diag, r.decision, started);
    if (r.decision.step == with_transaction_step::commit)
      r = co_await commit_until_known(*this, client, clock, started, diag);
    if (r.decision.step == with_transaction_step::done) co_return error_code{};
    if (r.decision.step == with_transaction_step::return_timeout) co_return timeout_error(r.ec, clock.elapsed, diag);
    if (r.decision.step != with_transaction_step::retry_transaction) co_return r.ec;
    co_await sleep_for(client.executor(), r.decision.backoff);  // step 2
  }
}

}  // namespace mongowire
