#pragma once
// Shared checks for the libFuzzer targets: a parser may only fail with a
// polyarch::Error whose message is one non-empty line; anything else (another
// exception, a crash, a sanitizer report) is a finding.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/core/error.hpp"

namespace polyarch::fuzz {

// Aborts (a libFuzzer crash) with why, so the input is saved.
[[noreturn]] inline void finding(const std::string& why) {
  std::fprintf(stderr, "fuzz finding: %s\n", why.c_str());
  std::abort();
}

// Checks the message of an Error a parser threw.
inline void check_error(const Error& error) {
  std::string_view message = error.what();
  if (message.empty()) finding("empty error message");
  if (message.find('\n') != std::string_view::npos)
    finding("multi-line message: " + std::string(message));
}

// Runs parse(); an Error is checked, any other exception is a finding.
// Returns whether parse() succeeded.
template <typename Fn>
bool expect_only_errors(Fn&& parse) {
  try {
    parse();
    return true;
  } catch (const Error& error) {
    check_error(error);
  } catch (const std::exception& other) {
    finding(std::string("non-polyarch exception: ") + other.what());
  }
  return false;
}

// Runs check() on a value that parsed; any exception there is a finding.
template <typename Fn>
void must_hold(const char* what, Fn&& check) {
  try {
    if (!check()) finding(what);
  } catch (const std::exception& error) {
    finding(std::string(what) + ": " + error.what());
  }
}

}  // namespace polyarch::fuzz
