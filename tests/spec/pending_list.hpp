// tests/spec/pending.txt: spec tests that wait for a feature another issue brings. A listed
// test that fails is reported PENDING (never as passed); a listed test that passes fails the
// run, so the list only shrinks; an entry that names no test fails a full run.
//
// One test a line: FILE | DESCRIPTION | what it waits for (feature, issue). FILE is the path
// under the specs directory, as the runner prints it. '#' starts a comment line.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mongowire::spec {

class pending_list {
 public:
  // Throws std::runtime_error naming the line when the file is malformed.
  static pending_list load(const std::filesystem::path& file);

  // The reason when (file, description) is listed; marks the entry as used.
  std::optional<std::string> lookup(const std::string& file, const std::string& description);
  // Entries that matched no test, as "FILE | DESCRIPTION".
  std::vector<std::string> unused() const;
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct entry {
    std::string reason;
    bool used = false;
  };
  std::map<std::pair<std::string, std::string>, entry> entries_;
};

}  // namespace mongowire::spec
