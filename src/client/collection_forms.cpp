// TRANSITIONAL (issue 9, sealed public headers): the new one-form-per-operation members,
// forwarding to the former ones while callers move. Merged into collection.cpp (and this
// file deleted) once the former forms are gone. Options fields new in this step (delete
// collation, count options, distinct collation, findAndModify collation/arrayFilters) are
// honoured only after that merge.
#include "mongowire/client.hpp"

namespace mongowire {

namespace asio = boost::asio;

asio::awaitable<error_code> collection::insert_one(bson::view doc, insert_one_options, insert_one_result& result,
                                                   diagnostics& diag) {
  co_return co_await insert_one(doc, result, diag);
}

asio::awaitable<error_code> collection::update_one(bson::view filter, bson::view update_doc, update_options options,
                                                   update_result& result, diagnostics& diag) {
  co_return co_await update(filter, update_doc, false, std::move(options), result, diag);
}

asio::awaitable<error_code> collection::update_many(bson::view filter, bson::view update_doc, update_options options,
                                                    update_result& result, diagnostics& diag) {
  co_return co_await update(filter, update_doc, true, std::move(options), result, diag);
}

asio::awaitable<error_code> collection::replace_one(bson::view filter, bson::view replacement,
                                                    replace_options options, update_result& result,
                                                    diagnostics& diag) {
  update_options u;
  u.upsert = options.upsert;
  u.collation = std::move(options.collation);
  co_return co_await replace_one(filter, replacement, std::move(u), result, diag);
}

asio::awaitable<error_code> collection::delete_one(bson::view filter, delete_options, delete_result& result,
                                                   diagnostics& diag) {
  co_return co_await remove(filter, 1, result, diag);
}

asio::awaitable<error_code> collection::delete_many(bson::view filter, delete_options, delete_result& result,
                                                    diagnostics& diag) {
  co_return co_await remove(filter, 0, result, diag);
}

asio::awaitable<error_code> collection::count_documents(bson::view filter, count_options, std::int64_t& out,
                                                        diagnostics& diag) {
  co_return co_await count_documents(filter, out, diag);
}

asio::awaitable<error_code> collection::count(bson::view filter, count_options, std::int64_t& out,
                                              diagnostics& diag) {
  co_return co_await count(filter, out, diag);
}

asio::awaitable<error_code> collection::distinct(std::string field, bson::view filter, distinct_options,
                                                 bson::document& values, diagnostics& diag) {
  co_return co_await distinct(std::move(field), filter, values, diag);
}

asio::awaitable<error_code> collection::find_one_and_update(bson::view filter, bson::view update_doc,
                                                            find_one_and_update_options options,
                                                            std::optional<bson::document>& out, diagnostics& diag) {
  find_one_and_modify_options o{std::move(options.projection), std::move(options.sort), options.upsert,
                                options.return_new};
  co_return co_await find_one_and_update(filter, update_doc, std::move(o), out, diag);
}

asio::awaitable<error_code> collection::find_one_and_replace(bson::view filter, bson::view replacement,
                                                             find_one_and_replace_options options,
                                                             std::optional<bson::document>& out, diagnostics& diag) {
  find_one_and_modify_options o{std::move(options.projection), std::move(options.sort), options.upsert,
                                options.return_new};
  co_return co_await find_one_and_replace(filter, replacement, std::move(o), out, diag);
}

asio::awaitable<error_code> collection::find_one_and_delete(bson::view filter, find_one_and_delete_options options,
                                                            std::optional<bson::document>& out, diagnostics& diag) {
  find_one_and_modify_options o{std::move(options.projection), std::move(options.sort), false, false};
  co_return co_await find_and_modify(filter, bson::view(), true, std::move(o), out, diag);
}

}  // namespace mongowire
