// polyarch login / logout: check credentials against a registry and keep
// them in Docker's config.json (or its credential helper).
//
// An ECR host (ACCOUNT.dkr.ecr.REGION.amazonaws.com) given without -u, or
// any host with --aws, logs in through AWS: ecr:GetAuthorizationToken
// signed with the AWS credentials of the environment or the container.
#include <iostream>
#include <sstream>

#include "adapters/ci/adapter.hpp"
#include "adapters/cli/commands.hpp"
#include "adapters/cli/registry_options.hpp"
#include "engine/core/env.hpp"
#include "engine/core/error.hpp"
#include "engine/registry/auth.hpp"
#include "engine/registry/credentials.hpp"
#include "engine/registry/ecr.hpp"

namespace polyarch::cli {

namespace {

constexpr std::string_view k_default_registry = "docker.io";

// The registry a command names: "docker.io" when none; "https://HOST/v1/" → "HOST".
std::string registry_argument(const Args& args, std::string_view command) {
  const auto& words = args.positionals();
  if (words.size() > 1) throw bad_input(std::string(command) + " takes at most one registry");
  std::string_view text = words.empty() ? k_default_registry : std::string_view(words[0]);
  for (std::string_view scheme : {"https://", "http://"}) {
    if (text.starts_with(scheme)) text.remove_prefix(scheme.size());
  }
  text = text.substr(0, text.find('/'));
  if (text.empty()) throw bad_input("invalid registry " + quoted(words[0]) + ": expected HOST[:PORT]");
  return std::string(text);
}

// Reads the password from stdin, without its trailing newline.
std::string read_password(std::istream& in) {
  std::ostringstream text;
  text << in.rdbuf();
  std::string password = text.str();
  if (password.ends_with('\n')) password.pop_back();
  if (password.ends_with('\r')) password.pop_back();
  if (password.empty()) throw bad_input("the password read from stdin is empty");
  return password;
}

// GET /v2/ with the credential: the Authenticator throws when the registry
// or its token server refuses it.
void verify(const Context& context, const std::string& registry,
            const registry::Credential& credential) {
  registry::Transport transport(transport_options(context));
  registry::CredentialStore store(core::process_env());
  store.set_explicit(credential);
  registry::Authenticator authenticator(transport, store, registry);
  registry::HttpRequest request;
  request.url = registry::Url::parse(transport.base_url(registry::api_host(registry)) + "/v2/");
  registry::HttpResponse response = authenticator.send(request, {});
  if (response.status != 200) {
    throw failure("cannot log in to " + registry + ": GET " + request.url.str() +
                  " answered HTTP " + std::to_string(response.status));
  }
}

// The registry password from ecr:GetAuthorizationToken, masked in the CI's log first.
registry::Credential aws_login(const Context& context, const std::string& registry) {
  const Args& args = context.args;
  if (args.has("--password-stdin") || args.has("--username") || args.has("-u")) {
    throw bad_input("login through AWS takes no -u or --password-stdin: "
                    "the password comes from ecr:GetAuthorizationToken");
  }
  core::Env env = core::process_env();
  registry::Credential credential = registry::ecr_login(env, registry, transport_options(context));
  context.err << ci::make_adapter(args.value("--ci", "auto"), env)->mask(credential.password);
  return credential;
}

}  // namespace

int run_login(Context& context) {
  const Args& args = context.args;
  if (args.has("--password")) {
    throw bad_input("--password on the command line is unsafe; use --password-stdin");
  }
  if (args.has("--aws") && args.positionals().empty()) {
    throw bad_input("login --aws needs a registry, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com");
  }
  std::string registry = registry_argument(args, "login");
  bool by_hand = args.has("--username") || args.has("-u") || args.has("--password-stdin");
  if (args.has("--aws") || (!by_hand && registry::parse_ecr_host(registry))) {
    registry::Credential credential = aws_login(context, registry);
    verify(context, registry, credential);
    registry::save_login(core::process_env(), registry, credential);
    context.err << "Login Succeeded\n";
    return 0;
  }
  std::string username = args.value("--username", args.value("-u"));
  if (username.empty()) throw bad_input("login needs a user name: -u USER or --username USER");
  if (!args.has("--password-stdin")) {
    throw bad_input("login reads the password from stdin: add --password-stdin");
  }
  registry::Credential credential{username, read_password(std::cin), ""};
  verify(context, registry, credential);
  registry::save_login(core::process_env(), registry, credential);
  context.err << "Login Succeeded\n";
  return 0;
}

int run_logout(Context& context) {
  std::string registry = registry_argument(context.args, "logout");
  if (registry::remove_login(core::process_env(), registry)) {
    context.err << "Removed login credentials for " << registry << "\n";
  } else {
    context.err << "not logged in to " << registry << "\n";
  }
  return 0;
}

}  // namespace polyarch::cli
