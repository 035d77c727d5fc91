// libmongoc 1.23 (MongoDB's C driver) judges the test server's wire compression
// (compression/OP_COMPRESSED.md): for each of zlib, zstd and snappy, a transaction (update +
// insert + commit) through a client with compressors=<name>, read back, and the server's
// serverStatus network.compression counters show that this compressor, and no other, carried
// the traffic both ways.
#include <mongoc/mongoc.h>

#include <array>
#include <cstdio>
#include <map>
#include <string>

#include "net/embedded_server.hpp"

namespace {

constexpr std::array<const char*, 3> compressors{"zlib", "zstd", "snappy"};

// {name: {compressor bytesOut, decompressor bytesOut}} from serverStatus.
std::map<std::string, std::pair<std::int64_t, std::int64_t>> counters(mongoc_client_t* client) {
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> out;
  bson_t cmd = BSON_INITIALIZER, reply;
  BSON_APPEND_INT32(&cmd, "serverStatus", 1);
  bson_error_t error;
  if (mongoc_client_command_simple(client, "admin", &cmd, nullptr, &reply, &error)) {
    for (const char* name : compressors) {
      bson_iter_t it;
      const std::string base = std::string("network.compression.") + name;
      std::int64_t c = 0, d = 0;
      if (bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, (base + ".compressor.bytesOut").c_str(), &it))
        c = bson_iter_as_int64(&it);
      if (bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, (base + ".decompressor.bytesOut").c_str(), &it))
        d = bson_iter_as_int64(&it);
      out[name] = {c, d};
    }
  }
  bson_destroy(&cmd);
  bson_destroy(&reply);
  return out;
}

// update + insert + commit in one transaction; an empty string on success.
std::string run_transaction(mongoc_client_t* client, mongoc_collection_t* coll) {
  bson_error_t error;
  mongoc_client_session_t* session = mongoc_client_start_session(client, nullptr, &error);
  if (!session) return std::string("start_session: ") + error.message;
  std::string failure;
  bson_t opts = BSON_INITIALIZER;
  bson_t* filter = BCON_NEW("_id", BCON_INT32(1));
  bson_t* update = BCON_NEW("$inc", "{", "n", BCON_INT32(1), "}");
  std::string pad(2000, 'x');
  bson_t* doc = BCON_NEW("_id", BCON_INT32(2), "pad", BCON_UTF8(pad.c_str()));
  if (!mongoc_client_session_append(session, &opts, &error) ||
      !mongoc_client_session_start_transaction(session, nullptr, &error) ||
      !mongoc_collection_update_one(coll, filter, update, &opts, nullptr, &error) ||
      !mongoc_collection_insert_one(coll, doc, &opts, nullptr, &error) ||
      !mongoc_client_session_commit_transaction(session, nullptr, &error))
    failure = std::string("transaction: ") + error.message;
  bson_destroy(filter);
  bson_destroy(update);
  bson_destroy(doc);
  bson_destroy(&opts);
  mongoc_client_session_destroy(session);
  return failure;
}

std::string check_compressor(const std::string& address, const char* name) {
  const std::string uri = "mongodb://" + address + "/?replicaSet=rs0&compressors=" + name;
  mongoc_client_t* client = mongoc_client_new(uri.c_str());
  if (!client) return "cannot create a client for " + uri;
  mongoc_collection_t* coll = mongoc_client_get_collection(client, "interop", name);
  bson_t* seed = BCON_NEW("_id", BCON_INT32(1), "n", BCON_INT32(0));
  bson_error_t error;
  std::string failure;
  if (!mongoc_collection_insert_one(coll, seed, nullptr, nullptr, &error))
    failure = std::string("seed: ") + error.message;
  const auto before = counters(client);
  if (failure.empty()) failure = run_transaction(client, coll);
  const auto after = counters(client);
  bson_t all = BSON_INITIALIZER;
  const std::int64_t documents =
      failure.empty() ? mongoc_collection_count_documents(coll, &all, nullptr, nullptr, nullptr, &error) : 0;
  bson_destroy(&all);
  if (failure.empty() && documents != 2) failure = "expected 2 documents after the commit";
  for (const char* other : compressors) {
    if (!failure.empty() || after.count(other) == 0) break;
    const auto grew_c = after.at(other).first - before.at(other).first;
    const auto grew_d = after.at(other).second - before.at(other).second;
    const bool same = std::string(other) == name;
    if (same && (grew_c <= 0 || grew_d <= 2000)) failure = std::string(name) + " carried too little traffic";
    if (!same && (grew_c != 0 || grew_d != 0)) failure = std::string(other) + " was used instead of " + name;
  }
  if (failure.empty() && after.empty()) failure = "serverStatus failed";
  bson_destroy(seed);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  return failure;
}

}  // namespace

int main() {
  mongoc_init();
  mongowire::testd::embedded_server server;
  int failed = 0;
  for (const char* name : compressors) {
    const std::string failure = check_compressor(server.address(), name);
    if (failure.empty()) {
      std::printf("ok: libmongoc %s, a transaction with compressors=%s\n", MONGOC_VERSION_S, name);
    } else {
      std::printf("FAILED: compressors=%s: %s\n", name, failure.c_str());
      ++failed;
    }
  }
  mongoc_cleanup();
  std::printf("%d passed, %d failed\n", static_cast<int>(compressors.size()) - failed, failed);
  return failed == 0 ? 0 : 1;
}
