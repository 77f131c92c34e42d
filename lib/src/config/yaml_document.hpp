#pragma once
// Reads a YAML node configuration into the same rapidjson value model the JSON
// reader produces, so that both go through one checker with the same messages.
#include <rapidjson/document.h>

#include <optional>
#include <string>

namespace blindrouter::config {

// On success `out` holds the document and the result is empty; otherwise it is the
// reason, with the line and column where libyaml or this reader stopped.
std::optional<std::string> parse_yaml_document(const std::string& text, rapidjson::Document& out);

}  // namespace blindrouter::config
