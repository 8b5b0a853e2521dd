#include "engine/core/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>

#include "engine/core/error.hpp"

extern char** environ;

namespace polyarch::core {

namespace {

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fds, O_CLOEXEC) != 0) throw failure(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  ~Pipe() { close_both(); }
  void close_end(int i) {
    if (fds[i] >= 0) ::close(fds[i]);
    fds[i] = -1;
  }
  void close_both() { close_end(0); close_end(1); }
};

// Receives each chunk read from the child's stdout or stderr.
using ChunkSink = std::function<void(Stream stream, std::string_view chunk)>;

// Feeds input to the child and hands its stdout and stderr to sink until both close.
void pump(Pipe& in, Pipe& out, Pipe& err, const std::string& input, const ChunkSink& sink) {
  size_t written = 0;
  if (input.empty()) in.close_end(1);
  while (out.fds[0] >= 0 || err.fds[0] >= 0) {
    pollfd fds[3] = {{out.fds[0], POLLIN, 0}, {err.fds[0], POLLIN, 0}, {in.fds[1], POLLOUT, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      throw failure(std::string("poll failed: ") + std::strerror(errno));
    }
    if (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) {
      ssize_t n = ::write(in.fds[1], input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 || written == input.size()) in.close_end(1);
    }
    char buffer[65536];
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Pipe& pipe = i == 0 ? out : err;
      ssize_t n = ::read(pipe.fds[0], buffer, sizeof buffer);
      if (n > 0) {
        sink(i == 0 ? Stream::out : Stream::err, std::string_view(buffer, static_cast<size_t>(n)));
      } else if (n == 0 || errno != EINTR) {
        pipe.close_end(0);
      }
    }
  }
}

// Cuts a stream into lines for a LineHandler, keeping the unfinished rest.
class LineSplitter {
 public:
  LineSplitter(Stream stream, const LineHandler& on_line) : m_stream(stream), m_on_line(on_line) {}

  void feed(std::string_view chunk) {
    m_pending.append(chunk);
    size_t start = 0;
    for (size_t end; (end = m_pending.find('\n', start)) != std::string::npos; start = end + 1) {
      emit(std::string_view(m_pending).substr(start, end - start));
    }
    m_pending.erase(0, start);
  }
  void finish() {
    if (!m_pending.empty()) emit(m_pending);
    m_pending.clear();
  }

 private:
  void emit(std::string_view line) {
    if (line.ends_with('\r')) line.remove_suffix(1);
    m_on_line(m_stream, line);
  }

  Stream m_stream;
  const LineHandler& m_on_line;
  std::string m_pending;
};

// Starts argv with the three pipes as its stdio, feeds it, and waits for it.
ProcessResult spawn_and_wait(const std::vector<std::string>& argv, const ProcessOptions& options,
                             const ChunkSink& sink) {
  if (argv.empty()) throw failure("cannot run an empty command");
  Pipe in, out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fds[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out.fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fds[1], 2);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  std::vector<char*> env;
  if (options.env) {
    for (const auto& [key, value] : *options.env) env_strings.push_back(key + "=" + value);
    for (auto& entry : env_strings) env.push_back(entry.data());
    env.push_back(nullptr);
  }
  // A child that dies early must not kill us with SIGPIPE while we write stdin.
  ::signal(SIGPIPE, SIG_IGN);
  pid_t pid = 0;
  int status = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(),
                            options.env ? env.data() : environ);
  posix_spawn_file_actions_destroy(&actions);
  if (status != 0) throw failure("cannot run " + quoted(argv[0]) + ": " + std::strerror(status));
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);

  ProcessResult result;
  std::exception_ptr pump_error;
  try {
    pump(in, out, err, options.input, sink);
  } catch (...) {
    pump_error = std::current_exception();
    out.close_both();  // the child sees EPIPE instead of blocking on a full pipe
    err.close_both();
    in.close_both();
  }
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (pump_error) std::rethrow_exception(pump_error);
  result.exit_code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
  return result;
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  std::string out, err;
  ProcessResult result = spawn_and_wait(argv, options, [&](Stream stream, std::string_view chunk) {
    (stream == Stream::out ? out : err).append(chunk);
  });
  result.out = std::move(out);
  result.err = std::move(err);
  return result;
}

ProcessResult run_process_streaming(const std::vector<std::string>& argv,
                                    const LineHandler& on_line, const ProcessOptions& options) {
  LineSplitter out(Stream::out, on_line), err(Stream::err, on_line);
  ProcessResult result = spawn_and_wait(argv, options, [&](Stream stream, std::string_view chunk) {
    (stream == Stream::out ? out : err).feed(chunk);
  });
  out.finish();
  err.finish();
  return result;
}

}  // namespace polyarch::core
