#pragma once
// Registry error responses turned into one-line messages.

#include <string>

#include "engine/core/error.hpp"
#include "engine/registry/http.hpp"

namespace polyarch::registry {

// "WHAT: HTTP 400: MANIFEST_INVALID: manifest invalid" from a registry's
// {"errors":[{"code","message"}]} body (or its status alone).
Error registry_error(const HttpResponse& response, const std::string& what);

}  // namespace polyarch::registry
