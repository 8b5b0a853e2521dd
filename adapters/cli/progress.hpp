#pragma once
// `polyarch build` on a terminal: one line per platform, redrawn in place —
// waiting, building Ns, pushing X of Y, done, failed or stopped — with the
// builder's last line. Plain lines (unchanged) everywhere else.

#include <condition_variable>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "adapters/cli/commands.hpp"
#include "engine/build/pipeline.hpp"
#include "engine/publish/counting_store.hpp"

namespace polyarch::cli {

// True when the display replaces plain lines: stderr is a terminal, the CI
// adapter is "local", verbosity is normal and TERM is set and not "dumb".
bool progress_wanted(bool stderr_is_terminal, std::string_view ci, int verbosity, std::string_view term);

// The width of the terminal on fd in columns (TIOCGWINSZ); 80 when unknown.
int terminal_width(int fd);

// Seconds on a monotonic clock; injectable so tests control time.
using SecondsClock = std::function<double()>;

// What one platform is doing.
enum class PlatformState { waiting, building, built, pushing, done, failed, stopped };

class ProgressDisplay {
 public:
  // Lines for platforms, drawn on out, never wider than width - 1 columns.
  ProgressDisplay(const std::vector<image::Platform>& platforms, std::ostream& out, int width,
                  SecondsClock clock);
  // Stops the redraw thread; draws nothing more.
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // The pipeline asked these platforms' cache flags: one platform is about
  // to build; several may be (one backend run), which its first line proves.
  void building(std::span<const image::Platform> platforms);
  // One builder line: "[linux/arm64] …", or a one-run line naming its platform.
  void log(const std::string& line);
  // One platform's build is over; it waits for the others with its time.
  void built(const build::PlatformResult& result);
  // The builds are over (each keeps its own build time) and publishing
  // starts: each platform pushes its config and layers, read from layout,
  // `passes` times (once per repository), as counted in tally().
  void pushing(const build::StagedImage& staged, const image::LayoutDir& layout, int passes);
  // Where publishing counts the bytes it reads (see publish::counting_store).
  publish::BlobTally& tally() { return m_tally; }
  // Ends: every platform done; the final frame stays on screen.
  void done();
  // Ends with error: the platform the message names failed (all unfinished
  // ones when it names none), the others stopped; the final frame stays.
  void failed(std::string_view error);

  // Draws the frame when it changed since the last; the redraw thread calls it.
  void draw();
  // Starts redrawing, at most 10 times a second, on a thread of its own.
  void start();

 private:
  struct Line {
    std::string platform;
    PlatformState state = PlatformState::waiting;
    double started = 0;          // clock seconds when building began
    double build_seconds = -1;   // its own build time, once known
    std::vector<image::Descriptor> blobs;  // config and layers
    std::string last_line;
  };
  std::string render_locked() const;
  std::string render_line(const Line& line, size_t name_width) const;
  void mark_building(Line& line);
  void finish();

  std::ostream& m_out;
  int m_width;
  SecondsClock m_clock;
  mutable std::mutex m_mutex;  // guards the state below
  std::vector<Line> m_lines;
  std::vector<std::string> m_group;  // the platforms of a one-run build
  publish::BlobTally m_tally;
  int m_passes = 1;
  // Used by the drawing thread only (the redraw thread, then the finisher).
  std::string m_last_frame;
  size_t m_drawn_lines = 0;
  // The redraw thread.
  std::thread m_thread;
  std::mutex m_stop_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
};

// The display for `polyarch build` when progress_wanted() for this process
// (stderr, context.err writing to it, the CI, verbosity, TERM), started;
// else null, and plain lines are printed as before.
std::unique_ptr<ProgressDisplay> make_progress(const Context& context,
                                               const std::vector<image::Platform>& platforms);

// hooks, with the cache flags' request and the log lines also fed to display
// (and the lines no longer printed).
build::PipelineHooks watch_build(ProgressDisplay& display, build::PipelineHooks hooks);

// How many times publishing reads each blob: once per repository pushed to
// (by digest: per image), once for a layout.
int publish_passes(const build::BuildOptions& options, const std::vector<image::Reference>& tags,
                   const std::vector<image::Reference>& images);

namespace progress_text {
// A builder line made safe to draw: what follows its last carriage return,
// escape sequences and control characters removed, tabs as spaces.
std::string clean(std::string_view line);
// The first `columns` columns of text (UTF-8 code points count one each).
std::string trim_columns(std::string_view text, size_t columns);
// "0 B", "999 B", "1.0 kB", "3.4 MB", "1.2 GB" (powers of 1000).
std::string bytes(int64_t count);
}  // namespace progress_text

}  // namespace polyarch::cli
