#pragma once
// One error model: every failure is an Error whose kind maps to an exit status.

#include <stdexcept>
#include <string>

namespace polyarch {

enum class ErrorKind {
  failure = 1,    // the operation failed: build, network, registry, I/O
  bad_input = 2,  // usage, config, reference, platform
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), m_kind(kind) {}

  ErrorKind kind() const { return m_kind; }
  int exit_status() const { return static_cast<int>(m_kind); }

 private:
  ErrorKind m_kind;
};

// An error in what the user gave us (exit status 2).
inline Error bad_input(const std::string& message) {
  return Error(ErrorKind::bad_input, message);
}

// An operation that failed (exit status 1).
inline Error failure(const std::string& message) {
  return Error(ErrorKind::failure, message);
}

// Quotes a user's value for a message: "value". The overloads are exact
// matches so that std::quoted, found by argument lookup, never wins.
inline std::string quoted(const std::string& value) { return "\"" + value + "\""; }
inline std::string quoted(std::string& value) { return "\"" + value + "\""; }
inline std::string quoted(const char* value) { return quoted(std::string(value)); }

}  // namespace polyarch
