// detail::launch: the one place where an operation's coroutine becomes an Asio async
// operation, so that the public headers need no co_spawn (issue 9, "sealed public headers").
#include <boost/asio/append.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>

#include <exception>
#include <new>
#include <string>

#include "mongowire/client.hpp"

namespace mongowire::detail {

namespace asio = boost::asio;

namespace {

// The message is best effort: without memory for it the code alone is reported.
error_code unexpected(const char* what, diagnostics* diag) noexcept {
  try {
    if (diag) diag->client_message = std::string("unexpected exception: ") + what;
  } catch (...) {
  }
  return client_errc::internal_error;
}

// What an exception escaping an operation stands for. A cancelled timer or socket throws
// operation_aborted inside the coroutine: the operation was cancelled, as with any Asio
// operation. Anything else unexpected is an internal error, never the caller's mistake.
error_code error_of(const std::exception_ptr& e, diagnostics* diag) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const mongowire::error& x) {
    try {
      if (diag) *diag = x.diag();
    } catch (...) {
    }
    return x.code();
  } catch (const boost::system::system_error& x) {
    if (x.code() == asio::error::operation_aborted) return asio::error::operation_aborted;
    return unexpected(x.what(), diag);
  } catch (const std::bad_alloc&) {
    return make_error_code(boost::system::errc::not_enough_memory);
  } catch (const std::exception& x) {
    return unexpected(x.what(), diag);
  } catch (...) {
    return unexpected("of a type not derived from std::exception", diag);
  }
}

}  // namespace

void launch(asio::any_io_executor ex, asio::awaitable<error_code> op, diagnostics* diag,
            asio::any_completion_handler<void(error_code)> handler) {
  auto slot = asio::get_associated_cancellation_slot(handler);
  auto target = asio::get_associated_executor(handler, ex);
  asio::co_spawn(ex, std::move(op),
                 asio::bind_cancellation_slot(
                     slot, [h = std::move(handler), target, diag](std::exception_ptr e, error_code ec) mutable {
                       if (e) ec = error_of(e, diag);
                       asio::dispatch(target, asio::append(std::move(h), ec));
                     }));
}

}  // namespace mongowire::detail
