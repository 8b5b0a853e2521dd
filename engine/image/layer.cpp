#include "engine/image/layer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <system_error>

#include "engine/core/error.hpp"
#include "engine/image/gzip_writer.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::image {

namespace {

constexpr size_t k_chunk_size = size_t{1} << 20;
constexpr mode_t k_parent_mode = 0755;

enum class EntryKind { file, directory, symlink };

// One tar entry; `source` is empty for a directory we add ourselves.
struct Entry {
  EntryKind kind = EntryKind::directory;
  fs::path source;
  mode_t mode = k_parent_mode;
  std::string link_target;
};

// Tar name ("usr/", "usr/bin/app") -> entry; std::string orders bytes as unsigned.
using EntryMap = std::map<std::string, Entry>;

[[noreturn]] void throw_unreadable(const fs::path& path, int error) {
  throw failure("cannot read " + quoted(path.string()) + ": " + std::strerror(error));
}

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

// Makes path (and its parents) a directory, keeping one already there and
// replacing a file or symlink in the way.
void ensure_dir(EntryMap& entries, const std::string& path) {
  if (path.empty()) return;
  auto slash = path.rfind('/');
  if (slash != std::string::npos) ensure_dir(entries, path.substr(0, slash));
  entries.erase(path);
  entries.try_emplace(path + "/", Entry{});
}

// Puts entry at path, replacing what an earlier source put there.
void put_entry(EntryMap& entries, const std::string& path, Entry entry) {
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

// Adds the file at source (already lstat'ed as st) to path.
void put_file(EntryMap& entries, const std::string& path, const fs::path& source,
              const struct stat& st) {
  Entry entry;
  entry.source = source;
  entry.mode = st.st_mode & 07777;
  if (S_ISREG(st.st_mode)) {
    entry.kind = EntryKind::file;
  } else if (S_ISLNK(st.st_mode)) {
    entry.kind = EntryKind::symlink;
    std::error_code ec;
    entry.link_target = fs::read_symlink(source, ec).string();
    if (ec) throw_unreadable(source, ec.value());
  } else if (S_ISDIR(st.st_mode)) {
    entry.kind = EntryKind::directory;
  } else {
    throw failure("cannot put " + quoted(source.string()) +
                  " into a layer: unsupported file type");
  }
  put_entry(entries, path, std::move(entry));
}

// Adds everything under dir (not dir itself) below prefix ("" for the root).
void put_tree(EntryMap& entries, const fs::path& dir, const std::string& prefix) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw_unreadable(dir, ec.value());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const fs::path& source = it->path();
    std::string name = source.filename().string();
    std::string path = prefix.empty() ? name : prefix + "/" + name;
    struct stat st {};
    if (::lstat(source.c_str(), &st) != 0) throw_unreadable(source, errno);
    put_file(entries, path, source, st);
    if (S_ISDIR(st.st_mode)) put_tree(entries, source, path);
  }
  if (ec) throw_unreadable(dir, ec.value());
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
      put_tree(entries, source.source, dest);
      continue;
    }
    if (source.dest.back() == '/' || dest.empty()) {
      std::string name = source.source.filename().string();
      dest = dest.empty() ? name : dest + "/" + name;
    }
    put_file(entries, dest, source.source, st);
  }
  return entries;
}

// Receives libarchive's tar blocks and hands them to the gzip writer; an
// exception can't cross libarchive, so it is kept here and rethrown.
struct TarSink {
  GzipWriter* gzip = nullptr;
  std::string error;
};

la_ssize_t write_block(struct archive* archive, void* client, const void* data, size_t size) {
  auto* sink = static_cast<TarSink*>(client);
  try {
    sink->gzip->write(data, size);
    return static_cast<la_ssize_t>(size);
  } catch (const std::exception& e) {
    sink->error = e.what();
    archive_set_error(archive, EIO, "%s", e.what());
    return -1;
  }
}

struct ArchiveFree {
  void operator()(struct archive* archive) const { archive_write_free(archive); }
};
struct EntryFree {
  void operator()(struct archive_entry* entry) const { archive_entry_free(entry); }
};

// Closes a file descriptor when it goes out of scope.
struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// Writes tar entries through libarchive into a gzip writer.
class TarWriter {
 public:
  TarWriter(GzipWriter& gzip, int64_t mtime)
      : m_archive(archive_write_new()), m_entry(archive_entry_new()), m_mtime(mtime),
        m_buffer(k_chunk_size) {
    m_sink.gzip = &gzip;
    if (!m_archive || !m_entry) throw failure("cannot write a layer: out of memory");
    check(archive_write_set_format_pax_restricted(m_archive.get()), "");
    check(archive_write_open(m_archive.get(), &m_sink, nullptr, write_block, nullptr), "");
  }

