// What collection writes and client bulk writes check and prepare alike before anything is
// sent: update vs replacement documents, generated _ids, the server's size limits.
#pragma once

#include "client/client_impl.hpp"
#include "mongowire/client.hpp"
#include "proto/command/write_batches.hpp"

namespace mongowire::detail {

// crud.md "Update vs. Replacement Validation" (bulk-write.md "Update vs. replace document
// validation" says the same): drivers check the first key; client_errc::invalid_argument.
error_code check_update_document(bson::view update_doc, diagnostics& diag);
error_code check_replacement_document(bson::view replacement, diagnostics& diag);

// The document to insert: `doc` itself when it has an _id, else a copy in `staged` with an
// ObjectId first (crud.md, bulk-write.md "Insert": drivers generate _id so that the caller
// learns it). `id_out` receives {_id: <value>}.
bson::view with_id(bson::view doc, bson::document& staged, bson::document& id_out);

// crud.md "hint": an index name or a key pattern, as the command builders take it.
hint_value hint_of(const std::optional<index_hint>& hint);

// Checks `model`'s update or replacement document and gives an inserted document its _id.
error_code prepare_write_model(write_model& model, diagnostics& diag);

// The server's limits: those of a writable server the topology knows (its handshake told
// them), else mongod's values, the same on every server version this engine supports. No
// allocation: insert_one asks on every call.
write_limits write_limits_of(client_impl& client);

}  // namespace mongowire::detail
