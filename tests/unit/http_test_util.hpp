#pragma once
// What the HTTP, URL and TLS tests share: the message of a thrown failure,
// a GET request, and transport options that record instead of waiting.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/registry/http.hpp"

namespace polyarch::registry::test_util {

// The message of the Error that fn throws, or "" when it throws none.
template <typename F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::failure);
    return e.what();
  }
  return "";
}

// A GET of url.
inline HttpRequest get(const std::string& url) {
  HttpRequest request;
  request.url = Url::parse(url);
  return request;
}

// Transport options whose sleeps and debug lines are recorded, not waited for or printed.
struct Recorder {
  std::vector<std::chrono::milliseconds> sleeps;
  std::vector<std::string> lines;
  TransportOptions options() {
    TransportOptions o;
    o.connect_timeout = std::chrono::seconds(1);
    o.read_timeout = std::chrono::seconds(1);
    o.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
    o.debug = [this](const std::string& line) { lines.push_back(line); };
    return o;
  }
};

}  // namespace polyarch::registry::test_util
