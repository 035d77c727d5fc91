// mongowire-trace: shows, frame by frame, what a driver sends for one transaction:
// the first command with startTransaction/autocommit/readConcern, a later command
// with only lsid/txnNumber/autocommit, and commitTransaction on admin with the
// transaction's writeConcern. Offline: it encodes and decodes, nothing is sent.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "mongowire/bson.hpp"
#include "proto/command/command_builder.hpp"
#include "proto/wire/describe.hpp"
#include "proto/wire/op_msg.hpp"

namespace {

using namespace mongowire;
using namespace mongowire::detail;

struct trace_options {
  bool checksum = false;
  bool sequences = true;
};

void print_frame(const char* title, bson::document& body, const trace_options& opts, std::int32_t request_id) {
  std::vector<std::uint8_t> frame;
  wire::op_msg_encoder enc(frame);
  enc.begin(request_id);
  add_command_sections(enc, body, opts.sequences ? find_document_sequences(body) : std::nullopt);
  if (auto ec = enc.finish(opts.checksum)) {
    std::fprintf(stderr, "cannot encode %s: %s\n", title, ec.message().c_str());
    return;
  }
  std::printf("=== %s (%zu bytes)\n%s\n", title, frame.size(), wire::describe_frame(frame).c_str());
}

int usage() {
  std::puts(
      "usage: mongowire-trace [--checksum] [--no-sequences]\n"
      "Prints the annotated OP_MSG frames of one transaction (insert, update, commit).");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  trace_options opts;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--checksum") == 0) opts.checksum = true;
    else if (std::strcmp(argv[i], "--no-sequences") == 0) opts.sequences = false;
    else return usage();
  }
  session_id lsid{};
  for (std::size_t i = 0; i < lsid.size(); ++i) lsid[i] = static_cast<std::uint8_t>(0x10 + i);
  lsid[6] = (lsid[6] & 0x0f) | 0x40;  // UUID version 4
  lsid[8] = (lsid[8] & 0x3f) | 0x80;  // RFC 4122 variant

  bson::document body;
  bson::document employee;
  employee.append("_id", std::int32_t{1}).append("name", "Ada").append("status", "Active");
  bson::view docs[] = {employee.get_view()};
  build_insert(body, "employees", docs);
  command_fields first;
  first.db = "hr";
  first.lsid = lsid;
  first.txn_number = 1;
  first.start_transaction = true;
  first.in_transaction = true;
  first.read_concern.level = "snapshot";
  append_command_fields(body, first);
  print_frame("insert, first command of the transaction", body, opts, 1);

  bson::document filter, change;
  filter.append("_id", std::int32_t{1});
  change.append_document("$set", [](bson::document& d) { d.append("status", "Inactive"); });
  update_statement stmt;
  stmt.q = filter;
  stmt.u = change;
  build_update(body, "employees", std::span(&stmt, 1));
  command_fields later;
  later.db = "hr";
  later.lsid = lsid;
  later.txn_number = 1;
  later.in_transaction = true;
  append_command_fields(body, later);
  print_frame("update, later command of the transaction", body, opts, 2);

  build_commit_transaction(body);
  command_fields commit = later;
  commit.db = admin_db;
  commit.write_concern = write_concern_fields{std::string_view("majority"), std::nullopt, std::nullopt};
  append_command_fields(body, commit);
  print_frame("commitTransaction", body, opts, 3);
  return 0;
}
