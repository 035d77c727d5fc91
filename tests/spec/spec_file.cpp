#include "spec_file.hpp"

#include <fstream>
#include <sstream>

namespace mongowire::spec {

std::optional<bson::document> read_json_file(const std::filesystem::path& path, std::string& why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot read the file";
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto doc = bson::document::try_from_json(text.str(), &why);
  if (!doc) why = "not valid JSON: " + why;
  return doc;
}

}  // namespace mongowire::spec
