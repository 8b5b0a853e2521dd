#include "engine/image/layer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <clocale>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "tests/unit/gzip_test_util.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::image {
namespace {

constexpr int64_t k_mtime = 1700000000;

// One entry read back from a layer's tar.
struct TarEntry {
  std::string name;
  mode_t type = 0;
  mode_t perm = 0;
  int64_t uid = -1;
  int64_t gid = -1;
  std::string uname;
  std::string gname;
  int64_t mtime = -1;
  std::string symlink;
  std::string content;
};

void write(const fs::path& path, const std::string& content, mode_t mode = 0644) {
  fs::create_directories(path.parent_path());
  core::write_file_atomic(path, content);
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

using test_util::gunzip;

std::vector<TarEntry> read_tar(const std::string& tar) {
  struct archive* reader = archive_read_new();
  archive_read_support_format_tar(reader);
  EXPECT_EQ(archive_read_open_memory(reader, tar.data(), tar.size()), ARCHIVE_OK);
  std::vector<TarEntry> entries;
  struct archive_entry* entry = nullptr;
  int rc = ARCHIVE_OK;
  // ARCHIVE_WARN: a UTF-8 name that the "C" locale can't convert; its bytes are kept.
  while ((rc = archive_read_next_header(reader, &entry)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
    TarEntry out;
    out.name = archive_entry_pathname(entry);
    out.type = archive_entry_filetype(entry);
    out.perm = archive_entry_perm(entry);
    out.uid = archive_entry_uid(entry);
    out.gid = archive_entry_gid(entry);
    out.uname = archive_entry_uname(entry) ? archive_entry_uname(entry) : "";
    out.gname = archive_entry_gname(entry) ? archive_entry_gname(entry) : "";
    out.mtime = archive_entry_mtime(entry);
    if (archive_entry_symlink(entry) != nullptr) out.symlink = archive_entry_symlink(entry);
    std::vector<char> buffer(1 << 16);
    la_ssize_t got = 0;
    while ((got = archive_read_data(reader, buffer.data(), buffer.size())) > 0) {
      out.content.append(buffer.data(), static_cast<size_t>(got));
    }
    entries.push_back(out);
  }
  EXPECT_EQ(rc, ARCHIVE_EOF) << archive_error_string(reader);
  archive_read_free(reader);
  return entries;
}

std::vector<std::string> names(const std::vector<TarEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& entry : entries) out.push_back(entry.name);
  return out;
}

// A scratch directory with a layout in it.
class LayerTest : public ::testing::Test {
 protected:
  LayerTest() : m_layout(LayoutDir::create(m_temp.path() / "layout")) {}

  fs::path src(const std::string& name = "src") const { return m_temp.path() / name; }

  std::vector<TarEntry> entries_of(const Layer& layer) {
    return read_tar(gunzip(core::read_file(m_layout.blob_path(layer.descriptor.digest))));
  }

  // A small root tree with a nested dir, a setuid file and a symlink.
  void make_tree() {
    write(src() / "bin" / "app", "#!/bin/sh\necho hi\n", 04755);
    write(src() / "etc" / "conf", "x=1\n", 0640);
    write(src() / "zz", "last\n", 0600);
    fs::create_directories(src() / "usr" / "share");
    ASSERT_EQ(::chmod((src() / "usr").c_str(), 0700), 0);
    fs::create_symlink("../bin/app", src() / "usr" / "share" / "app-link");
  }

  core::TempDir m_temp{"polyarch-layer-test"};
  LayoutDir m_layout;
};

TEST_F(LayerTest, WritesSortedEntriesOwnedByRootWithModesAndContents) {
  make_tree();
  Layer layer = write_layer(m_layout, {{src(), "/"}}, {.mtime = k_mtime});
  auto entries = entries_of(layer);
  EXPECT_EQ(names(entries),
            (std::vector<std::string>{"bin/", "bin/app", "etc/", "etc/conf", "usr/", "usr/share/",
                                      "usr/share/app-link", "zz"}));
  for (const auto& entry : entries) {
    EXPECT_EQ(entry.uid, 0) << entry.name;
    EXPECT_EQ(entry.gid, 0) << entry.name;
    EXPECT_EQ(entry.uname, "") << entry.name;
    EXPECT_EQ(entry.gname, "") << entry.name;
    EXPECT_EQ(entry.mtime, k_mtime) << entry.name;
  }
  EXPECT_EQ(entries[1].type, AE_IFREG);
  EXPECT_EQ(entries[1].perm, 04755u);
  EXPECT_EQ(entries[1].content, "#!/bin/sh\necho hi\n");
  EXPECT_EQ(entries[3].perm, 0640u);
  EXPECT_EQ(entries[3].content, "x=1\n");
  EXPECT_EQ(entries[4].type, AE_IFDIR);
  EXPECT_EQ(entries[4].perm, 0700u);
  EXPECT_EQ(entries[6].type, AE_IFLNK);
  EXPECT_EQ(entries[6].symlink, "../bin/app");
  EXPECT_EQ(entries[7].perm, 0600u);
  EXPECT_EQ(entries[7].content, "last\n");
}

TEST_F(LayerTest, DescriptorNamesTheGzipBlobAndDiffIdHashesTheTar) {
  make_tree();
  Layer layer = write_layer(m_layout, {{src(), "/"}});
  EXPECT_EQ(layer.descriptor.media_type, media_type::k_oci_layer_gzip);
  fs::path blob = m_layout.blob_path(layer.descriptor.digest);
  EXPECT_EQ(blob.parent_path(), m_layout.root() / "blobs" / "sha256");
  EXPECT_EQ(blob.filename().string(), layer.descriptor.digest.hex);
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(blob)), layer.descriptor.size);
  EXPECT_EQ(sha256_file(blob.string()), layer.descriptor.digest);
  std::string gz = core::read_file(blob);
  EXPECT_EQ(sha256(gunzip(gz)), layer.diff_id);
  EXPECT_NE(layer.diff_id, layer.descriptor.digest);
  // gzip header: magic, deflate, no flags (so no name), mtime 0.
  ASSERT_GE(gz.size(), 10u);
  EXPECT_EQ(gz.substr(0, 8), std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8));
  // Only the blob is left in blobs/: no temp file.
  std::vector<fs::path> files;
  for (const auto& item : fs::recursive_directory_iterator(m_layout.root() / "blobs")) {
    if (item.is_regular_file()) files.push_back(item.path());
  }
  EXPECT_EQ(files, std::vector<fs::path>{blob});
}