  // Writes one entry named name (a tar path) with its content.
  void add(const std::string& name, const Entry& entry) {
    struct archive_entry* e = m_entry.get();
    archive_entry_clear(e);
    archive_entry_copy_pathname(e, name.c_str());
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, m_mtime, 0);
    archive_entry_set_perm(e, entry.mode);
    FdCloser file;
    if (entry.kind == EntryKind::directory) {
      archive_entry_set_filetype(e, AE_IFDIR);
    } else if (entry.kind == EntryKind::symlink) {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_copy_symlink(e, entry.link_target.c_str());
    } else {
      file.fd = ::open(entry.source.c_str(), O_RDONLY | O_CLOEXEC);
      struct stat st {};
      if (file.fd < 0 || ::fstat(file.fd, &st) != 0) throw_unreadable(entry.source, errno);
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, st.st_size);
    }
    check(archive_write_header(m_archive.get(), e), name);
    if (file.fd >= 0) copy_content(file.fd, archive_entry_size(e), name, entry.source);
    check(archive_write_finish_entry(m_archive.get()), name);
  }

  // Writes the end-of-archive blocks.
  void close() { check(archive_write_close(m_archive.get()), ""); }

 private:
  void copy_content(int fd, int64_t size, const std::string& name, const fs::path& source) {
    while (size > 0) {
      size_t want = size < static_cast<int64_t>(m_buffer.size()) ? static_cast<size_t>(size)
                                                                 : m_buffer.size();
      ssize_t got = ::read(fd, m_buffer.data(), want);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw_unreadable(source, errno);
      if (got == 0) {
        throw failure("cannot read " + quoted(source.string()) +
                      ": the file shrank while it was being read");
      }
      la_ssize_t written =
          archive_write_data(m_archive.get(), m_buffer.data(), static_cast<size_t>(got));
      if (written < 0) check(static_cast<int>(written), name);
      size -= got;
    }
  }

  // Throws the sink's error or libarchive's message when rc is an error.
  void check(int rc, const std::string& name) {
    if (rc >= ARCHIVE_WARN) return;
    if (!m_sink.error.empty()) throw failure(m_sink.error);
    const char* message = archive_error_string(m_archive.get());
    std::string text = message != nullptr ? message : "unknown libarchive error";
    if (name.empty()) throw failure("cannot write a layer: " + text);
    throw failure("cannot write " + quoted(name) + " into a layer: " + text);
  }

  TarSink m_sink;
  std::unique_ptr<struct archive, ArchiveFree> m_archive;
  std::unique_ptr<struct archive_entry, EntryFree> m_entry;
  int64_t m_mtime;
  std::vector<char> m_buffer;
};

// Makes this thread's character type UTF-8 while it lives, so libarchive
// encodes names in pax headers the same way whatever the user's locale is
// (under "C" it would mark every non-ASCII name as binary).
class Utf8Ctype {
 public:
  Utf8Ctype() : m_locale(newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr)) {
    if (m_locale != nullptr) m_previous = uselocale(m_locale);
  }
  ~Utf8Ctype() {
    if (m_locale == nullptr) return;
    uselocale(m_previous);
    freelocale(m_locale);
  }
  Utf8Ctype(const Utf8Ctype&) = delete;
  Utf8Ctype& operator=(const Utf8Ctype&) = delete;

 private:
  locale_t m_locale;
  locale_t m_previous = nullptr;
};

}  // namespace

Layer write_layer(LayoutDir& layout, const std::vector<LayerSource>& sources,
                  const LayerOptions& options) {
  EntryMap entries = collect(sources);

  fs::path temp_dir = layout.root() / "blobs";
  std::error_code ec;
  fs::create_directories(temp_dir, ec);
  if (ec) {
    throw failure("cannot create " + quoted(temp_dir.string()) + ": " + ec.message());
  }
  GzipWriter gzip(temp_dir, options.gzip_level, options.threads);
  Utf8Ctype utf8;
  TarWriter tar(gzip, options.mtime);
  for (const auto& [name, entry] : entries) tar.add(name, entry);
  tar.close();
  GzipWriter::Result result = gzip.finish();

  layout.adopt_blob(gzip.path(), result.compressed);
  Layer layer;
  layer.descriptor.media_type = std::string(media_type::k_oci_layer_gzip);
  layer.descriptor.digest = result.compressed;
  layer.descriptor.size = result.size;
  layer.diff_id = result.uncompressed;
  return layer;
}

}  // namespace polyarch::image
