// session::with_transaction: the Asio driver of the pure decisions in
// proto/retry/with_transaction (transactions-convenient-api.md, "Sequence of Actions").
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <utility>

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

// Step 2's backoff before a rerun, charged to the transaction's accounting (issue 16).
asio::awaitable<void> sleep_for(asio::any_io_executor ex, std::chrono::microseconds backoff,
                                transaction_accounting& accounting) {
  if (backoff.count() <= 0) co_return;
  const auto slept = steady::now();
  asio::steady_timer t(ex, backoff);
  // Cancelled while waiting: operation_aborted is thrown, so no new transaction starts (go#668).
  co_await t.async_wait(asio::use_awaitable);
  accounting.backoff += steady::now() - slept;
}

// One accounting for all of with_transaction's attempts (issue 16): once its first
// start_transaction began it, the reruns' do not reset it; it closes however with_transaction
// ends.
struct accounting_span {
  detail::session_impl& s;
  ~accounting_span() {
    if (!s.accounting_spans_attempts) return;
    s.accounting_spans_attempts = false;
    s.close_accounting();
  }
};

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
    // Cancelled: reported as is, its outcome unknown (session::commit_transaction); not retried.
    if (ec == asio::error::operation_aborted) co_return step_result{ec, {with_transaction_step::return_error}};
    measure(clock, started, client);
    auto decision = detail::after_commit(ec ? &diag : nullptr, clock);
    trace(client, "commitTransaction", attempt, ec, diag, decision, started);
    if (decision.step != with_transaction_step::retry_commit) co_return step_result{ec, decision};
  }
}

// "Timeout Error propagation": a timeout error that exposes the previous error (diag.cause and
// the other fields of `diag`, which still describe it) and keeps its labels. With timeoutMS it
// is the CSOT timeout error (client-side-operations-timeout.md "Errors").
error_code timeout_error(error_code last, std::chrono::milliseconds elapsed, bool csot, diagnostics& diag) {
  diag.cause = last;
  const auto previous = describe(diag);
  diag.client_message = "withTransaction timed out after " + std::to_string(elapsed.count()) +
                        " ms; last error: " + (previous.empty() ? last.message() : previous);
  return csot ? client_errc::timeout : client_errc::with_transaction_timeout;
}

// client-side-operations-timeout.md "Convenient Transactions API": with timeoutMS the whole
// call has one deadline, which the session carries to the callback's operations and the
// commits until with_transaction returns; the loop's limit is that timeout instead of 120 s.
struct deadline_scope {
  // timeoutMS 0: no limit (a century: elapsed + backoff in microseconds must not overflow).
  static constexpr std::chrono::milliseconds no_limit = std::chrono::hours(24 * 365 * 100);
  detail::session_impl& s;
  deadline_scope(detail::session_impl& session, detail::with_transaction_clock& clock, steady::time_point started)
      : s(session) {
    auto deadline = s.client->deadline_for(s.session_timeout(), &s);
    if (!deadline.enabled) return;
    s.with_transaction_deadline = deadline;
    clock.limit =
        deadline.limited() ? std::chrono::duration_cast<std::chrono::milliseconds>(deadline.at - started) : no_limit;
  }
  ~deadline_scope() { s.with_transaction_deadline.reset(); }
  deadline_scope(const deadline_scope&) = delete;
  deadline_scope& operator=(const deadline_scope&) = delete;
};

// Step 7.1's abort gets a fresh timeoutMS ("withTransaction refreshes the timeout for
// abortTransaction"), not the rest of the call's.
asio::awaitable<void> abort_with_fresh_timeout(session& s, detail::session_impl& impl) {
  const auto call_deadline = std::exchange(impl.with_transaction_deadline, std::nullopt);
  diagnostics ignored;
  co_await s.abort_transaction(ignored);
  impl.with_transaction_deadline = call_deadline;
}

// Runs the callback. An exception it throws is kept in `thrown`, to be rethrown once step 7.1
// has aborted its transaction (to the caller of the awaitable form; the async form reports it
// as client_errc::internal_error).
asio::awaitable<error_code> run_callback(session::transaction_callback& callback, session& s, diagnostics& diag,
                                         std::exception_ptr& thrown) {
  error_code ec;
  try {
    ec = co_await callback(s, diag);
  } catch (...) {
    thrown = std::current_exception();
    ec = client_errc::internal_error;
  }
  co_return ec;
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
                                                      std::optional<transaction_options> options,
                                                      std::chrono::milliseconds timeout, diagnostics& diag) {
  if (timeout.count() < 0) {  // client-side-operations-timeout.md "timeoutMS"
    diag.client_message = "timeoutMS must not be negative (got " + std::to_string(timeout.count()) + ")";
    co_return client_errc::invalid_argument;
  }
  const detail::timeout_override_scope scope{*impl_, timeout};
  co_return co_await with_transaction(std::move(callback), std::move(options), diag);
}

asio::awaitable<error_code> session::with_transaction(transaction_callback callback,
                                                      std::optional<transaction_options> options, diagnostics& diag) {
  const auto started = steady::now();
  auto& client = *impl_->client;
  detail::with_transaction_clock clock;
  clock.limit = client.with_transaction_limit;
  const accounting_span span{*impl_};
  const deadline_scope timeout_scope(*impl_, clock, started);
  for (clock.transaction_attempt = 1;; ++clock.transaction_attempt) {
    diag.clear();
    if (auto ec = start_transaction(options, diag)) co_return ec;
    impl_->accounting_spans_attempts = true;
    step_result r;
    std::exception_ptr thrown;
    r.ec = co_await run_callback(callback, *this, diag, thrown);
    if (!r.ec) r.ec = swallowed_error(*impl_, diag);
    const auto state = impl_->txn.state();
    // Cancelled: the transaction is still aborted, with a cancellation state of its own, or it
    // would keep its locks on the server until its lifetime limit (client-side-operations-
    // timeout.md "withTransaction refreshes the timeout for abortTransaction"; go#1101).
    const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
    const bool cancelled = cancellation.cancelled() != asio::cancellation_type::none;
    if (cancelled) co_await asio::this_coro::reset_cancellation_state();
    if ((r.ec || cancelled) && detail::abort_after_callback_error(state))  // step 7.1
      co_await abort_with_fresh_timeout(*this, *impl_);
    if (thrown) std::rethrow_exception(thrown);
    if (cancelled) co_return asio::error::operation_aborted;
    measure(clock, started, client);
    r.decision = detail::after_callback(r.ec ? &diag : nullptr, state, clock);
    trace(client, "withTransaction", clock.transaction_attempt, r.ec, diag, r.decision, started);
    if (r.decision.step == with_transaction_step::commit)
      r = co_await commit_until_known(*this, client, clock, started, diag);
    if (r.decision.step == with_transaction_step::done) co_return error_code{};
    if (r.decision.step == with_transaction_step::return_timeout)
      co_return timeout_error(r.ec, clock.elapsed, impl_->with_transaction_deadline.has_value(), diag);
    if (r.decision.step != with_transaction_step::retry_transaction) co_return r.ec;
    ++impl_->accounting.transient_reruns;
    co_await sleep_for(client.executor(), r.decision.backoff, impl_->accounting);  // step 2
  }
}

}  // namespace mongowire
