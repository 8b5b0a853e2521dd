#include "engine/image/layer_entries.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "engine/core/error.hpp"

namespace polyarch::image::layer_entries {

void throw_unreadable(const std::filesystem::path& path, int error) {
  throw failure("cannot read " + quoted(path.string()) + ": " + std::strerror(error));
}

FdCloser::~FdCloser() {
  if (fd >= 0) ::close(fd);
}

namespace {

// Tar name ("usr/", "usr/bin/app") -> entry; std::string orders bytes as unsigned.
using EntryMap = std::map<std::string, Entry>;

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};

// Returns dest as a path relative to the image root without leading or
// trailing slashes ("" for the root); throws bad_input when it is not absolute
// or climbs with "..".
std::string image_path(const std::string& dest) {
  if (dest.empty() || dest.front() != '/') {
    throw bad_input("invalid layer destination " + quoted(dest) +
                    ": expected an absolute path such as \"/app\"");
  }
  std::string out;
  size_t start = 0;
  while (start <= dest.size()) {
    size_t end = dest.find('/', start);
    if (end == std::string::npos) end = dest.size();
    std::string part = dest.substr(start, end - start);
    if (part == "..") {
      throw bad_input("invalid layer destination " + quoted(dest) + ": \"..\" is not allowed");
    }
    if (!part.empty() && part != ".") out += (out.empty() ? "" : "/") + part;
    start = end + 1;
  }
  return out;
}

// The target of the symlink `name` in the directory open as dir_fd.
std::string read_link(int dir_fd, const std::string& name, const fs::path& source, off_t size) {
  std::string target(static_cast<size_t>(std::max<off_t>(size, 64)) + 1, '\0');
  while (true) {
    ssize_t got = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
    if (got < 0) throw_unreadable(source, errno);
    if (static_cast<size_t>(got) < target.size()) {
      target.resize(static_cast<size_t>(got));
      return target;
    }
    target.resize(target.size() * 2);  // it grew since lstat
  }
}

// The entry for `name` in the directory open as dir_fd, lstat'ed as st.
Entry entry_for(const fs::path& source, const struct stat& st, int dir_fd,
                const std::string& name) {
  Entry entry;
  entry.source = source;
  entry.mode = st.st_mode & 07777;
  entry.dir_fd = dir_fd;
  entry.open_name = name;
  if (S_ISREG(st.st_mode)) {
    entry.kind = EntryKind::file;
  } else if (S_ISLNK(st.st_mode)) {
    entry.kind = EntryKind::symlink;
    entry.link_target = read_link(dir_fd, name, source, st.st_size);
  } else if (S_ISDIR(st.st_mode)) {
    entry.kind = EntryKind::directory;
  } else {
    throw failure("cannot put " + quoted(source.string()) +
                  " into a layer: unsupported file type");
  }
  return entry;
}

struct Child {
  std::string key;  // the name, with "/" after a directory's: how tar names sort
  std::string name;
  struct stat st {};
};

// The children of the directory open as fd (found at dir), sorted by key.
std::vector<Child> sorted_children(int fd, const fs::path& dir) {
  int listing = ::dup(fd);  // fdopendir takes it; fd stays open for the walk
  if (listing < 0) throw_unreadable(dir, errno);
  std::unique_ptr<DIR, DirCloser> stream(::fdopendir(listing));
  if (!stream) {
    int error = errno;
    ::close(listing);
    throw_unreadable(dir, error);
  }
  std::vector<Child> children;
  while (true) {
    errno = 0;
    const struct dirent* item = ::readdir(stream.get());
    if (item == nullptr) {
      if (errno != 0) throw_unreadable(dir, errno);
      break;
    }
    if (std::strcmp(item->d_name, ".") == 0 || std::strcmp(item->d_name, "..") == 0) continue;
    Child child;
    child.name = item->d_name;
    if (::fstatat(fd, item->d_name, &child.st, AT_SYMLINK_NOFOLLOW) != 0) {
      throw_unreadable(dir / child.name, errno);
    }
    child.key = S_ISDIR(child.st.st_mode) ? child.name + "/" : child.name;
    children.push_back(std::move(child));
  }
  std::sort(children.begin(), children.end(),
            [](const Child& a, const Child& b) { return a.key < b.key; });
  return children;
}

// Calls add for everything under the directory open as fd (found at dir),
// named below prefix ("" for the root), in tar order: siblings sorted by
// key, each directory followed by what it holds, which is the order of the
// whole names too.
void walk(int fd, const fs::path& dir, const std::string& prefix, const EntrySink& add) {
  for (const Child& child : sorted_children(fd, dir)) {
    fs::path source = dir / child.name;
    std::string path = prefix.empty() ? child.name : prefix + "/" + child.name;
    Entry entry = entry_for(source, child.st, fd, child.name);
    if (entry.kind != EntryKind::directory) {
      add(path, entry);
      continue;
    }
    add(path + "/", entry);
    FdCloser sub{::openat(fd, child.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
    if (sub.fd < 0) throw_unreadable(source, errno);
    walk(sub.fd, source, path, add);
  }
}

// Calls add for the directory tree at source, named below prefix.
void walk_tree(const fs::path& source, const std::string& prefix, const EntrySink& add) {
  FdCloser root{::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (root.fd < 0) throw_unreadable(source, errno);
  walk(root.fd, source, prefix, add);
}

// Makes path (and its parents) a directory, keeping one already there and
// replacing a file or symlink in the way.
void ensure_dir(EntryMap& entries, const std::string& path) {
  if (path.empty()) return;
  auto slash = path.rfind('/');
  if (slash != std::string::npos) ensure_dir(entries, path.substr(0, slash));
  entries.erase(path);
  entries.try_emplace(path + "/", Entry{});
}

// Puts entry at path (no trailing slash), replacing what an earlier source
// put there; it is opened by its whole path later.
void put_entry(EntryMap& entries, const std::string& path, Entry entry) {
  entry.dir_fd = AT_FDCWD;
  entry.open_name = entry.source.string();
  auto slash = path.rfind('/');
  if (slash != std::string::npos) ensure_dir(entries, path.substr(0, slash));
  if (entry.kind == EntryKind::directory) {
    entries.erase(path);
    entries[path + "/"] = std::move(entry);
    return;
  }
  // A file replaces a directory with everything under it.
  std::string dir = path + "/";
  entries.erase(entries.lower_bound(dir), entries.lower_bound(path + "0"));  // '0' follows '/'
  entries[path] = std::move(entry);
}

// Collects the entries of every source, later sources winning.
EntryMap collect(const std::vector<LayerSource>& sources) {
  EntryMap entries;
  for (const LayerSource& source : sources) {
    std::string dest = image_path(source.dest);
    struct stat st {};
    if (::stat(source.source.c_str(), &st) != 0) throw_unreadable(source.source, errno);
    if (S_ISDIR(st.st_mode)) {
      ensure_dir(entries, dest);
      walk_tree(source.source, dest, [&entries](const std::string& name, const Entry& entry) {
        std::string path = name.back() == '/' ? name.substr(0, name.size() - 1) : name;
        put_entry(entries, path, entry);
      });
      continue;
    }
    if (source.dest.back() == '/' || dest.empty()) {
      std::string name = source.source.filename().string();
      dest = dest.empty() ? name : dest + "/" + name;
    }
    // A symlink given as a source stands for what it points to.
    put_entry(entries, dest, entry_for(source.source, st, AT_FDCWD, source.source.string()));
  }
  return entries;
}

}  // namespace

Entries::Entries(const std::vector<LayerSource>& sources) {
  if (sources.size() == 1) {
    const LayerSource& source = sources.front();
    std::string dest = image_path(source.dest);
    struct stat st {};
    if (::stat(source.source.c_str(), &st) != 0) throw_unreadable(source.source, errno);
    if (S_ISDIR(st.st_mode)) {
      m_tree = source.source;
      m_tree_dest = dest;
      return;
    }
  }
  EntryMap collected = collect(sources);
  m_collected.assign(std::make_move_iterator(collected.begin()),
                     std::make_move_iterator(collected.end()));
}

void Entries::for_each(const EntrySink& add) const {
  if (m_tree.empty()) {
    for (const auto& [name, entry] : m_collected) add(name, entry);
    return;
  }
  // What collect() would give, in the same order, written as the walk goes.
  const std::string& dest = m_tree_dest;
  if (!dest.empty()) {
    for (size_t slash = dest.find('/'); slash != std::string::npos;
         slash = dest.find('/', slash + 1)) {
      add(dest.substr(0, slash) + "/", Entry{});
    }
    add(dest + "/", Entry{});
  }
  walk_tree(m_tree, dest, add);
}

}  // namespace polyarch::image::layer_entries
