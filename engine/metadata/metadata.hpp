#pragma once
// Tags and OCI labels from facts, with docker/metadata-action's semantics:
// rules by priority, the first rule that yields a value gives the version,
// "latest" per the flavor, pre-releases only ever get their full version.

#include <string>
#include <utility>
#include <vector>

#include "engine/metadata/facts.hpp"
#include "nlohmann/json.hpp"

namespace polyarch::metadata {

// What `polyarch tags` is asked: metadata-action's images, tags and flavor
// inputs, one line each.
struct Request {
  std::vector<std::string> images;  // none: bare tags
  std::vector<std::string> rules;   // none: the default rules
  std::vector<std::string> flavor;
};

struct Metadata {
  std::string version;                 // the highest-priority tag, "" when no rule matched
  std::vector<std::string> tags;       // "NAME:TAG" (or "TAG" without images), highest priority first
  std::vector<std::pair<std::string, std::string>> labels;  // org.opencontainers.image.*, in order
  std::vector<std::string> annotations;  // "manifest:KEY=VALUE", one per label
  std::vector<std::string> warnings;     // a tag that is not a valid semver, …

  // {"tags": […], "labels": {…}, "annotations": […]}, as metadata-action's json output.
  nlohmann::json json() const;
};

// org.opencontainers.image.{title,description,url,source,version,created,
// revision,licenses} from facts, in that order (empty values kept).
std::vector<std::pair<std::string, std::string>> oci_labels(const Facts& facts, const std::string& version);

// Tags, labels and annotations for facts. Throws bad_input for a bad rule,
// flavor, image or expression.
Metadata compute(const Facts& facts, const Request& request);

}  // namespace polyarch::metadata
