#include "engine/metadata/expressions.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <regex>

#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::metadata {

namespace {

std::string two(int value) {
  char text[16];
  std::snprintf(text, sizeof text, "%02d", value);
  return text;
}

std::tm utc(std::int64_t time_ms) {
  std::time_t seconds = static_cast<std::time_t>(time_ms >= 0 ? time_ms / 1000 : (time_ms - 999) / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  return parts;
}

int millis(std::int64_t time_ms) { return static_cast<int>(((time_ms % 1000) + 1000) % 1000); }

// The argument of {{name 'arg'}} or {{name "arg"}}; other words (tz=…) are ignored.
std::string argument(std::string_view rest) {
  rest = core::trim(rest);
  if (rest.empty()) return "";
  char quote = rest.front();
  if (quote != '\'' && quote != '"') return std::string(rest.substr(0, rest.find(' ')));
  size_t end = rest.find(quote, 1);
  return std::string(rest.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1));
}

std::string strip_zeros(const std::string& digits) {
  size_t first = digits.find_first_not_of('0');
  return first == std::string::npos ? "0" : digits.substr(first);
}

}  // namespace

std::string render(std::string_view pattern, const Lookup& lookup) {
  std::string out;
  size_t at = 0;
  while (true) {
    size_t open = pattern.find("{{", at);
    if (open == std::string_view::npos) break;
    size_t close = pattern.find("}}", open + 2);
    if (close == std::string_view::npos) {
      throw bad_input("unclosed \"{{\" in " + quoted(std::string(pattern)));
    }
    out += pattern.substr(at, open - at);
    std::string_view inner = core::trim(pattern.substr(open + 2, close - open - 2));
    size_t space = inner.find(' ');
    std::string name(inner.substr(0, space));
    std::string arg = space == std::string_view::npos ? "" : argument(inner.substr(space));
    auto value = lookup(name, arg);
    if (!value) {
      throw bad_input("unknown expression " + quoted("{{" + std::string(inner) + "}}") + " in " +
                      quoted(std::string(pattern)));
    }
    out += *value;
    at = close + 2;
  }
  out += pattern.substr(at);
  return out;
}

std::string format_date(std::int64_t time_ms, std::string_view format) {
  std::tm t = utc(time_ms);
  // Longest tokens first, as moment matches them.
  static const std::vector<std::string_view> tokens = {"YYYY", "SSS", "YY", "MM", "DD", "HH", "hh", "mm",
                                                       "ss", "M", "D", "H", "h", "m", "s", "X", "x"};
  std::string out;
  size_t i = 0;
  while (i < format.size()) {
    if (format[i] == '[') {
      size_t end = format.find(']', i);
      if (end != std::string_view::npos) {
        out += format.substr(i + 1, end - i - 1);
        i = end + 1;
        continue;
      }
    }
    std::string_view token;
    for (auto candidate : tokens) {
      if (format.substr(i, candidate.size()) == candidate) {
        token = candidate;
        break;
      }
    }
    int hour12 = t.tm_hour % 12 == 0 ? 12 : t.tm_hour % 12;
    if (token.empty()) out += format[i];
    else if (token == "YYYY") out += std::to_string(t.tm_year + 1900);
    else if (token == "YY") out += two((t.tm_year + 1900) % 100);
    else if (token == "MM") out += two(t.tm_mon + 1);
    else if (token == "M") out += std::to_string(t.tm_mon + 1);
    else if (token == "DD") out += two(t.tm_mday);
    else if (token == "D") out += std::to_string(t.tm_mday);
    else if (token == "HH") out += two(t.tm_hour);
    else if (token == "H") out += std::to_string(t.tm_hour);
    else if (token == "hh") out += two(hour12);
    else if (token == "h") out += std::to_string(hour12);
    else if (token == "mm") out += two(t.tm_min);
    else if (token == "m") out += std::to_string(t.tm_min);
    else if (token == "ss") out += two(t.tm_sec);
    else if (token == "s") out += std::to_string(t.tm_sec);
    else if (token == "SSS") { char ms[8]; std::snprintf(ms, sizeof ms, "%03d", millis(time_ms)); out += ms; }
    else if (token == "X") out += std::to_string(time_ms / 1000);
    else out += std::to_string(time_ms);
    i += token.empty() ? 1 : token.size();
  }
  return out;
}

std::string iso_time(std::int64_t time_ms) {
  return format_date(time_ms, "YYYY-MM-DD[T]HH:mm:ss.SSS[Z]");
}

std::optional<Version> parse_semver(std::string_view text) {
  static const std::regex pattern(
      R"(^[v=]?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*))"
      R"((?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?)"
      R"((?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$)");
  std::string input(core::trim(text));
  std::smatch match;
  if (!std::regex_match(input, match, pattern)) return std::nullopt;
  Version version;
  version.raw = input;
  version.major = match[1];
  version.minor = match[2];
  version.patch = match[3];
  version.version = version.major + "." + version.minor + "." + version.patch;
  if (match[4].matched) {
    version.version += "-" + match[4].str();
    version.prerelease = true;
  }
  return version;
}

std::optional<Version> parse_pep440(std::string_view text) {
  static const std::regex pattern(
      R"(^v?(?:(\d+)!)?(\d+(?:\.\d+)*))"
      R"((?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*))?)"
      R"((?:(?:-(\d+))|(?:[-_.]?(post|rev|r)[-_.]?(\d*)))?)"
      R"((?:[-_.]?(dev)[-_.]?(\d*))?)"
      R"((?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$)",
      std::regex::icase);
  std::string input(core::trim(text));
  std::smatch m;
  if (!std::regex_match(input, m, pattern)) return std::nullopt;
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  Version version;
  version.raw = input;
  std::vector<std::string> release;
  for (const auto& piece : core::split(m[2].str(), '.')) release.push_back(strip_zeros(piece));
  std::string out;
  if (m[1].matched && strip_zeros(m[1]) != "0") out += strip_zeros(m[1]) + "!";
  for (size_t i = 0; i < release.size(); ++i) out += (i ? "." : "") + release[i];
  if (m[3].matched) {
    std::string kind = lower(m[3]);
    if (kind == "alpha") kind = "a";
    else if (kind == "beta") kind = "b";
    else if (kind == "c" || kind == "pre" || kind == "preview") kind = "rc";
    out += kind + strip_zeros(m[4].str().empty() ? "0" : m[4].str());
  }
  if (m[5].matched) out += ".post" + strip_zeros(m[5]);
  if (m[6].matched) out += ".post" + strip_zeros(m[7].str().empty() ? "0" : m[7].str());
  if (m[8].matched) out += ".dev" + strip_zeros(m[9].str().empty() ? "0" : m[9].str());
  if (m[10].matched) out += "+" + lower(m[10]);
  version.version = out;
  version.major = release[0];
  version.minor = release.size() > 1 ? release[1] : "0";
  version.patch = release.size() > 2 ? release[2] : "0";
  version.prerelease = m[3].matched || m[5].matched || m[6].matched || m[8].matched;
  return version;
}

std::string sanitize_tag(std::string_view text) {
  std::string out;
  bool in_run = false;
  for (char c : text) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    if (ok) {
      out += c;
      in_run = false;
    } else if (!in_run) {
      out += '-';
      in_run = true;
    }
  }
  if (out.size() > 128) out.resize(128);
  return out;
}

}  // namespace polyarch::metadata
