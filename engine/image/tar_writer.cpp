#include "engine/image/tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>

#include "engine/core/error.hpp"

namespace polyarch::image::tar {

namespace {

using layer_entries::Entry;
using layer_entries::EntryKind;
using layer_entries::FdCloser;
using layer_entries::throw_unreadable;

constexpr int64_t k_record_size = 10240;  // libarchive's default block: the stream ends on one

// libarchive's output, unblocked: each header and each piece of content as
// it is written. Content read into the output's own space is taken
// where it is; anything else is copied there.
la_ssize_t write_block(struct archive* archive, void* client, const void* data, size_t size) {
  auto* sink = static_cast<TarWriter::Sink*>(client);
  if (sink->discard) return static_cast<la_ssize_t>(size);
  try {
    std::span<unsigned char> space = sink->output->input_space();
    if (data == space.data() && size <= space.size()) {
      sink->output->commit(size);
    } else {
      sink->output->write(data, size);
    }
    sink->written += static_cast<int64_t>(size);
    return static_cast<la_ssize_t>(size);
  } catch (const std::exception& e) {
    sink->error = e.what();
    archive_set_error(archive, EIO, "%s", e.what());
    return -1;
  }
}

}  // namespace

Utf8Ctype::Utf8Ctype() : m_locale(newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr)) {
  if (m_locale != nullptr) m_previous = uselocale(m_locale);
}

Utf8Ctype::~Utf8Ctype() {
  if (m_locale == nullptr) return;
  uselocale(m_previous);
  freelocale(m_locale);
}

TarWriter::TarWriter(TarOutput& output, int64_t mtime)
    : m_archive(archive_write_new()), m_entry(archive_entry_new()), m_mtime(mtime) {
  m_sink.output = &output;
  if (m_archive == nullptr || m_entry == nullptr) {
    if (m_archive != nullptr) archive_write_free(m_archive);
    if (m_entry != nullptr) archive_entry_free(m_entry);
    throw failure("cannot write a layer: out of memory");
  }
  try {
    check(archive_write_set_format_pax_restricted(m_archive), "");
    // No blocking: this writer pads the end itself (close()), and content
    // passes through without a copy.
    check(archive_write_set_bytes_per_block(m_archive, 0), "");
    check(archive_write_open(m_archive, &m_sink, nullptr, write_block, nullptr), "");
  } catch (...) {
    archive_write_free(m_archive);
    archive_entry_free(m_entry);
    throw;
  }
}

TarWriter::~TarWriter() {
  // After a failure, no end-of-archive blocks into a stream that is thrown
  // away; closed all the same, as only closing frees libarchive's output state.
  if (!m_closed) {
    m_sink.discard = true;
    archive_write_close(m_archive);
  }
  archive_write_free(m_archive);
  archive_entry_free(m_entry);
}

void TarWriter::add(const std::string& name, const Entry& entry) {
  struct archive_entry* e = m_entry;
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
    file.fd = ::openat(entry.dir_fd, entry.open_name.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (file.fd < 0 || ::fstat(file.fd, &st) != 0) throw_unreadable(entry.source, errno);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, st.st_size);
  }
  check(archive_write_header(m_archive, e), name);
  if (file.fd >= 0) copy_content(file.fd, archive_entry_size(e), name, entry.source);
  check(archive_write_finish_entry(m_archive), name);
}

void TarWriter::close() {
  check(archive_write_close(m_archive), "");
  m_closed = true;
  static const unsigned char k_zeros[k_record_size] = {};
  int64_t padding = (k_record_size - m_sink.written % k_record_size) % k_record_size;
  m_sink.output->write(k_zeros, static_cast<size_t>(padding));
  m_sink.written += padding;
}

void TarWriter::copy_content(int fd, int64_t size, const std::string& name,
                             const fs::path& source) {
  while (size > 0) {
    // Read into the output's space (the gzip writer's current block), at most to its end.
    std::span<unsigned char> space = m_sink.output->input_space();
    size_t want = size < static_cast<int64_t>(space.size()) ? static_cast<size_t>(size)
                                                             : space.size();
    ssize_t got = ::read(fd, space.data(), want);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw_unreadable(source, errno);
    if (got == 0) {
      throw failure("cannot read " + quoted(source.string()) +
                    ": the file shrank while it was being read");
    }
    la_ssize_t written = archive_write_data(m_archive, space.data(), static_cast<size_t>(got));
    if (written != got) check(written < 0 ? static_cast<int>(written) : ARCHIVE_FATAL, name);
    size -= got;
  }
}

// Throws the sink's error or libarchive's message when rc is an error.
void TarWriter::check(int rc, const std::string& name) {
  if (rc >= ARCHIVE_WARN) return;
  if (!m_sink.error.empty()) throw failure(m_sink.error);
  const char* message = archive_error_string(m_archive);
  std::string text = message != nullptr ? message : "unknown libarchive error";
  if (name.empty()) throw failure("cannot write a layer: " + text);
  throw failure("cannot write " + quoted(name) + " into a layer: " + text);
}

}  // namespace polyarch::image::tar
