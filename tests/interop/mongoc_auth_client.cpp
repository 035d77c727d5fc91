// libmongoc 1.23 (MongoDB's C driver, its own SCRAM and OpenSSL TLS) as a client of
// mongowire-testd --auth over TLS, driven by mongoc_auth_tls.py (issue 11 "Done when").
//   interop-mongoc-auth-client commit URI COLLECTION
//     seeds {_id: 1, n: 0} in hr.COLLECTION, then in one cross-database transaction
//     (mongoc_client_session_with_transaction) updates it and inserts {_id: 2} into
//     reporting.COLLECTION; reads back n == 1 and the one inserted document.
//   interop-mongoc-auth-client refused URI
//     a ping must fail with libmongoc's authentication error (MONGOC_ERROR_CLIENT_AUTHENTICATE).
// Prints one "ok: ..." line and exits 0, or "FAILED: ..." and exits 1. Never prints the URI.
#include <mongoc/mongoc.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

// The transaction spans two databases, as the README's example does (hr.employees, reporting.events).
struct transaction_context {
  mongoc_collection_t* coll;    // hr.COLLECTION: the update
  mongoc_collection_t* events;  // reporting.COLLECTION: the insert
};

// The transaction's body: update + insert with the session's options.
bool update_and_insert(mongoc_client_session_t* session, void* ctx, bson_t** reply, bson_error_t* error) {
  (void)reply;
  const auto* colls = static_cast<transaction_context*>(ctx);
  bson_t opts = BSON_INITIALIZER;
  bson_t* filter = BCON_NEW("_id", BCON_INT32(1));
  bson_t* update = BCON_NEW("$inc", "{", "n", BCON_INT32(1), "}");
  bson_t* doc = BCON_NEW("_id", BCON_INT32(2), "in", BCON_UTF8("transaction"));
  const bool ok = mongoc_client_session_append(session, &opts, error) &&
                  mongoc_collection_update_one(colls->coll, filter, update, &opts, nullptr, error) &&
                  mongoc_collection_insert_one(colls->events, doc, &opts, nullptr, error);
  bson_destroy(filter);
  bson_destroy(update);
  bson_destroy(doc);
  bson_destroy(&opts);
  return ok;
}

std::string run_transaction(mongoc_client_t* client, transaction_context& ctx) {
  bson_error_t error;
  mongoc_client_session_t* session = mongoc_client_start_session(client, nullptr, &error);
  if (!session) return std::string("start_session: ") + error.message;
  const bool ok = mongoc_client_session_with_transaction(session, update_and_insert, nullptr, &ctx, nullptr, &error);
  mongoc_client_session_destroy(session);
  return ok ? std::string() : std::string("with_transaction: ") + error.message;
}

// n of {_id: 1} and the number of documents in each database, after the commit.
std::string check_data(const transaction_context& ctx) {
  mongoc_collection_t* coll = ctx.coll;
  bson_error_t error;
  bson_t all = BSON_INITIALIZER;
  const std::int64_t count = mongoc_collection_count_documents(coll, &all, nullptr, nullptr, nullptr, &error);
  const std::int64_t events = mongoc_collection_count_documents(ctx.events, &all, nullptr, nullptr, nullptr, &error);
  bson_destroy(&all);
  if (count != 1 || events != 1)
    return "expected 1 document in each database after the commit, found " + std::to_string(count) + " and " +
           std::to_string(events);
  bson_t* filter = BCON_NEW("_id", BCON_INT32(1));
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll, filter, nullptr, nullptr);
  const bson_t* doc = nullptr;
  std::int32_t n = -1;
  bson_iter_t it;
  if (mongoc_cursor_next(cursor, &doc) && bson_iter_init_find(&it, doc, "n")) n = bson_iter_int32(&it);
  mongoc_cursor_destroy(cursor);
  bson_destroy(filter);
  return n == 1 ? std::string() : "expected n == 1 after the committed update, found " + std::to_string(n);
}

std::string commit(const char* uri, const char* collection) {
  mongoc_client_t* client = mongoc_client_new(uri);
  if (!client) return "libmongoc refused the connection string";
  transaction_context ctx{mongoc_client_get_collection(client, "hr", collection),
                          mongoc_client_get_collection(client, "reporting", collection)};
  bson_t* seed = BCON_NEW("_id", BCON_INT32(1), "n", BCON_INT32(0));
  bson_error_t error;
  std::string failure;
  if (!mongoc_collection_insert_one(ctx.coll, seed, nullptr, nullptr, &error))
    failure = std::string("seed: ") + error.message;
  if (failure.empty()) failure = run_transaction(client, ctx);
  if (failure.empty()) failure = check_data(ctx);
  bson_destroy(seed);
  mongoc_collection_destroy(ctx.coll);
  mongoc_collection_destroy(ctx.events);
  mongoc_client_destroy(client);
  return failure;
}

std::string refused(const char* uri) {
  mongoc_client_t* client = mongoc_client_new(uri);
  if (!client) return "libmongoc refused the connection string";
  bson_t* ping = BCON_NEW("ping", BCON_INT32(1));
  bson_error_t error;
  const bool ok = mongoc_client_command_simple(client, "admin", ping, nullptr, nullptr, &error);
  bson_destroy(ping);
  mongoc_client_destroy(client);
  if (ok) return "a wrong password was accepted";
  if (error.domain != MONGOC_ERROR_CLIENT || error.code != MONGOC_ERROR_CLIENT_AUTHENTICATE)
    return "expected an authentication error, got domain " + std::to_string(error.domain) + " code " +
           std::to_string(error.code) + ": " + error.message;
  std::printf("libmongoc says: %s\n", error.message);
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  const bool is_commit = argc == 4 && std::strcmp(argv[1], "commit") == 0;
  const bool is_refused = argc == 3 && std::strcmp(argv[1], "refused") == 0;
  if (!is_commit && !is_refused) {
    std::fprintf(stderr, "usage: %s commit URI COLLECTION | refused URI\n", argv[0]);
    return 2;
  }
  mongoc_init();
  const std::string failure = is_commit ? commit(argv[2], argv[3]) : refused(argv[2]);
  mongoc_cleanup();
  if (!failure.empty()) {
    std::printf("FAILED: %s\n", failure.c_str());
    return 1;
  }
  std::printf("ok: libmongoc %s, %s\n", MONGOC_VERSION_S,
              is_commit ? "authenticated over TLS and committed a transaction" : "wrong password refused");
  return 0;
}
