#pragma once
// What a CI run (or a laptop) knows about the source being built: the facts
// that tags and OCI labels are made from. The CI adapters fill them in; the
// engine never reads a CI variable itself.

#include <cstdint>
#include <string>
#include <string_view>

namespace polyarch::metadata {

// Why the build runs.
enum class Event { branch, tag, pull_request, schedule, manual, other };

// "branch", "tag", "pull_request", "schedule", "manual", "other".
std::string_view event_name(Event event);

struct Facts {
  Event event = Event::other;
  std::string ref;              // "refs/heads/main", "refs/tags/v1.2.3", "refs/pull/2/merge"; "" when detached
  std::string branch;           // set when the ref is a branch (never for a pull request)
  std::string tag;              // set when the ref is a tag
  std::string pr_number;        // a pull/merge request's number
  std::string head_branch;      // a pull/merge request's source branch
  std::string base_ref;         // a pull/merge request's target branch
  std::string sha;              // the full commit SHA
  std::string default_branch;   // "" when the CI does not say
  std::string repository_url;   // "https://github.com/octocat/hello-world"
  std::string repository_name;  // "octocat/hello-world"
  std::string title;            // "hello-world"
  std::string description;
  std::string licenses;         // an SPDX expression, when the CI says
  std::string build_number;
  std::string commit_time;      // RFC 3339, "" when unknown
  std::string registry;         // the registry the CI provides ("registry.gitlab.com")
  std::string registry_image;   // this project's image there (CI_REGISTRY_IMAGE)
  std::int64_t time_ms = 0;     // "now" for {{date}} and the created label, in ms since 1970
};

}  // namespace polyarch::metadata
