#include "engine/image/layout.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::image {
namespace {

constexpr const char* k_layout_file = R"({"imageLayoutVersion":"1.0.0"})";
constexpr std::string_view k_empty_index =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})";

// One entry of a tar archive built by a test.
struct TarItem {
  std::string name;
  unsigned type = AE_IFREG;
  std::string content;
  std::string symlink;
  std::string hardlink;
};

TarItem file(std::string name, std::string content) {
  TarItem item;
  item.name = std::move(name);
  item.content = std::move(content);
  return item;
}

TarItem special(std::string name, unsigned type) {
  TarItem item;
  item.name = std::move(name);
  item.type = type;
  return item;
}

TarItem symlink(std::string name, std::string target) {
  TarItem item = special(std::move(name), AE_IFLNK);
  item.symlink = std::move(target);
  return item;
}

TarItem hardlink(std::string name, std::string target) {
  TarItem item = special(std::move(name), AE_IFREG);
  item.hardlink = std::move(target);
  return item;
}

// Writes items, in order, as a pax tar archive at path.
void write_tar(const fs::path& path, const std::vector<TarItem>& items) {
  archive* out = archive_write_new();
  ASSERT_EQ(archive_write_set_format_pax_restricted(out), ARCHIVE_OK);
  ASSERT_EQ(archive_write_open_filename(out, path.c_str()), ARCHIVE_OK);
  for (const auto& item : items) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, item.name.c_str());
    archive_entry_set_filetype(entry, item.type);
    archive_entry_set_perm(entry, 0644);
    if (!item.symlink.empty()) archive_entry_set_symlink(entry, item.symlink.c_str());
    if (!item.hardlink.empty()) archive_entry_set_hardlink(entry, item.hardlink.c_str());
    if (item.type == AE_IFCHR || item.type == AE_IFBLK) {
      archive_entry_set_rdevmajor(entry, 1);
      archive_entry_set_rdevminor(entry, 3);
    }
    archive_entry_set_size(entry, static_cast<la_int64_t>(item.content.size()));
    EXPECT_EQ(archive_write_header(out, entry), ARCHIVE_OK) << archive_error_string(out);
    if (!item.content.empty()) {
      EXPECT_EQ(archive_write_data(out, item.content.data(), item.content.size()),
                static_cast<la_ssize_t>(item.content.size()));
    }
    archive_entry_free(entry);
  }
  EXPECT_EQ(archive_write_close(out), ARCHIVE_OK);
  archive_write_free(out);
}

// "name uid:gid mtime" for each entry of a tar archive, in order.
std::vector<std::string> list_tar(const fs::path& path) {
  archive* in = archive_read_new();
  archive_read_support_format_tar(in);
  EXPECT_EQ(archive_read_open_filename(in, path.c_str(), 1 << 16), ARCHIVE_OK);
  std::vector<std::string> out;
  archive_entry* entry = nullptr;
  int status = ARCHIVE_OK;
  while ((status = archive_read_next_header(in, &entry)) == ARCHIVE_OK) {
    out.push_back(std::string(archive_entry_pathname(entry)) + " " +
                  std::to_string(archive_entry_uid(entry)) + ":" +
                  std::to_string(archive_entry_gid(entry)) + " " +
                  std::to_string(archive_entry_mtime(entry)));
  }
  EXPECT_EQ(status, ARCHIVE_EOF);
  archive_read_free(in);
  return out;
}

// The names in a directory (not recursive), sorted.
std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& item : fs::directory_iterator(dir)) names.insert(item.path().filename());
  return names;
}

// The message of the Error that fn throws, checking its kind.
template <typename Fn>
std::string error_of(Fn fn, ErrorKind kind = ErrorKind::failure) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

std::string q(const fs::path& path) { return quoted(path.string()); }

class LayoutTest : public ::testing::Test {
 protected:
  fs::path path(const std::string& name) const { return m_temp.path() / name; }

  // A layout at `name` with two manifests and a config blob.
  LayoutDir make_layout(const std::string& name) {
    LayoutDir layout = LayoutDir::create(path(name));
    layout.put_blob(media_type::k_oci_config, R"({"config":1})");
    m_first = layout.put_blob(media_type::k_oci_manifest, R"({"manifest":1})");
    m_second = layout.put_blob(media_type::k_oci_manifest, R"({"manifest":2})");
    // A blob larger than one tar block and libarchive's read buffer.
    layout.put_blob(media_type::k_oci_layer_tar, std::string(200000, 'z'));
    layout.set_ref(m_first, "latest", "example.com/app:latest");
    return layout;
  }

