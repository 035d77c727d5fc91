// Reading one spec test file, shared by every suite runner.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "mongowire/bson.hpp"

namespace mongowire::spec {

// The file as a document; nullopt with `why` ("cannot read the file", "not valid JSON: ...").
std::optional<bson::document> read_json_file(const std::filesystem::path& path, std::string& why);

}  // namespace mongowire::spec