TEST_F(LayerTest, SameInputsGiveSameDigestEvenAfterTouchingFiles) {
  make_tree();
  Layer first = write_layer(m_layout, {{src(), "/"}});
  for (const auto& item : fs::recursive_directory_iterator(src())) {
    if (!item.is_symlink()) {
      fs::last_write_time(item.path(), fs::file_time_type::clock::now() + std::chrono::hours(5));
    }
  }
  LayoutDir other = LayoutDir::create(m_temp.path() / "other");
  Layer second = write_layer(other, {{src(), "/"}});
  EXPECT_EQ(second.descriptor, first.descriptor);
  EXPECT_EQ(second.diff_id, first.diff_id);
  Layer again = write_layer(m_layout, {{src(), "/"}});
  EXPECT_EQ(again.descriptor, first.descriptor);
}

TEST_F(LayerTest, MtimeOptionAndModesChangeTheDigest) {
  make_tree();
  Layer base = write_layer(m_layout, {{src(), "/"}});
  Layer later = write_layer(m_layout, {{src(), "/"}}, {.mtime = k_mtime});
  EXPECT_NE(later.descriptor.digest, base.descriptor.digest);
  EXPECT_NE(later.diff_id, base.diff_id);
  ASSERT_EQ(::chmod((src() / "etc" / "conf").c_str(), 0644), 0);
  Layer chmodded = write_layer(m_layout, {{src(), "/"}});
  EXPECT_NE(chmodded.descriptor.digest, base.descriptor.digest);
  EXPECT_NE(chmodded.diff_id, base.diff_id);
}