  core::TempDir m_temp{"polyarch-layout-test"};
  Descriptor m_first;
  Descriptor m_second;
};

TEST_F(LayoutTest, CreateWritesLayoutFileAndEmptyIndex) {
  LayoutDir layout = LayoutDir::create(path("a/b"));
  EXPECT_EQ(layout.root(), path("a/b"));
  EXPECT_EQ(core::read_file(path("a/b/oci-layout")), R"({"imageLayoutVersion":"1.0.0"})");
  EXPECT_EQ(core::read_file(path("a/b/index.json")), k_empty_index);
  EXPECT_TRUE(fs::is_directory(path("a/b/blobs/sha256")));
  EXPECT_EQ(names_in(path("a/b")), (std::set<std::string>{"blobs", "index.json", "oci-layout"}));
  // Creating again keeps what is there.
  layout.set_ref(layout.put_blob(media_type::k_oci_manifest, "{}"), "x", "");
  std::string index = layout.read_index_bytes();
  LayoutDir::create(path("a/b"));
  EXPECT_EQ(layout.read_index_bytes(), index);
  EXPECT_NE(index, k_empty_index);
  EXPECT_EQ(LayoutDir::open(path("a/b")).read_index().manifests.size(), 1u);
}

TEST_F(LayoutTest, OpenRejectsWhatIsNotALayout) {
  EXPECT_EQ(error_of([&] { LayoutDir::open(path("none")); }),
            q(path("none")) + " is not an OCI image layout: no such directory");
  fs::create_directories(path("empty"));
  EXPECT_EQ(error_of([&] { LayoutDir::open(path("empty")); }),
            q(path("empty")) + " is not an OCI image layout: no oci-layout file");
  core::write_file_atomic(path("empty/oci-layout"), "{}");
  EXPECT_EQ(error_of([&] { LayoutDir::open(path("empty")); }),
            q(path("empty")) + " is not an OCI image layout: no index.json");
  core::write_file_atomic(path("empty/index.json"), R"({"schemaVersion":2})");
  EXPECT_EQ(error_of([&] { LayoutDir::open(path("empty")); }),
            q(path("empty")) + " is not an OCI image layout: invalid " +
                path("empty/index.json").string() + ": \"manifests\" must be an array");
}

