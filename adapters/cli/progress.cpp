#include "adapters/cli/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <set>

#include "adapters/ci/adapter.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::cli {

namespace {

constexpr auto k_redraw_every = std::chrono::milliseconds(100);
constexpr size_t k_state_width = 14;  // "building 9999s": details line up after it

// True when name appears in text on its own: "linux/arm" is not in "linux/arm64".
bool names(std::string_view text, std::string_view name) {
  auto part_of_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '/'; };
  for (size_t at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
    bool before = at == 0 || !part_of_name(text[at - 1]);
    bool after = at + name.size() == text.size() || !part_of_name(text[at + name.size()]);
    if (before && after) return true;
  }
  return false;
}

bool finished(PlatformState state) {
  return state == PlatformState::built || state == PlatformState::done || state == PlatformState::failed || state == PlatformState::stopped;
}

}  // namespace

bool progress_wanted(bool stderr_is_terminal, std::string_view ci, int verbosity, std::string_view term) {
  return stderr_is_terminal && ci == "local" && verbosity == 0 && !term.empty() && term != "dumb";
}

int terminal_width(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

ProgressDisplay::ProgressDisplay(const std::vector<image::Platform>& platforms, std::ostream& out,
                                 int width, SecondsClock clock)
    : m_out(out), m_width(std::max(width, 2)), m_clock(std::move(clock)) {
  for (const auto& platform : platforms) {
    m_lines.emplace_back();
    m_lines.back().platform = platform.str();
  }
}

ProgressDisplay::~ProgressDisplay() {
  {
    std::lock_guard lock(m_stop_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

void ProgressDisplay::mark_building(Line& line) {
  if (line.state != PlatformState::waiting) return;
  line.state = PlatformState::building;
  line.started = m_clock();
}

void ProgressDisplay::building(std::span<const image::Platform> platforms) {
  std::lock_guard lock(m_mutex);
  if (platforms.size() > 1) {  // a one-run attempt: its lines will tell
    m_group.clear();
    for (const auto& platform : platforms) m_group.push_back(platform.str());
    return;
  }
  for (auto& line : m_lines) {
    if (!platforms.empty() && line.platform == platforms.front().str()) mark_building(line);
  }
}

void ProgressDisplay::log(const std::string& text) {
  std::lock_guard lock(m_mutex);
  // The pipeline prefixes each line of a one-platform build with "[P] ".
  if (text.starts_with("[")) {
    size_t end = text.find("] ");
    for (auto& line : m_lines) {
      if (end != std::string::npos && text.compare(1, end - 1, line.platform) == 0) {
        mark_building(line);
        line.last_line = progress_text::clean(std::string_view(text).substr(end + 2));
        return;
      }
    }
  }
  // Otherwise one run builds the group: the line goes to the platforms it
  // names, or to all of them.
  bool any_named = false;
  for (const auto& line : m_lines) any_named = any_named || names(text, line.platform);
  for (auto& line : m_lines) {
    bool in_group = std::find(m_group.begin(), m_group.end(), line.platform) != m_group.end();
    if (!in_group || (any_named && !names(text, line.platform))) continue;
    mark_building(line);
    line.last_line = progress_text::clean(text);
  }
}

void ProgressDisplay::built(const build::PlatformResult& result) {
  std::lock_guard lock(m_mutex);
  for (auto& line : m_lines) {
    if (line.platform != result.platform.str()) continue;
    line.state = PlatformState::built;
    line.build_seconds = result.finished - result.started;
    line.last_line.clear();
  }
}

void ProgressDisplay::pushing(const build::StagedImage& staged, const image::LayoutDir& layout, int passes) {
  std::lock_guard lock(m_mutex);
  m_passes = std::max(passes, 1);
  for (const auto& result : staged.platforms) {
    for (auto& line : m_lines) {
      if (line.platform != result.platform.str()) continue;
      line.state = PlatformState::pushing;
      line.build_seconds = result.finished - result.started;
      line.last_line.clear();
      if (image::media_type::is_manifest(result.manifest.media_type)) {
        std::string bytes = layout.read_blob(result.manifest.digest);
        image::Manifest manifest = image::parse_manifest(bytes, "built manifest");
        line.blobs = {manifest.config};
        line.blobs.insert(line.blobs.end(), manifest.layers.begin(), manifest.layers.end());
      }
    }
  }
}

void ProgressDisplay::done() {
  {
    std::lock_guard lock(m_mutex);
    for (auto& line : m_lines) line.state = PlatformState::done;
  }
  finish();
}

void ProgressDisplay::failed(std::string_view error) {
  {
    std::lock_guard lock(m_mutex);
    bool any_named = false;
    for (const auto& line : m_lines) {
      any_named = any_named || (!finished(line.state) && names(error, line.platform));
    }
    for (auto& line : m_lines) {
      if (finished(line.state)) continue;
      bool culprit = !any_named || names(error, line.platform);
      line.state = culprit ? PlatformState::failed : PlatformState::stopped;
    }
  }
  finish();
}

void ProgressDisplay::finish() {
  {
    std::lock_guard lock(m_stop_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
  draw();  // the final frame, from this thread now that the other is gone
}

void ProgressDisplay::start() {
  m_thread = std::thread([this] {
    std::unique_lock lock(m_stop_mutex);
    while (!m_stopping) {
      lock.unlock();
      draw();
      lock.lock();
      m_wake.wait_for(lock, k_redraw_every, [this] { return m_stopping; });
    }
  });
}

void ProgressDisplay::draw() {
  std::string frame;
  size_t count = 0;
  {
    std::lock_guard lock(m_mutex);
    frame = render_locked();
    count = m_lines.size();
  }
  if (frame == m_last_frame) return;
  std::string bytes;
  // Back to the first line of the previous frame; each line then erases its rest.
  if (m_drawn_lines > 0) bytes = "\r\x1b[" + std::to_string(m_drawn_lines) + "A";
  bytes += frame;
  m_out << bytes << std::flush;
  m_last_frame = std::move(frame);
  m_drawn_lines = count;
}

std::string ProgressDisplay::render_locked() const {
  size_t name_width = 0;
  for (const auto& line : m_lines) name_width = std::max(name_width, line.platform.size());
  std::string frame;
  for (const auto& line : m_lines) frame += render_line(line, name_width) + "\x1b[K\n";
  return frame;
}

std::string ProgressDisplay::render_line(const Line& line, size_t name_width) const {
  auto seconds = [](double value) { return std::to_string(static_cast<int64_t>(std::floor(value))) + "s"; };
  int64_t total = 0, pushed = 0;
  for (const auto& blob : line.blobs) {
    int64_t size = blob.size * m_passes;
    total += size;
    pushed += std::min(size, m_tally.bytes(blob.digest));
  }
  std::string state, detail;
  switch (line.state) {
    case PlatformState::waiting: state = "waiting"; break;
    case PlatformState::building:
      state = "building " + seconds(m_clock() - line.started);
      detail = line.last_line;
      break;
    case PlatformState::built:
      state = "built";
      if (line.build_seconds >= 0) detail = "in " + seconds(line.build_seconds) + ", waiting for the others";
      break;
    case PlatformState::pushing:
      state = "pushing " + progress_text::bytes(pushed) + " of " + progress_text::bytes(total);
      break;
    case PlatformState::done:
      state = "done";
      if (line.build_seconds >= 0) {
        detail = "built in " + seconds(line.build_seconds) + ", " + progress_text::bytes(total / m_passes);
      }
      break;
    case PlatformState::failed:
      state = "failed";
      detail = line.last_line;
      break;
    case PlatformState::stopped: state = "stopped"; break;
  }
  std::string text = line.platform + std::string(name_width - line.platform.size() + 2, ' ') + state;
  if (!detail.empty()) {
    text += std::string(state.size() < k_state_width ? k_state_width - state.size() : 0, ' ') + "  " + detail;
  }
  // One column short of the width, so the cursor never wraps to a new line.
  return progress_text::trim_columns(text, static_cast<size_t>(m_width - 1));
}

std::unique_ptr<ProgressDisplay> make_progress(const Context& context,
                                               const std::vector<image::Platform>& platforms) {
  const char* term = std::getenv("TERM");
  bool terminal = ::isatty(STDERR_FILENO) == 1 && context.err.rdbuf() == std::cerr.rdbuf();
  std::string ci(ci::make_adapter(context.args.value("--ci", "auto"), core::process_env())->name());
  if (!progress_wanted(terminal, ci, context.verbosity, term ? term : "")) return nullptr;
  auto start = std::chrono::steady_clock::now();
  SecondsClock clock = [start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto display = std::make_unique<ProgressDisplay>(platforms, context.err, terminal_width(STDERR_FILENO), clock);
  display->start();
  return display;
}

build::PipelineHooks watch_build(ProgressDisplay& display, build::PipelineHooks hooks) {
  hooks.cache_args = [&display, cache_args = hooks.cache_args](std::span<const image::Platform> platforms) {
    display.building(platforms);
    return cache_args ? cache_args(platforms) : std::vector<std::string>{};
  };
  hooks.log = [&display](const std::string& line) { display.log(line); };
  hooks.built = [&display, built = hooks.built](const build::PlatformResult& result) {
    display.built(result);
    if (built) built(result);
  };
  return hooks;
}

int publish_passes(const build::BuildOptions& options, const std::vector<image::Reference>& tags,
                   const std::vector<image::Reference>& images) {
  if (options.push_by_digest) return std::max<int>(1, static_cast<int>(images.size()));
  if (!options.push) return 1;
  std::set<std::string> repositories;
  for (const auto& tag : tags) repositories.insert(tag.name());
  return std::max<int>(1, static_cast<int>(repositories.size()));
}

}  // namespace polyarch::cli
