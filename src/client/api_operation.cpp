#include "client/api_operation.hpp"

namespace mongowire::detail {

namespace asio = boost::asio;

operation describe(const operation_traits& t, std::string_view db, const bson::document& body,
                   const collection_options& handle) {
  operation op;
  op.traits = t;
  op.db = db;
  op.body = &body;
  if (t.takes_read_concern && handle.read_concern) op.inherited_read_concern = handle.read_concern->get_view();
  if (t.takes_write_concern && handle.write_concern) op.inherited_write_concern = handle.write_concern->get_view();
  if (handle.read_preference) op.inherited_read_preference = handle.read_preference->get_view();  // may-use-secondary
  op.timeout = handle.timeout;
  return op;
}

}  // namespace mongowire::detail
