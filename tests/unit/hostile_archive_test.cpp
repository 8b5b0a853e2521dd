// Hostile OCI layout archives (oci:PATH) beyond layout_test's path and link
// cases: sparse giants, oversized or deeply nested index.json, duplicate
// entries, and the binary's exit status. Nothing is written outside the
// destination.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/image/layout.hpp"
#include "engine/image/media_types.hpp"
#include "tests/unit/hostile_util.hpp"

namespace polyarch::image {
namespace {

using polyarch::testing::error_line;
using polyarch::testing::run_polyarch;
using polyarch::testing::tree;

class HostileArchive : public ::testing::Test {
 protected:
  fs::path path(const std::string& name) const { return m_temp.path() / name; }
  std::string q(const std::string& name) const { return quoted(path(name).string()); }

  // A one-image layout directory at `name`; returns its manifest descriptor.
  Descriptor make_layout(const std::string& name) {
    LayoutDir layout = LayoutDir::create(path(name));
    Descriptor config = layout.put_blob(
        media_type::k_oci_config,
        R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})");
    Manifest manifest;
    manifest.media_type = std::string(media_type::k_oci_manifest);
    manifest.config = config;
    Descriptor top = layout.put_blob(media_type::k_oci_manifest, to_bytes(manifest));
    layout.set_ref(top, "latest", "");
    return top;
  }
  // GNU tar of the directory's contents, with extra tar flags.
  void tar(const std::string& dir, const std::string& archive, std::vector<std::string> flags) {
    std::vector<std::string> argv = {"tar", "-C", path(dir).string(), "-cf",
                                     path(archive).string()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"oci-layout", "index.json", "blobs"});
    core::ProcessResult r = core::run_process(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // unpack_layout fails with message; nothing lands beside dest.
  void expect_unpack_error(const std::string& archive, const std::string& message) {
    SCOPED_TRACE(archive);
    std::set<std::string> before = tree(m_temp.path());
    try {
      unpack_layout(path(archive), path("dest"));
      ADD_FAILURE() << "unpacked " << archive;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::failure);
      EXPECT_EQ(std::string(e.what()), message);
    }
    fs::remove_all(path("dest"));
    EXPECT_EQ(tree(m_temp.path()), before);
  }
  // The binary's `manifest inspect oci:ARCHIVE` fails with message, status 1.
  void expect_inspect(const std::string& archive, const std::string& message) {
    core::TempDir home("hostile-archive-home");
    core::ProcessResult r =
        run_polyarch({"manifest", "inspect", "oci:" + path(archive).string()}, home.path());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, error_line(message));
    EXPECT_EQ(r.out, "");
  }

  core::TempDir m_temp{"hostile-archive"};
};

TEST_F(HostileArchive, TenGibibyteSparseEntryIsRefused) {
  Descriptor top = make_layout("src");
  fs::path giant = path("src/blobs/sha256") / std::string(64, 'e');
  std::ofstream(giant).close();
  fs::resize_file(giant, uintmax_t{10} << 30);  // a hole: no disk used
  std::string entry = "blobs/sha256/" + std::string(64, 'e');
  for (const char* format : {"posix", "gnu"}) {
    SCOPED_TRACE(format);
    std::string archive = std::string("sparse-") + format + ".tar";
    tar("src", archive, {"--sparse", std::string("--format=") + format});
    ASSERT_LT(fs::file_size(path(archive)), uintmax_t{1} << 20);
    expect_unpack_error(archive,
                        "refusing " + q(archive) + ": entry \"" + entry + "\" is a sparse file");
  }
  expect_inspect("sparse-posix.tar", "refusing " + q("sparse-posix.tar") + ": entry \"" + entry +
                                         "\" is a sparse file");
}

