// config.json is written privately and atomically: with a umask that would
// make any new file world-readable, a fanotify watcher (which holds every
// open of a file in the directory until it has looked at it) sees only 0600
// files, never config.json itself opened and written in place, and a reader
// polling all along only ever reads complete JSON.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "engine/core/fs.hpp"
#include "engine/registry/credentials.hpp"

namespace polyarch::registry {
namespace {

namespace fs = std::filesystem;

// What the watcher saw of one event: the file's inode, name and mode, and
// whether it was an open (held until seen, so name and mode are those of the
// moment) or a close after writing (seen later: the file may be renamed).
struct Seen {
  ino_t inode;
  std::string name;
  mode_t mode;
  bool close_write;
};

// Watches the children of dir with fanotify permission events.
class OpenWatcher {
 public:
  explicit OpenWatcher(const fs::path& dir) {
    m_fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
    if (m_fd < 0) return;
    if (fanotify_mark(m_fd, FAN_MARK_ADD, FAN_OPEN_PERM | FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD,
                      AT_FDCWD, dir.c_str()) != 0) {
      ::close(m_fd);
      m_fd = -1;
      return;
    }
    m_thread = std::thread([this] { loop(); });
  }
  ~OpenWatcher() {
    m_stop = true;
    if (m_thread.joinable()) m_thread.join();
    if (m_fd >= 0) ::close(m_fd);
  }
  bool ok() const { return m_fd >= 0; }
  std::vector<Seen> seen() {
    std::lock_guard lock(m_mutex);
    return m_seen;
  }

 private:
  void loop() {
    alignas(fanotify_event_metadata) char buffer[4096];
    while (!m_stop) {
      pollfd p{m_fd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      ssize_t n = ::read(m_fd, buffer, sizeof buffer);
      auto* event = reinterpret_cast<fanotify_event_metadata*>(buffer);
      for (; n > 0 && FAN_EVENT_OK(event, n); event = FAN_EVENT_NEXT(event, n)) {
        if (event->fd < 0) continue;
        struct stat st {};
        ::fstat(event->fd, &st);
        std::error_code ec;
        fs::path name =
            fs::read_symlink("/proc/self/fd/" + std::to_string(event->fd), ec).filename();
        if (S_ISREG(st.st_mode)) {
          std::lock_guard lock(m_mutex);
          m_seen.push_back({st.st_ino, name.string(), static_cast<mode_t>(st.st_mode & 07777),
                            (event->mask & FAN_OPEN_PERM) == 0});
        }
        if (event->mask & FAN_OPEN_PERM) {
          fanotify_response response{event->fd, FAN_ALLOW};
          (void)!::write(m_fd, &response, sizeof response);
        }
        ::close(event->fd);
      }
    }
  }

  int m_fd = -1;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
  std::mutex m_mutex;
  std::vector<Seen> m_seen;
};

// Sets the umask for the scope of the object.
struct Umask {
  explicit Umask(mode_t mask) : old(::umask(mask)) {}
  ~Umask() { ::umask(old); }
  mode_t old;
};

TEST(CredentialsAtomic, ConfigJsonIsNeverWorldReadableNorWrittenInPlace) {
  core::TempDir home("credentials-atomic");
  fs::path dir = home.path() / "docker";
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all);
  core::Env env{{"DOCKER_CONFIG", dir.string()}};
  fs::path config = dir / "config.json";
  // Another program's file, world-readable: the first save replaces it.
  std::ofstream(config) << R"({"auths":{},"psFormat":"table"})"
                        << "\n";
  fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read);
  struct stat original {};
  ASSERT_EQ(::stat(config.c_str(), &original), 0);

  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> bad_reads{0};
  std::thread reader([&] {
    while (!done) {
      std::ifstream in(config);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      ++reads;
      auto json = nlohmann::json::parse(text, nullptr, false);
      if (!json.is_object() || json.value("psFormat", "") != "table") ++bad_reads;
    }
  });
  std::vector<Seen> seen;
  {
    OpenWatcher watcher(dir);
    if (!watcher.ok()) {
      done = true;
      reader.join();
      GTEST_SKIP() << "fanotify needs CAP_SYS_ADMIN";
    }
    Umask open_umask(0);
    for (int i = 0; i < 50; ++i) {
      save_login(env, "registry" + std::to_string(i % 5) + ".example",
                 {"user" + std::to_string(i), "pw", ""});
    }
    // Closes are reported after the fact: wait for the last ones.
    auto writes = [&] {
      seen = watcher.seen();
      return std::count_if(seen.begin(), seen.end(), [](const Seen& s) { return s.close_write; });
    };
    for (int i = 0; i < 300 && writes() < 50; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  done = true;
  reader.join();

  EXPECT_EQ(bad_reads, 0) << "of " << reads << " reads";
  EXPECT_GT(reads, 0);
  // Each inode's name when it was made: a new temporary file's first open is
  // under its temporary name (an inode number may be reused after a rename).
  std::map<ino_t, std::string> made_as;
  int temp_writes = 0;
  for (const Seen& s : seen) {
    SCOPED_TRACE(s.name);
    if (s.close_write) {
      EXPECT_TRUE(made_as[s.inode].starts_with("config.json.tmp."))
          << "a file made as \"" << made_as[s.inode] << "\" was written: config.json in place";
      ++temp_writes;
      continue;
    }
    if (s.name.starts_with("config.json.tmp.") || made_as.count(s.inode) == 0)
      made_as[s.inode] = s.name;
    // Only the other program's first file may be readable by others.
    if (s.inode != original.st_ino || s.mode != 0644) {
      EXPECT_EQ(s.mode & 077, 0u) << s.name << " has mode " << std::oct << s.mode;
    }
  }
  // fanotify may merge unread events of one inode, so fewer than 50 can arrive.
  EXPECT_GT(temp_writes, 0);
  EXPECT_EQ(fs::status(config).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(dir)) left.push_back(entry.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{"config.json"});
  auto json = nlohmann::json::parse(core::read_file(config));
  EXPECT_EQ(json["auths"].size(), 5u);
  EXPECT_EQ(json["psFormat"], "table");
}

}  // namespace
}  // namespace polyarch::registry