TEST_F(LayerTest, FileSourceGetsItsMissingParentDirectories) {
  write(src("app"), "binary", 0750);
  Layer layer = write_layer(m_layout, {{src("app"), "/usr/local/bin/tool"}}, {.mtime = 7});
  auto entries = entries_of(layer);
  ASSERT_EQ(names(entries), (std::vector<std::string>{"usr/", "usr/local/", "usr/local/bin/",
                                                      "usr/local/bin/tool"}));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(entries[i].type, AE_IFDIR);
    EXPECT_EQ(entries[i].perm, 0755u);
    EXPECT_EQ(entries[i].mtime, 7);
  }
  EXPECT_EQ(entries[3].perm, 0750u);
  EXPECT_EQ(entries[3].content, "binary");
}

TEST_F(LayerTest, DestEndingInSlashKeepsTheFileName) {
  write(src("hello"), "hi");
  Layer layer = write_layer(m_layout, {{src("hello"), "/"}, {src("hello"), "/opt/"}});
  EXPECT_EQ(names(entries_of(layer)), (std::vector<std::string>{"hello", "opt/", "opt/hello"}));
}

TEST_F(LayerTest, DirectorySourceWithDestGoesUnderIt) {
  write(src() / "a.txt", "a");
  write(src() / "sub" / "b.txt", "b");
  Layer layer = write_layer(m_layout, {{src(), "/opt/app"}});
  auto entries = entries_of(layer);
  EXPECT_EQ(names(entries), (std::vector<std::string>{"opt/", "opt/app/", "opt/app/a.txt",
                                                      "opt/app/sub/", "opt/app/sub/b.txt"}));
  EXPECT_EQ(entries[1].perm, 0755u);
  EXPECT_EQ(entries[4].content, "b");
}

TEST_F(LayerTest, LaterSourceWinsForTheSamePath) {
  write(src("one"), "first", 0600);
  write(src("two"), "second", 0755);
  write(src("tree") / "hello", "from tree");
  Layer layer =
      write_layer(m_layout, {{src("tree"), "/"}, {src("one"), "/hello"}, {src("two"), "/hello"}});
  auto entries = entries_of(layer);
  ASSERT_EQ(names(entries), std::vector<std::string>{"hello"});
  EXPECT_EQ(entries[0].content, "second");
  EXPECT_EQ(entries[0].perm, 0755u);
}

TEST_F(LayerTest, HardLinksAreStoredAsCopies) {
  write(src() / "a", "shared bytes");
  ASSERT_EQ(::link((src() / "a").c_str(), (src() / "b").c_str()), 0);
  auto entries = entries_of(write_layer(m_layout, {{src(), "/"}}));
  ASSERT_EQ(names(entries), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(entries[1].type, AE_IFREG);
  EXPECT_EQ(entries[1].content, "shared bytes");
}

TEST_F(LayerTest, StreamsLargeFilesInChunks) {
  std::string big;
  for (int i = 0; big.size() < (3u << 20) + 5; ++i) big += std::to_string(i) + ",";
  write(src("big"), big);
  auto entries = entries_of(write_layer(m_layout, {{src("big"), "/data/big"}}));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].content, big);
}

