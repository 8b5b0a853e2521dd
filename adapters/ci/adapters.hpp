#pragma once
// The five adapters' probes and constructors, for the table in adapter.cpp
// and for tests. Each pair lives in its own file.

#include <memory>

#include "adapters/ci/adapter.hpp"

namespace polyarch::ci {

bool detect_github(const core::Env& env);     // GITHUB_ACTIONS=true
bool detect_gitlab(const core::Env& env);     // GITLAB_CI=true
bool detect_circleci(const core::Env& env);   // CIRCLECI=true
bool detect_codebuild(const core::Env& env);  // CODEBUILD_BUILD_ID set
bool detect_local(const core::Env& env);      // always

std::unique_ptr<Adapter> make_github(core::Env env, Clock clock);
std::unique_ptr<Adapter> make_gitlab(core::Env env, Clock clock);
std::unique_ptr<Adapter> make_circleci(core::Env env, Clock clock);
std::unique_ptr<Adapter> make_codebuild(core::Env env, Clock clock);
std::unique_ptr<Adapter> make_local(core::Env env, Clock clock);

}  // namespace polyarch::ci

namespace polyarch::ci {

// A repository's web address from a clone URL: "git@github.com:o/r.git" and
// "https://github.com/o/r.git" both give "https://github.com/o/r".
std::string web_url(std::string_view clone_url);

// The last path component: "o/r" gives "r".
std::string last_component(std::string_view path);

// ASCII lower case.
std::string lowercase(std::string text);

}  // namespace polyarch::ci