TEST_F(HostileArchive, OversizedIndexIsRefused) {
  make_layout("src");
  std::string index = core::read_file(path("src/index.json"));
  core::write_file_atomic(path("src/index.json"), index + std::string(5 << 20, ' '));
  tar("src", "big-index.tar", {});
  std::string message =
      q("big-index.tar") +
      " is not an OCI image layout: index.json is larger than 4 MiB; refusing to read it";
  expect_unpack_error("big-index.tar", message);
  expect_inspect("big-index.tar", message);
}

TEST_F(HostileArchive, DeeplyNestedIndexIsRefused) {
  make_layout("src");
  core::write_file_atomic(path("src/index.json"), R"({"schemaVersion":2,"manifests":[],"x":)" +
                                                      std::string(50000, '[') +
                                                      std::string(50000, ']') + "}");
  tar("src", "deep.tar", {});
  expect_unpack_error("deep.tar", q("deep.tar") +
                                      " is not an OCI image layout: invalid JSON in index.json: "
                                      "nested deeper than 64 levels");
}

TEST_F(HostileArchive, InvalidIndexIsNamedInsideTheArchive) {
  make_layout("src");
  core::write_file_atomic(path("src/index.json"), R"({"schemaVersion":2,"manifests":{}})");
  tar("src", "bad-index.tar", {});
  std::string message =
      q("bad-index.tar") +
      " is not an OCI image layout: invalid index.json: \"manifests\" must be an array";
  expect_unpack_error("bad-index.tar", message);
  expect_inspect("bad-index.tar", message);
}

TEST_F(HostileArchive, OversizedManifestBlobIsRefused) {
  LayoutDir layout = LayoutDir::create(path("src"));
  Descriptor top = layout.put_blob(media_type::k_oci_manifest, std::string(5 << 20, ' ') + "{}");
  layout.set_ref(top, "latest", "");
  tar("src", "big-manifest.tar", {});
  expect_inspect("big-manifest.tar", "blob " + top.digest.str() + " in " + q("big-manifest.tar") +
                                         " is larger than 4 MiB; refusing to read it");
}

TEST_F(HostileArchive, DuplicateEntryIsRefused) {
  make_layout("src");
  tar("src", "twice.tar", {});
  core::ProcessResult r = core::run_process(
      {"tar", "-C", path("src").string(), "-rf", path("twice.tar").string(), "index.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_unpack_error("twice.tar",
                      "cannot extract \"index.json\" from " + q("twice.tar") + ": File exists");
}

TEST_F(HostileArchive, EntryBelowAFileIsRefused) {
  make_layout("src");
  tar("src", "below.tar", {});
  fs::create_directories(path("extra/oci-layout"));
  std::ofstream(path("extra/oci-layout/x")) << "x";
  core::ProcessResult r = core::run_process(
      {"tar", "-C", path("extra").string(), "-rf", path("below.tar").string(), "oci-layout/x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_unpack_error(
      "below.tar", "cannot extract \"oci-layout/x\" from " + q("below.tar") + ": Not a directory");
}

TEST_F(HostileArchive, IndexThatIsADirectory) {
  make_layout("src");
  fs::remove(path("src/index.json"));
  fs::create_directories(path("src/index.json"));
  tar("src", "dir-index.tar", {});
  expect_unpack_error("dir-index.tar",
                      q("dir-index.tar") + " is not an OCI image layout: index.json is not a file");
}

TEST_F(HostileArchive, CopyOfAnEscapingArchiveWritesNothing) {
  make_layout("src");
  fs::create_symlink("../../..", path("src/blobs/up"));
  tar("src", "escape.tar", {});
  core::TempDir home("hostile-archive-home");
  core::ProcessResult r = run_polyarch(
      {"copy", "oci:" + path("escape.tar").string(), "oci-dir:" + path("out").string()},
      home.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            error_line("refusing " + q("escape.tar") + ": entry \"blobs/up\" is a symbolic link"));
  EXPECT_FALSE(fs::exists(path("out")));
  EXPECT_TRUE(tree(home.path()).empty());
}

}  // namespace
}  // namespace polyarch::image