TEST_F(LayerTest, OneThreadAndManyThreadsWriteTheSameBytes) {
  // About 2.5 MiB of tar: many 128 KiB gzip blocks, the last one short.
  std::string text;
  for (int i = 0; text.size() < (5u << 19); ++i) text += "line " + std::to_string(i * 7919) + "\n";
  write(src() / "text", text);
  write(src() / "small", "small");
  LayoutDir one_dir = LayoutDir::create(m_temp.path() / "one");
  LayoutDir many_dir = LayoutDir::create(m_temp.path() / "many");
  Layer one = write_layer(one_dir, {{src(), "/"}}, {.threads = 1});
  Layer many = write_layer(many_dir, {{src(), "/"}}, {.threads = 5});
  EXPECT_EQ(many.descriptor, one.descriptor);
  EXPECT_EQ(many.diff_id, one.diff_id);
  std::string one_bytes = core::read_file(one_dir.blob_path(one.descriptor.digest));
  std::string many_bytes = core::read_file(many_dir.blob_path(many.descriptor.digest));
  EXPECT_TRUE(one_bytes == many_bytes);
  EXPECT_EQ(write_layer(m_layout, {{src(), "/"}}).descriptor, one.descriptor);  // as many as cores
  auto entries = read_tar(gunzip(one_bytes));
  ASSERT_EQ(names(entries), (std::vector<std::string>{"small", "text"}));
  EXPECT_EQ(entries[1].content, text);
}

TEST_F(LayerTest, LongAndNonAsciiNamesAreDeterministic) {
  std::string long_name(150, 'n');
  write(src() / long_name, "long");
  write(src() / "caf\xc3\xa9", "utf8");
  Layer first = write_layer(m_layout, {{src(), "/"}});
  auto entries = entries_of(first);
  EXPECT_EQ(names(entries), (std::vector<std::string>{"caf\xc3\xa9", long_name}));
  EXPECT_EQ(write_layer(m_layout, {{src(), "/"}}).descriptor, first.descriptor);
  // The bytes don't depend on the process locale.
  ASSERT_NE(std::setlocale(LC_ALL, "C.UTF-8"), nullptr);
  Layer in_utf8 = write_layer(m_layout, {{src(), "/"}});
  std::setlocale(LC_ALL, "C");
  EXPECT_EQ(in_utf8.descriptor, first.descriptor);
  // Valid UTF-8 names are stored as UTF-8, not flagged as binary.
  std::string tar = gunzip(core::read_file(m_layout.blob_path(first.descriptor.digest)));
  EXPECT_NE(tar.find("path=caf\xc3\xa9\n"), std::string::npos);
  EXPECT_EQ(tar.find("hdrcharset"), std::string::npos);
}

TEST_F(LayerTest, KnownTreeGivesKnownDigests) {
  // Pins the bytes (tar headers, order, padding, gzip blocks) so that a
  // faster writer can't change a digest unnoticed. Made with zlib 1.2.13.
  write(src() / "bin" / "app", "#!/bin/sh\necho hi\n", 0755);
  write(src() / "etc" / "conf", "x=1\n", 0640);
  write(src() / "a-b", "dash");
  write(src() / "a.b", "dot");
  write(src() / "a0", "zero");
  write(src() / "a" / "inner", "in a", 0600);
  write(src() / "caf\xc3\xa9", "utf8");
  write(src() / std::string(150, 'n'), "long");
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i * 7919) + "\n";
  write(src() / "text", text);
  fs::create_symlink("bin/app", src() / "link");
  for (const char* dir : {"bin", "etc"}) ASSERT_EQ(::chmod((src() / dir).c_str(), 0755), 0);
  ASSERT_EQ(::chmod((src() / "a").c_str(), 0700), 0);

  Layer root = write_layer(m_layout, {{src(), "/"}}, {.mtime = k_mtime});
  EXPECT_EQ(root.descriptor.digest.str(),
            "sha256:4de9fb6ba036d7ce3699140f1d5abd1c3c7cdf93293c540cace92f5fd52ed30d");
  EXPECT_EQ(root.diff_id.str(),
            "sha256:fc30a9278263ff0025e59a2e03eff639f786a0e8d2cfd7783482cf9747f7cb14");
  EXPECT_EQ(root.descriptor.size, 89296);
  Layer under = write_layer(m_layout, {{src(), "/opt/app"}}, {.mtime = k_mtime, .threads = 1});
  EXPECT_EQ(under.descriptor.digest.str(),
            "sha256:5ccfab5f951762f68035315f5cf02adfc16b3bf60b537e38d98063ef97dd4395");
  EXPECT_EQ(under.diff_id.str(),
            "sha256:9ef2c1531289b5d8c33f86085239e667919ed4d3e22cdb62495b07c2a7cdcff9");
  // The tar ends on a whole 10240-byte record, as libarchive pads it.
  std::string tar = gunzip(core::read_file(m_layout.blob_path(root.descriptor.digest)));
  EXPECT_EQ(tar.size() % 10240, 0u);
  EXPECT_EQ(tar.substr(tar.size() - 1024), std::string(1024, '\0'));
}

