// libFuzzer target: untrusted reply bytes -> bson::view::validate -> every reply parser.
// view::validate is checked against libbson's bson_validate, view::find against its iterator.
// Properties checked beyond "no crash": each parser returns success, a server error or
// invalid_reply with a message, and every view it hands out lies inside the reply.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "mongowire/bson.hpp"
#include "proto/reply/client_bulk_write_reply.hpp"
#include "proto/reply/command_reply.hpp"
#include "proto/reply/cursor_reply.hpp"
#include "proto/reply/write_reply.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

void require_inside(bson::view inner, bson::view outer) {
  require(inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size());
}

void require_valid_outcome(const error_code& ec, const diagnostics& diag) {
  if (!ec) return;
  if (ec == client_errc::invalid_reply) {
    require(!describe(diag).empty());
    return;
  }
  require(ec.category() == server_category());
}

void check_command(bson::view reply) {
  diagnostics diag;
  require_valid_outcome(check_command_reply(reply, diag), diag);
  diagnostics wc_diag;
  require_valid_outcome(check_write_concern_reply(reply, wc_diag), wc_diag);
}

void check_metadata(bson::view reply) {
  reply_metadata m;
  diagnostics diag;
  error_code ec = parse_reply_metadata(reply, m, diag);
  require_valid_outcome(ec, diag);
  if (ec) return;
  if (m.cluster_time) require_inside(m.cluster_time->document, reply);
  if (m.recovery_token) require_inside(*m.recovery_token, reply);
  if (m.topology_version) require_inside(*m.topology_version, reply);
}

void check_write(bson::view reply) {
  write_result w;
  diagnostics diag;
  error_code ec = parse_write_reply(reply, w, diag);
  require_valid_outcome(ec, diag);
  if (ec == client_errc::invalid_reply || diag.server_code != 0) return;
  if (w.upserted_count != 0) require_inside(w.upserted, reply);
  std::size_t seen = 0;
  for (const bson::element& e : w.upserted) {
    (void)upserted_entry_of(e);
    ++seen;
  }
  require(seen == w.upserted_count);

  find_and_modify_result f;
  diagnostics fam_diag;
  ec = parse_find_and_modify_reply(reply, f, fam_diag);
  require_valid_outcome(ec, fam_diag);
  if (!ec && f.value) require_inside(*f.value, reply);
}

void check_cursor(bson::view reply) {
  cursor_reply c;
  diagnostics diag;
  error_code ec = parse_cursor_reply(reply, c, diag);
  require_valid_outcome(ec, diag);
  if (!ec) {
    require_inside(c.batch, reply);
    std::size_t seen = 0;
    for (const bson::element& e : c.batch) {
      require(e.is_document());
      ++seen;
    }
    require(seen == c.batch_count);
  }
  std::int64_t n = 0;
  diagnostics count_diag, count_documents_diag, distinct_diag;
  require_valid_outcome(parse_count_reply(reply, n, count_diag), count_diag);
  require_valid_outcome(parse_count_documents_reply(reply, n, count_documents_diag), count_documents_diag);
  bson::view values;
  require_valid_outcome(parse_distinct_reply(reply, values, distinct_diag), distinct_diag);
}

// bulk-write.md: the bulkWrite reply, then each document of its results cursor.
void check_client_bulk_write(bson::view reply) {
  client_bulk_write_reply r;
  diagnostics diag;
  error_code ec = parse_client_bulk_write_reply(reply, r, diag);
  require_valid_outcome(ec, diag);
  if (ec) return;
  require(r.n_errors >= 0 && r.n_inserted >= 0 && r.n_deleted >= 0);
  std::size_t position = 0;
  for (const bson::element& e : r.cursor.batch) {
    client_bulk_write_item item;
    diagnostics item_diag;
    const error_code item_ec =
        parse_client_bulk_write_item(*e.as_document(), "cursor.firstBatch", position++, item, item_diag);
    require(!item_ec || item_ec == client_errc::invalid_reply);
    if (!item_ec) require(item.idx >= 0 && (item.ok || item.error.code != 0));
  }
}

// view::validate's own one-pass checker is at least as strict as libbson's bson_validate, and
// view::find's walk over the keys finds every key that libbson's iterator sees.
void check_agrees_with_libbson(bson::view reply) {
  bson_t b;
  require(bson_init_static(&b, reply.data(), reply.size()));
  require(bson_validate(&b, BSON_VALIDATE_NONE, nullptr));
  for (const bson::element& e : reply) {
    const bson::element found = reply.find(e.key());
    require(static_cast<bool>(found) && found.key() == e.key());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto reply = bson::view::validate(std::span<const std::uint8_t>(data, size));
  if (!reply) return 0;
  check_agrees_with_libbson(*reply);
  check_command(*reply);
  check_metadata(*reply);
  check_write(*reply);
  check_cursor(*reply);
  check_client_bulk_write(*reply);
  return 0;
}
