#include "socks5_proxy.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>

namespace client_test {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

asio::awaitable<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
  std::array<char, 16384> buf;
  for (;;) {
    auto [rec, n] = co_await from->async_read_some(asio::buffer(buf), use_tuple);
    if (rec) break;
    const auto chunk = asio::buffer(buf.data(), n);
    auto [wec, written] = co_await asio::async_write(*to, chunk, use_tuple);
    if (wec) break;
  }
  boost::system::error_code ignored;
  to->shutdown(tcp::socket::shutdown_send, ignored);
  from->close(ignored);
}

// Reads exactly `n` bytes into `out`; false on EOF or error.
asio::awaitable<bool> read_exact(tcp::socket& s, std::uint8_t* out, std::size_t n) {
  const auto into = asio::buffer(out, n);
  auto [ec, got] = co_await asio::async_read(s, into, use_tuple);
  co_return !ec;
}

asio::awaitable<void> send(tcp::socket& s, std::vector<std::uint8_t>&& bytes) {
  const auto out = asio::buffer(bytes);
  co_await asio::async_write(s, out, use_tuple);
}

// RFC 1928 section 4: DST.ADDR of the given type, as "host:port" text.
asio::awaitable<std::optional<std::pair<std::string, std::string>>> read_destination(tcp::socket& s,
                                                                                     std::uint8_t atyp) {
  std::array<std::uint8_t, 258> b{};
  std::string host;
  if (atyp == 3) {
    if (!co_await read_exact(s, b.data(), 1)) co_return std::nullopt;
    const std::size_t len = b[0];
    if (!co_await read_exact(s, b.data(), len)) co_return std::nullopt;
    host.assign(reinterpret_cast<const char*>(b.data()), len);
  } else {
    const std::size_t len = atyp == 1 ? 4 : 16;
    if (!co_await read_exact(s, b.data(), len)) co_return std::nullopt;
    asio::ip::address a = atyp == 1 ? asio::ip::address(asio::ip::address_v4({b[0], b[1], b[2], b[3]}))
                                    : asio::ip::address(asio::ip::address_v6([&] {
                                        asio::ip::address_v6::bytes_type v6;
                                        std::copy_n(b.begin(), 16, v6.begin());
                                        return v6;
                                      }()));
    host = a.to_string();
  }
  if (!co_await read_exact(s, b.data(), 2)) co_return std::nullopt;
  co_return std::make_pair(host, std::to_string(b[0] * 256 + b[1]));
}

}  // namespace

struct socks5_proxy::session {
  static asio::awaitable<void> serve(socks5_proxy* proxy, std::shared_ptr<tcp::socket> client);
  static asio::awaitable<bool> negotiate(socks5_proxy* proxy, tcp::socket& client);
};

// RFC 1928 section 3 and RFC 1929: method selection, then the credentials when required.
asio::awaitable<bool> socks5_proxy::session::negotiate(socks5_proxy* proxy, tcp::socket& client) {
  std::array<std::uint8_t, 256> b{};
  if (!co_await read_exact(client, b.data(), 2) || b[0] != 5) co_return false;
  const std::size_t n = b[1];
  if (!co_await read_exact(client, b.data(), n)) co_return false;
  const std::uint8_t wanted = proxy->credentials_ ? 2 : 0;
  const bool offered = std::find(b.begin(), b.begin() + n, wanted) != b.begin() + n;
  std::vector<std::uint8_t> choice{5, offered ? wanted : std::uint8_t{0xFF}};
  co_await send(client, std::move(choice));
  if (!offered) co_return false;
  if (!proxy->credentials_) co_return true;
  std::string fields[2];
  if (!co_await read_exact(client, b.data(), 1) || b[0] != 1) co_return false;
  for (auto& field : fields) {
    if (!co_await read_exact(client, b.data(), 1)) co_return false;
    const std::size_t len = b[0];
    if (!co_await read_exact(client, b.data(), len)) co_return false;
    field.assign(reinterpret_cast<const char*>(b.data()), len);
  }
  const bool ok = fields[0] == proxy->credentials_->first && fields[1] == proxy->credentials_->second;
  std::vector<std::uint8_t> verdict{1, static_cast<std::uint8_t>(ok ? 0 : 1)};
  co_await send(client, std::move(verdict));
  if (!ok) {
    std::lock_guard lock(proxy->mutex_);
    ++proxy->refused_logins_;
  }
  co_return ok;
}

asio::awaitable<void> socks5_proxy::session::serve(socks5_proxy* proxy, std::shared_ptr<tcp::socket> client) {
  if (!co_await negotiate(proxy, *client)) co_return;
  std::array<std::uint8_t, 4> head{};
  if (!co_await read_exact(*client, head.data(), 4) || head[0] != 5 || head[1] != 1) co_return;
  auto dest = co_await read_destination(*client, head[3]);
  if (!dest) co_return;
  {
    std::lock_guard lock(proxy->mutex_);
    const bool name = head[3] == 3;
    proxy->destinations_.push_back((name ? dest->first : "[" + dest->first + "]") + ":" + dest->second);
  }
  auto upstream = std::make_shared<tcp::socket>(client->get_executor());
  tcp::resolver resolver(client->get_executor());
  auto [rec, endpoints] = co_await resolver.async_resolve(dest->first, dest->second, use_tuple);
  boost::system::error_code cec = rec;
  if (!rec) std::tie(cec, std::ignore) = co_await asio::async_connect(*upstream, endpoints, use_tuple);
  // RFC 1928 section 6: REP 5 "connection refused", else success with a zero bound address.
  std::vector<std::uint8_t> reply{5, static_cast<std::uint8_t>(cec ? 5 : 0), 0, 1, 0, 0, 0, 0, 0, 0};
  co_await send(*client, std::move(reply));
  if (cec) co_return;
  asio::co_spawn(client->get_executor(), pump(client, upstream), asio::detached);
  asio::co_spawn(client->get_executor(), pump(upstream, client), asio::detached);
}

socks5_proxy::socks5_proxy(std::optional<std::pair<std::string, std::string>> credentials)
    : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), credentials_(std::move(credentials)) {
  port_ = acceptor_.local_endpoint().port();
  accept_next();
  thread_ = std::thread([this] { io_.run(); });
}

socks5_proxy::~socks5_proxy() {
  io_.stop();
  thread_.join();
}

void socks5_proxy::accept_next() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
    if (ec) return;
    asio::co_spawn(io_, session::serve(this, std::make_shared<tcp::socket>(std::move(s))), asio::detached);
    accept_next();
  });
}

std::vector<std::string> socks5_proxy::destinations() const {
  std::lock_guard lock(mutex_);
  return destinations_;
}

int socks5_proxy::refused_logins() const {
  std::lock_guard lock(mutex_);
  return refused_logins_;
}

}  // namespace client_test
