// OCI layout <-> tar archive, with libarchive.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/image/layout.hpp"

namespace polyarch::image {

namespace {

using ReadArchive = std::unique_ptr<archive, decltype(&archive_read_free)>;
using WriteArchive = std::unique_ptr<archive, decltype(&archive_write_free)>;
using Entry = std::unique_ptr<archive_entry, decltype(&archive_entry_free)>;

Error archive_error(archive* a, const std::string& context) {
  const char* message = archive_error_string(a);
  return failure(context + ": " + (message ? message : "unknown archive error"));
}

// Every path under root, relative, sorted byte-wise (directories first by name).
std::vector<fs::path> sorted_tree(const fs::path& root) {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    paths.push_back(fs::relative(entry.path(), root));
  }
  std::sort(paths.begin(), paths.end(),
            [](const fs::path& a, const fs::path& b) { return a.string() < b.string(); });
  return paths;
}

void write_file_data(archive* out, const fs::path& file, const std::string& context) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw failure("cannot read " + quoted(file.string()) + ": " + std::strerror(errno));
  std::vector<char> buffer(1 << 20);
  ssize_t n;
  while ((n = ::read(fd, buffer.data(), buffer.size())) > 0) {
    if (archive_write_data(out, buffer.data(), static_cast<size_t>(n)) < 0) {
      ::close(fd);
      throw archive_error(out, context);
    }
  }
  ::close(fd);
  if (n < 0) throw failure("cannot read " + quoted(file.string()) + ": " + std::strerror(errno));
}

// Why an archive entry may not be extracted, or "" when it may.
std::string unsafe_reason(archive_entry* entry, const std::string& name) {
  if (name.empty()) return "has an empty path";
  if (name.front() == '/') return "has an absolute path";
  for (const auto& part : fs::path(name)) {
    if (part == "..") return "has a \"..\" component";
  }
  if (archive_entry_hardlink(entry) != nullptr) return "is a hard link";
  // A layout has no holes; a sparse entry could claim any size at no cost.
  if (archive_entry_sparse_count(entry) > 0) return "is a sparse file";
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG: return "";
    case AE_IFDIR: return "";
    case AE_IFLNK: return "is a symbolic link";
    case AE_IFCHR:
    case AE_IFBLK: return "is a device file";
    case AE_IFIFO: return "is a fifo";
    case AE_IFSOCK: return "is a socket";
    default: return "has an unsupported type";
  }
}

void extract_file(archive* in, const fs::path& target, const std::string& context) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) throw failure(context + ": " + ec.message());
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) throw failure(context + ": " + std::strerror(errno));
  const void* block;
  size_t size;
  la_int64_t offset;
  int status;
  while ((status = archive_read_data_block(in, &block, &size, &offset)) == ARCHIVE_OK) {
    if (::pwrite(fd, block, size, offset) != static_cast<ssize_t>(size)) {
      ::close(fd);
      throw failure(context + ": " + std::strerror(errno));
    }
  }
  ::close(fd);
  if (status != ARCHIVE_EOF) throw archive_error(in, context);
}

}  // namespace

void pack_layout(const LayoutDir& layout, const fs::path& archive_path) {
  fs::path tmp = archive_path;
  tmp += ".tmp." + std::to_string(::getpid());
  std::string context = "cannot write " + quoted(archive_path.string());
  try {
    WriteArchive out(archive_write_new(), archive_write_free);
    archive_write_set_format_pax_restricted(out.get());
    if (archive_write_open_filename(out.get(), tmp.c_str()) != ARCHIVE_OK) {
      throw archive_error(out.get(), context);
    }
    for (const fs::path& relative : sorted_tree(layout.root())) {
      fs::path full = layout.root() / relative;
      bool is_dir = fs::is_directory(full);
      Entry entry(archive_entry_new(), archive_entry_free);
      archive_entry_set_pathname(entry.get(), (relative.string() + (is_dir ? "/" : "")).c_str());
      archive_entry_set_filetype(entry.get(), is_dir ? AE_IFDIR : AE_IFREG);
      archive_entry_set_perm(entry.get(), is_dir ? 0755 : 0644);
      archive_entry_set_size(entry.get(), is_dir ? 0 : static_cast<la_int64_t>(fs::file_size(full)));
      archive_entry_set_mtime(entry.get(), 0, 0);
      archive_entry_set_uid(entry.get(), 0);
      archive_entry_set_gid(entry.get(), 0);
      if (archive_write_header(out.get(), entry.get()) != ARCHIVE_OK) {
        throw archive_error(out.get(), context);
      }
      if (!is_dir) write_file_data(out.get(), full, context);
    }
    if (archive_write_close(out.get()) != ARCHIVE_OK) throw archive_error(out.get(), context);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);  // leave no partial archive next to the target
    throw;
  }
  std::error_code ec;
  fs::rename(tmp, archive_path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw failure(context + ": " + ec.message());
  }
}

LayoutDir unpack_layout(const fs::path& archive_path, const fs::path& dest) {
  std::string source = quoted(archive_path.string());
  ReadArchive in(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(in.get());
  archive_read_support_format_gnutar(in.get());
  archive_read_support_filter_gzip(in.get());
  archive_read_support_filter_none(in.get());
  if (archive_read_open_filename(in.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw archive_error(in.get(), "cannot read " + source);
  }
  archive_entry* entry;
  int status;
  while ((status = archive_read_next_header(in.get(), &entry)) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    while (name.starts_with("./")) name.erase(0, 2);
    if (name.empty() || name == ".") continue;
    std::string reason = unsafe_reason(entry, name);
    if (!reason.empty()) {
      throw failure("refusing " + source + ": entry " + quoted(name) + " " + reason);
    }
    fs::path target = dest / name;
    if (archive_entry_filetype(entry) == AE_IFDIR) {
      std::error_code ec;
      fs::create_directories(target, ec);
      if (ec) throw failure("cannot extract " + quoted(name) + " from " + source + ": " + ec.message());
      continue;
    }
    extract_file(in.get(), target, "cannot extract " + quoted(name) + " from " + source);
  }
  if (status != ARCHIVE_EOF) throw archive_error(in.get(), "cannot read " + source);
  try {
    LayoutDir layout = LayoutDir::open(dest);
    layout.show_as(source);
    return layout;
  } catch (const Error& e) {
    // Name the user's archive, not the directory it was unpacked into.
    std::string message = e.what();
    std::string prefix = quoted(dest.string());
    if (message.starts_with(prefix)) message = source + message.substr(prefix.size());
    // Files inside it are named relative to the layout: "index.json".
    std::string inside = (dest / "").string();
    for (size_t at; (at = message.find(inside)) != std::string::npos;) {
      message.erase(at, inside.size());
    }
    throw failure(message);
  }
}

}  // namespace polyarch::image