TEST_F(LayoutTest, PutHasAndReadBlob) {
  LayoutDir layout = LayoutDir::create(path("l"));
  Descriptor d = layout.put_blob(media_type::k_oci_config, "hello");
  EXPECT_EQ(d.media_type, media_type::k_oci_config);
  EXPECT_EQ(d.digest.str(), "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_EQ(d.size, 5);
  EXPECT_EQ(layout.blob_path(d.digest), path("l/blobs/sha256") / d.digest.hex);
  EXPECT_TRUE(layout.has_blob(d.digest));
  EXPECT_EQ(core::read_file(layout.blob_path(d.digest)), "hello");
  EXPECT_EQ(layout.read_blob(d.digest), "hello");
  EXPECT_EQ(layout.put_blob(media_type::k_oci_config, "hello"), d);

  Digest other = sha256("other");
  EXPECT_FALSE(layout.has_blob(other));
  EXPECT_EQ(error_of([&] { layout.read_blob(other); }),
            "blob " + other.str() + " is missing from " + q(path("l")));

  core::write_file_atomic(layout.blob_path(d.digest), "hellO");
  EXPECT_EQ(error_of([&] { layout.read_blob(d.digest); }),
            "blob " + d.digest.str() + " in " + q(path("l")) + " does not match its digest");
}

TEST_F(LayoutTest, SetRefWritesExactIndexAndReplacesTheSameName) {
  LayoutDir layout = make_layout("l");
  EXPECT_EQ(layout.read_index_bytes(),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
            R"("manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("digest":")" + m_first.digest.str() + R"(","size":14,"annotations":)"
            R"({"io.containerd.image.name":"example.com/app:latest",)"
            R"("org.opencontainers.image.ref.name":"latest"}}]})");
  layout.set_ref(m_second, "v2", "");
  Descriptor replacement = m_second;
  replacement.platform = Platform{"linux", "arm64", "", "", {}};
  replacement.annotations["stale"] = "x";
  layout.set_ref(replacement, "latest", "");
  Index index = layout.read_index();
  ASSERT_EQ(index.manifests.size(), 2u);
  EXPECT_EQ(index.manifests[0].digest, m_second.digest);
  EXPECT_EQ(index.manifests[0].annotations,
            (Annotations{{std::string(k_ref_name_annotation), "v2"}}));
  EXPECT_EQ(index.manifests[1].digest, m_second.digest);
  EXPECT_EQ(index.manifests[1].annotations,
            (Annotations{{std::string(k_ref_name_annotation), "latest"}}));
  EXPECT_FALSE(index.manifests[1].platform.has_value());
}

TEST_F(LayoutTest, ResolveByNameOrTheOnlyImage) {
  LayoutDir empty = LayoutDir::create(path("empty"));
  EXPECT_EQ(error_of([&] { empty.resolve(""); }), q(path("empty")) + " holds no image");

  LayoutDir layout = make_layout("l");
  layout.set_ref(m_first, "stable", "");
  // Two names for one image: still one image.
  EXPECT_EQ(layout.resolve("").digest, m_first.digest);
  EXPECT_EQ(layout.resolve("stable").digest, m_first.digest);

  layout.set_ref(m_second, "next", "");
  EXPECT_EQ(error_of([&] { layout.resolve(""); }),
            q(path("l")) + " holds several images; name one with :NAME "
                           "(\"latest\", \"stable\", \"next\")");
  Descriptor next = layout.resolve("next");
  EXPECT_EQ(next.digest, m_second.digest);
  EXPECT_EQ(next.size, m_second.size);
  EXPECT_EQ(layout.resolve("latest").annotations.at("io.containerd.image.name"),
            "example.com/app:latest");
  EXPECT_EQ(error_of([&] { layout.resolve("old"); }),
            "no image named \"old\" in " + q(path("l")) +
                " (names: \"latest\", \"stable\", \"next\")");
  EXPECT_EQ(error_of([&] { empty.resolve("x"); }),
            "no image named \"x\" in " + q(path("empty")) + " (names: none)");
}

TEST_F(LayoutTest, RefParsesPrefixesAndNameSuffix) {
  LayoutRef archive = LayoutRef::parse("oci:/no/such/app.tar");
  EXPECT_EQ(archive.kind, LayoutRef::Kind::archive);
  EXPECT_EQ(archive.path, "/no/such/app.tar");
  EXPECT_EQ(archive.ref_name, "");

  LayoutRef dir = LayoutRef::parse("oci-dir:/no/such/dir:v1.2");
  EXPECT_EQ(dir.kind, LayoutRef::Kind::directory);
  EXPECT_EQ(dir.path, "/no/such/dir");
  EXPECT_EQ(dir.ref_name, "v1.2");

  // A NAME with '/' is part of the path.
  LayoutRef slash = LayoutRef::parse("oci:/no/such:dir/app.tar");
  EXPECT_EQ(slash.path, "/no/such:dir/app.tar");
  EXPECT_EQ(slash.ref_name, "");

  // An existing path is taken whole, colon and all.
  core::write_file_atomic(path("app:latest"), "x");
  LayoutRef existing = LayoutRef::parse("oci:" + path("app:latest").string());
  EXPECT_EQ(existing.path, path("app:latest"));
  EXPECT_EQ(existing.ref_name, "");
  LayoutRef named = LayoutRef::parse("oci:" + path("app:latest").string() + ":v2");
  EXPECT_EQ(named.path, path("app:latest"));
  EXPECT_EQ(named.ref_name, "v2");

  EXPECT_TRUE(LayoutRef::matches("oci:x"));
  EXPECT_TRUE(LayoutRef::matches("oci-dir:x"));
  EXPECT_FALSE(LayoutRef::matches("docker://x"));
  EXPECT_EQ(error_of([] { LayoutRef::parse("docker://app"); }, ErrorKind::bad_input),
            "invalid layout \"docker://app\": expected oci:PATH or oci-dir:PATH");
  EXPECT_EQ(error_of([] { LayoutRef::parse("OCI:app"); }, ErrorKind::bad_input),
            "invalid layout \"OCI:app\": expected oci:PATH or oci-dir:PATH");
  EXPECT_EQ(error_of([] { LayoutRef::parse("oci:"); }, ErrorKind::bad_input),
            "invalid layout \"oci:\": empty path");
  EXPECT_EQ(error_of([] { LayoutRef::parse("oci-dir:"); }, ErrorKind::bad_input),
            "invalid layout \"oci-dir:\": empty path");
}

TEST_F(LayoutTest, PackThenUnpackRoundTripsAndIsDeterministic) {
  LayoutDir layout = make_layout("src");
  pack_layout(layout, path("a.tar"));
  std::vector<std::string> entries = list_tar(path("a.tar"));
  ASSERT_EQ(entries.size(), 8u);
  EXPECT_EQ(entries[0], "blobs/ 0:0 0");
  EXPECT_EQ(entries[1], "blobs/sha256/ 0:0 0");
  EXPECT_EQ(entries[6], "index.json 0:0 0");
  EXPECT_EQ(entries[7], "oci-layout 0:0 0");
  EXPECT_FALSE(fs::exists(path("a.tar.tmp." + std::to_string(::getpid()))));

  LayoutDir unpacked = unpack_layout(path("a.tar"), path("dest"));
  EXPECT_EQ(unpacked.root(), path("dest"));
  EXPECT_EQ(unpacked.read_index_bytes(), layout.read_index_bytes());
  EXPECT_EQ(core::read_file(path("dest/oci-layout")), R"({"imageLayoutVersion":"1.0.0"})");
  int blobs = 0;
  for (const auto& item : fs::directory_iterator(path("src/blobs/sha256"))) {
    Digest digest{"sha256", item.path().filename()};
    EXPECT_EQ(unpacked.read_blob(digest), layout.read_blob(digest));
    ++blobs;
  }
  EXPECT_EQ(blobs, 4);
  EXPECT_EQ(names_in(path("dest/blobs/sha256")), names_in(path("src/blobs/sha256")));
  EXPECT_EQ(unpacked.resolve("latest").digest, m_first.digest);

  // Same content, another time and directory: the same bytes.
  pack_layout(layout, path("b.tar"));
  pack_layout(unpacked, path("c.tar"));
  std::string a = core::read_file(path("a.tar"));
  EXPECT_EQ(core::read_file(path("b.tar")), a);
  EXPECT_EQ(core::read_file(path("c.tar")), a);
}

TEST_F(LayoutTest, UnpackAcceptsDotSlashNames) {
  write_tar(path("dot.tar"), {special("./", AE_IFDIR),
                              file("./oci-layout", k_layout_file),
                              file("./index.json", std::string(k_empty_index)),
                              special("./blobs/", AE_IFDIR)});
  LayoutDir layout = unpack_layout(path("dot.tar"), path("dest"));
  EXPECT_EQ(layout.read_index_bytes(), k_empty_index);
  EXPECT_EQ(names_in(path("dest")), (std::set<std::string>{"blobs", "index.json", "oci-layout"}));
}

TEST_F(LayoutTest, OpenedLayoutReadsBothKindsAndReportsMissingFiles) {
  make_layout("dir");
  pack_layout(LayoutDir::open(path("dir")), path("app.tar"));
  OpenedLayout archive(LayoutRef::parse("oci:" + path("app.tar").string()));
  EXPECT_EQ(archive.layout().resolve("").digest, m_first.digest);
  EXPECT_NE(archive.layout().root(), path("dir"));
  OpenedLayout dir(LayoutRef::parse("oci-dir:" + path("dir").string()));
  EXPECT_EQ(dir.layout().root(), path("dir"));

  std::string missing = path("missing.tar").string();
  EXPECT_EQ(error_of([&] { OpenedLayout opened(LayoutRef::parse("oci:" + missing)); }),
            "cannot read \"" + missing + "\": No such file or directory");
  EXPECT_EQ(error_of([&] { OpenedLayout opened(LayoutRef::parse("oci:" + path("dir").string())); }),
            "cannot read " + q(path("dir")) + ": not a file");
  EXPECT_EQ(error_of([&] { OpenedLayout opened(LayoutRef::parse("oci-dir:" + missing)); }),
            "\"" + missing + "\" is not an OCI image layout: no such directory");
}

// Unpacks an archive of a valid first entry followed by `hostile`, expecting
// the refusal `reason` and nothing written outside dest.
class LayoutHostileTest : public LayoutTest {
 protected:
  void expect_refused(const TarItem& hostile, const std::string& reason) {
    fs::path work = path("work");
    fs::remove_all(work);
    fs::create_directories(work);
    fs::path archive = work / "hostile.tar";
    fs::path dest = work / "dest";
    fs::create_directories(dest);
    write_tar(archive, {file("oci-layout", k_layout_file),
                        hostile});
    EXPECT_EQ(error_of([&] { unpack_layout(archive, dest); }),
              "refusing " + q(archive) + ": entry \"" + hostile.name + "\" " + reason);
    EXPECT_EQ(names_in(work), (std::set<std::string>{"dest", "hostile.tar"}));
    EXPECT_EQ(names_in(m_temp.path()), (std::set<std::string>{"work"}));
    EXPECT_EQ(names_in(dest), (std::set<std::string>{"oci-layout"}));
  }
};

TEST_F(LayoutHostileTest, RefusesAbsolutePaths) {
  std::string passwd = core::read_file("/etc/passwd");
  expect_refused(file("/etc/passwd", "evil\n"), "has an absolute path");
  EXPECT_EQ(core::read_file("/etc/passwd"), passwd);
  fs::path inside = path("abs-evil");
  expect_refused(file(inside.string(), "evil\n"), "has an absolute path");
  EXPECT_FALSE(fs::exists(inside));
}

TEST_F(LayoutHostileTest, RefusesDotDotComponents) {
  expect_refused(file("../evil", "evil\n"), "has a \"..\" component");
  EXPECT_FALSE(fs::exists(path("evil")));
  expect_refused(file("blobs/../../evil", "evil\n"), "has a \"..\" component");
  EXPECT_FALSE(fs::exists(path("evil")));
  expect_refused(file("blobs/../../../evil", "evil\n"), "has a \"..\" component");
  EXPECT_FALSE(fs::exists(m_temp.path().parent_path() / "evil"));
  expect_refused(special("../evil-dir/", AE_IFDIR), "has a \"..\" component");
  EXPECT_FALSE(fs::exists(path("evil-dir")));
}

TEST_F(LayoutHostileTest, RefusesLinks) {
  expect_refused(symlink("blobs", "../.."), "is a symbolic link");
  EXPECT_FALSE(fs::exists(fs::symlink_status(path("work/dest/blobs"))));
  expect_refused(hardlink("index.json", "/etc/passwd"), "is a hard link");
  expect_refused(hardlink("index.json", "oci-layout"), "is a hard link");
}

TEST_F(LayoutHostileTest, RefusesSpecialFiles) {
  expect_refused(special("null", AE_IFCHR), "is a device file");
  expect_refused(special("disk", AE_IFBLK), "is a device file");
  expect_refused(special("pipe", AE_IFIFO), "is a fifo");
}

TEST_F(LayoutTest, UnpackOfATarThatIsNoLayoutNamesTheArchive) {
  write_tar(path("other.tar"), {file("hello.txt", "hi\n")});
  EXPECT_EQ(error_of([&] { unpack_layout(path("other.tar"), path("dest")); }),
            q(path("other.tar")) + " is not an OCI image layout: no oci-layout file");
  EXPECT_EQ(core::read_file(path("dest/hello.txt")), "hi\n");
  EXPECT_EQ(error_of([&] { OpenedLayout opened(LayoutRef::parse("oci:" + path("other.tar").string())); }),
            q(path("other.tar")) + " is not an OCI image layout: no oci-layout file");
}

TEST_F(LayoutTest, FailedPackLeavesNoPartialArchive) {
  LayoutDir layout = make_layout("src");
  fs::create_symlink(path("nowhere"), path("src/blobs/sha256/dangling"));
  EXPECT_ANY_THROW(pack_layout(layout, path("out/app.tar")));
  fs::create_directories(path("out"));
  EXPECT_ANY_THROW(pack_layout(layout, path("out/app.tar")));
  EXPECT_TRUE(fs::is_empty(path("out")));
}

TEST_F(LayoutTest, TruncatedOrForeignArchiveIsAnError) {
  pack_layout(make_layout("src"), path("full.tar"));
  std::string full = core::read_file(path("full.tar"));
  core::write_file_atomic(path("half.tar"), full.substr(0, full.size() / 2));
  // The middle of the archive is inside the big blob.
  std::string big = "blobs/sha256/" + sha256(std::string(200000, 'z')).hex;
  EXPECT_EQ(error_of([&] { unpack_layout(path("half.tar"), path("dest-half")); }),
            "cannot extract \"" + big + "\" from " + q(path("half.tar")) +
                ": Truncated tar archive");
  // Cut inside the second header.
  core::write_file_atomic(path("head.tar"), full.substr(0, 1000));
  EXPECT_EQ(error_of([&] { unpack_layout(path("head.tar"), path("dest-head")); }),
            "cannot read " + q(path("head.tar")) + ": Truncated tar archive");

  core::write_file_atomic(path("text.tar"), std::string(2000, 'x'));
  EXPECT_EQ(error_of([&] { unpack_layout(path("text.tar"), path("dest-text")); }),
            "cannot read " + q(path("text.tar")) + ": Unrecognized archive format");
  EXPECT_FALSE(fs::exists(path("dest-text")));
  core::write_file_atomic(path("empty.tar"), "");
  EXPECT_EQ(error_of([&] { unpack_layout(path("empty.tar"), path("dest-empty")); }),
            "cannot read " + q(path("empty.tar")) + ": Unrecognized archive format");
}

}  // namespace
}  // namespace polyarch::image