TEST_F(LayerTest, ADirectoryWalkedWhileWritingGivesWhatCollectingGives) {
  // Names that sort differently as whole paths than as plain names ("a/" vs
  // "a-b", "a.b", "a0"), nested, with a destination's parents; one source
  // is walked as it is written, two are collected first.
  for (const char* name : {"a-b", "a.b", "a0", "a/x-y", "a/x/z", "a/x0", "b", "B", "\xc3\xa9"}) {
    write(src() / name, name);
  }
  fs::create_directories(src("empty"));
  for (const std::string dest : {"/", "/opt/app"}) {
    Layer walked = write_layer(m_layout, {{src(), dest}});
    Layer collected = write_layer(m_layout, {{src(), dest}, {src("empty"), dest}});
    EXPECT_EQ(walked.descriptor, collected.descriptor) << dest;
    EXPECT_EQ(walked.diff_id, collected.diff_id) << dest;
  }
  EXPECT_EQ(names(entries_of(write_layer(m_layout, {{src(), "/"}}))),
            (std::vector<std::string>{"B", "a-b", "a.b", "a/", "a/x-y", "a/x/", "a/x/z", "a/x0",
                                      "a0", "b", "\xc3\xa9"}));
}

TEST(LayerErrorTest, MissingSourceIsNamed) {
  core::TempDir temp("polyarch-layer-test");
  LayoutDir layout = LayoutDir::create(temp.path() / "layout");
  fs::path missing = temp.path() / "nope";
  try {
    write_layer(layout, {{missing, "/nope"}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::failure);
    EXPECT_EQ(std::string(e.what()),
              "cannot read \"" + missing.string() + "\": No such file or directory");
  }
}

TEST(LayerErrorTest, FifoInTreeIsUnsupported) {
  core::TempDir temp("polyarch-layer-test");
  LayoutDir layout = LayoutDir::create(temp.path() / "layout");
  fs::create_directories(temp.path() / "src");
  fs::path fifo = temp.path() / "src" / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  try {
    write_layer(layout, {{temp.path() / "src", "/"}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::failure);
    EXPECT_EQ(std::string(e.what()),
              "cannot put \"" + fifo.string() + "\" into a layer: unsupported file type");
  }
  EXPECT_TRUE(fs::is_empty(layout.root() / "blobs" / "sha256"));
}

TEST(LayerErrorTest, DestinationMustBeAbsoluteWithoutDotDot) {
  core::TempDir temp("polyarch-layer-test");
  LayoutDir layout = LayoutDir::create(temp.path() / "layout");
  core::write_file_atomic(temp.path() / "f", "x");
  try {
    write_layer(layout, {{temp.path() / "f", "/a/../../etc/f"}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_EQ(std::string(e.what()),
              "invalid layer destination \"/a/../../etc/f\": \"..\" is not allowed");
  }
  try {
    write_layer(layout, {{temp.path() / "f", "etc/f"}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "invalid layer destination \"etc/f\": expected an absolute path such as \"/app\"");
  }
}

}  // namespace
}  // namespace polyarch::image
