#include "adapters/ci/apply.hpp"

#include <algorithm>
#include <ostream>

#include "engine/core/config_values.hpp"
#include "engine/core/error.hpp"
#include "engine/metadata/metadata.hpp"
#include "engine/registry/ecr.hpp"

namespace polyarch::ci {

void apply_facts(const Adapter& adapter, build::BuildOptions& options) {
  if (adapter.name() == "local") return;
  metadata::Facts facts = adapter.facts();
  if (options.images.empty() && !facts.registry_image.empty()) options.images = {facts.registry_image};
  for (const auto& [key, value] : metadata::oci_labels(facts, "")) {
    if (!value.empty()) options.labels.emplace(key, value);
  }
}

bool is_tag_rule(std::string_view text) { return core::is_tag_rule(text); }

void expand_tag_rules(const Adapter& adapter, build::BuildOptions& options) {
  std::vector<std::string> rules;
  std::vector<std::string> tags;
  for (const auto& tag : options.tags) (is_tag_rule(tag) ? rules : tags).push_back(tag);
  if (rules.empty()) return;
  metadata::Request request;
  request.rules = rules;
  metadata::Metadata made = metadata::compute(adapter.facts(), request);
  for (const auto& tag : made.tags) {
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
  }
  if (tags.empty() && (options.push || options.push_by_digest)) {
    std::string joined;
    for (const auto& rule : rules) joined += (joined.empty() ? "" : "; ") + rule;
    throw bad_input("tag rules " + quoted(joined) + " give no tag for this build (event " +
                    std::string(metadata::event_name(adapter.facts().event)) + ")");
  }
  options.tags = std::move(tags);
}

int apply_logins(const Adapter& adapter, registry::CredentialStore& store, std::ostream& log) {
  int added = 0;
  for (const auto& login : adapter.logins()) {
    log << adapter.mask(login.credential.password) << adapter.mask(login.credential.identity_token);
    store.add(login.registry, login.credential);
    ++added;
  }
  return added;
}

int apply_aws_logins(const Adapter& adapter, const std::vector<std::string>& registries,
                     registry::CredentialStore& store, std::ostream& log,
                     const registry::TransportOptions& options) {
  int added = 0;
  for (const auto& host : adapter.aws_logins(registries)) {
    try {
      registry::Credential credential = registry::ecr_login(adapter.environment(), host, options);
      log << adapter.mask(credential.password);
      store.add(host, credential);
      ++added;
    } catch (const Error& error) {
      log << "warning: " << error.what() << "\n";
    }
  }
  return added;
}

Sections::Sections(std::unique_ptr<Adapter> adapter, std::ostream& log, bool enabled)
    : m_adapter(std::move(adapter)), m_log(log), m_enabled(enabled) {}

Sections::~Sections() {
  try {
    close();
  } catch (...) {  // a destructor never throws; the stream reports its own state
  }
}

void Sections::next(std::string_view id, std::string_view title) {
  close();
  if (!m_enabled) return;
  m_log << m_adapter->section_start(id, title) << std::flush;
  m_open = std::string(id);
}

void Sections::close() {
  if (m_open.empty()) return;
  m_log << m_adapter->section_end(m_open) << std::flush;
  m_open.clear();
}

}  // namespace polyarch::ci
