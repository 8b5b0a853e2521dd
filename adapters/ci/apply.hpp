#pragma once
// Where the adapters meet the build: CI facts into build options (between
// polyarch.yml and POLYARCH_* variables), tag rules into tags, CI logins into
// a credential store, and collapsible log sections around the build stages.

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/ci/adapter.hpp"
#include "engine/build/options.hpp"
#include "engine/registry/credentials.hpp"
#include "engine/registry/http.hpp"

namespace polyarch::ci {

// Sets what the facts imply and polyarch.yml left unset: the image (the CI's
// own registry image: CI_REGISTRY_IMAGE, ghcr.io/OWNER/REPO) and the OCI
// labels org.opencontainers.image.* that have a value. Throws bad_input.
void apply_facts(const Adapter& adapter, build::BuildOptions& options);

// True for a tags entry in metadata-action's rule syntax ("type=…").
bool is_tag_rule(std::string_view text);

// Replaces tag rules in options.tags by the tags they give for the facts
// (bare tags, applied to every image); plain tags stay. Throws bad_input for
// a bad rule, and `tag rules "…" give no tag for this build` when a push
// has nothing left to tag (a build into a layout goes on untagged, as
// metadata-action gives no tags then).
void expand_tag_rules(const Adapter& adapter, build::BuildOptions& options);

// Adds each CI login to store, writing the CI's mask line for every secret
// to log first. Returns how many logins were added.
int apply_logins(const Adapter& adapter, registry::CredentialStore& store, std::ostream& log);

// Logs in through AWS (ECR's GetAuthorizationToken) to each registry that
// adapter.aws_logins(registries) names — ECR hosts under CodeBuild — and
// adds each login to store, writing the CI's mask line first. A login AWS
// refuses is one "warning: …" line on log, not an error: the push then
// fails with the registry's own answer. Returns how many logins were added.
int apply_aws_logins(const Adapter& adapter, const std::vector<std::string>& registries,
                     registry::CredentialStore& store, std::ostream& log,
                     const registry::TransportOptions& options = {});

// The build's stages as collapsible sections: next() closes the open one
// and opens another; the destructor closes the last.
class Sections {
 public:
  Sections(std::unique_ptr<Adapter> adapter, std::ostream& log, bool enabled);
  ~Sections();
  Sections(const Sections&) = delete;
  Sections& operator=(const Sections&) = delete;

  void next(std::string_view id, std::string_view title);
  void close();

 private:
  std::unique_ptr<Adapter> m_adapter;
  std::ostream& m_log;
  bool m_enabled;
  std::string m_open;
};

}  // namespace polyarch::ci
