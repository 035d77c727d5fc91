#include "pending_list.hpp"

#include <fstream>
#include <stdexcept>

namespace mongowire::spec {

namespace {

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Splits "a | b | c" into exactly three trimmed, non-empty fields. The description is
// the middle field and may itself contain '|': the file is everything before the first
// bar and the reason everything after the last.
std::optional<std::vector<std::string>> split_line(const std::string& line) {
  auto first = line.find('|');
  auto last = line.rfind('|');
  if (first == std::string::npos || first == last) return std::nullopt;
  std::vector<std::string> f{trim(line.substr(0, first)), trim(line.substr(first + 1, last - first - 1)),
                             trim(line.substr(last + 1))};
  for (const auto& s : f)
    if (s.empty()) return std::nullopt;
  return f;
}

}  // namespace

pending_list pending_list::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read pending list " + file.string());
  pending_list out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    auto where = file.string() + ":" + std::to_string(number);
    auto fields = split_line(line);
    if (!fields) throw std::runtime_error(where + ": expected 'FILE | DESCRIPTION | REASON'");
    auto key = std::make_pair((*fields)[0], (*fields)[1]);
    if (!out.entries_.emplace(key, entry{(*fields)[2]}).second)
      throw std::runtime_error(where + ": the test is listed twice");
  }
  return out;
}

std::optional<std::string> pending_list::lookup(const std::string& file, const std::string& description) {
  auto it = entries_.find({file, description});
  if (it == entries_.end()) return std::nullopt;
  it->second.used = true;
  return it->second.reason;
}

std::vector<std::string> pending_list::unused() const {
  std::vector<std::string> out;
  for (const auto& [key, e] : entries_)
    if (!e.used) out.push_back(key.first + " | " + key.second);
  return out;
}

}  // namespace mongowire::spec
