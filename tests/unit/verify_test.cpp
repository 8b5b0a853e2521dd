// manifest verify: ELF headers, layer streaming, and per-platform checks on
// images built in the test (one layout per case), word for word.
#include <gtest/gtest.h>

#include <archive.h>
#include <archive_entry.h>

#include <fstream>

#include "engine/build/assembler.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/emulation/probes.hpp"
#include "engine/image/layer.hpp"
#include "engine/image/media_types.hpp"
#include "engine/verify/elf.hpp"
#include "engine/verify/layer_scan.hpp"
#include "engine/verify/verify.hpp"

namespace polyarch::verify {
namespace {

using namespace image;
namespace fs = std::filesystem;

const emulation::Arch& arch(const char* platform) { return emulation::arch_for(parse_platform(platform)); }

// An ELF header's first 20 bytes with the given identity fields.
std::string elf_head(int elf_class, int data, int type, int machine) {
  std::string head("\x7f" "ELF", 4);
  head += static_cast<char>(elf_class);
  head += static_cast<char>(data);
  head += std::string(10, '\x01');
  bool big = data == 2;
  for (int value : {type, machine}) {
    head += static_cast<char>(big ? value >> 8 : value & 0xff);
    head += static_cast<char>(big ? value & 0xff : value >> 8);
  }
  return head;
}

TEST(Elf, ReadsClassByteOrderTypeAndMachine) {
  EXPECT_EQ(read_elf_identity(elf_head(2, 1, 2, 62)), (ElfIdentity{2, false, 2, 62}));
  EXPECT_EQ(read_elf_identity(elf_head(2, 2, 3, 22)), (ElfIdentity{2, true, 3, 22}));
  EXPECT_EQ(read_elf_identity(elf_head(1, 1, 3, 40)), (ElfIdentity{1, false, 3, 40}));
}

TEST(Elf, RefusesWhatIsNotAnElfHeader) {
  EXPECT_EQ(read_elf_identity("#!/bin/sh\necho hi\n"), std::nullopt);
  EXPECT_EQ(read_elf_identity(elf_head(2, 1, 2, 62).substr(0, 19)), std::nullopt);
  EXPECT_EQ(read_elf_identity(elf_head(3, 1, 2, 62)), std::nullopt);
  EXPECT_EQ(read_elf_identity(elf_head(2, 0, 2, 62)), std::nullopt);
  EXPECT_FALSE(has_elf_magic("\x7f" "EL"));
}

TEST(Elf, ProgramsAreExecutablesAndSharedObjects) {
  EXPECT_TRUE(is_program(*read_elf_identity(elf_head(2, 1, 2, 62))));
  EXPECT_TRUE(is_program(*read_elf_identity(elf_head(2, 1, 3, 62))));
  EXPECT_FALSE(is_program(*read_elf_identity(elf_head(2, 1, 1, 62))));  // a .o file
}

TEST(Elf, TellsAmd64From386ByClassAndMachine) {
  ElfIdentity x86_64{2, false, 2, 62}, i386{1, false, 2, 3}, x32_machine_62{1, false, 2, 62};
  EXPECT_TRUE(matches(x86_64, arch("linux/amd64")));
  EXPECT_FALSE(matches(x86_64, arch("linux/386")));
  EXPECT_TRUE(matches(i386, arch("linux/386")));
  EXPECT_FALSE(matches(i386, arch("linux/amd64")));
  EXPECT_FALSE(matches(x32_machine_62, arch("linux/amd64")));
  ElfIdentity armhf{1, false, 2, 40};
  EXPECT_TRUE(matches(armhf, arch("linux/arm/v7")));
  EXPECT_TRUE(matches(armhf, arch("linux/arm/v6")));
  EXPECT_FALSE(matches(armhf, arch("linux/arm64")));
}

TEST(Elf, DescribesForMessages) {
  EXPECT_EQ(describe({2, false, 2, 62}), "an x86-64 ELF (linux/amd64)");
  EXPECT_EQ(describe({2, false, 2, 183}), "an aarch64 ELF (linux/arm64)");
  EXPECT_EQ(describe({1, false, 2, 40}), "an arm ELF (linux/arm/v7 or linux/arm/v6)");
  EXPECT_EQ(describe({1, false, 2, 3}), "an i386 ELF (linux/386)");
  EXPECT_EQ(describe({2, true, 2, 22}), "an s390x ELF (linux/s390x)");
  EXPECT_EQ(describe({2, false, 2, 243}), "a riscv64 ELF (linux/riscv64)");
  EXPECT_EQ(describe({1, true, 2, 8}), "a 32-bit big-endian ELF for machine 8 (no known platform)");
}

TEST(Elf, EveryProbeIsRecognizedAsItsOwnArch) {
  for (const auto& row : emulation::arch_table()) {
    auto identity = read_elf_identity(emulation::probe_elf(row).substr(0, k_elf_head_size));
    ASSERT_TRUE(identity) << row.platform;
    EXPECT_TRUE(is_program(*identity)) << row.platform;
    EXPECT_TRUE(matches(*identity, row)) << row.platform;
    for (const auto* other : arches_of(*identity)) {
      EXPECT_EQ(other->elf_machine, row.elf_machine) << row.platform << " also matched " << other->platform;
    }
  }
}

// A gzip'd or zstd'd tar in memory, written with libarchive (as registries serve them).
std::string tar_of(const std::vector<std::pair<std::string, std::string>>& files, bool zstd) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);  // no zero padding after a zstd frame
  if (zstd) archive_write_add_filter_zstd(a); else archive_write_add_filter_gzip(a);
  archive_write_open(a, &out, nullptr,
                     [](struct archive*, void* data, const void* buffer, size_t n) -> la_ssize_t {
                       static_cast<std::string*>(data)->append(static_cast<const char*>(buffer), n);
                       return static_cast<la_ssize_t>(n);
                     }, nullptr);
  for (const auto& [name, content] : files) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0755);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    archive_write_header(a, e);
    archive_write_data(a, content.data(), content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// Feeds bytes in small chunks, as a network download would.
BlobProducer chunks_of(const std::string& bytes) {
  return [bytes](const registry::BodySink& sink) {
    for (size_t i = 0; i < bytes.size(); i += 1000) {
      if (!sink(bytes.data() + i, std::min<size_t>(1000, bytes.size() - i))) return;
    }
  };
}

TEST(LayerScan, StreamsZstdAndGzipTarsHandingOverOnlyTheHead) {
  std::string big(3 << 20, 'x');
  std::string elf = emulation::probe_elf(arch("linux/arm64"));
  for (bool zstd : {false, true}) {
    std::vector<std::string> seen;
    scan_tar_stream(chunks_of(tar_of({{"./big", big}, {"usr/bin/app", elf}, {"etc/.wh.gone", ""}}, zstd)),
                    "test layer", 64, [&](const LayerEntry& e) {
                      seen.push_back(e.path + " " + std::to_string(static_cast<int>(e.kind)) + " " +
                                     std::to_string(e.head.size()));
                    });
    EXPECT_EQ(seen, (std::vector<std::string>{"/big 0 64", "/usr/bin/app 0 64", "/etc/gone 2 0"}))
        << (zstd ? "zstd" : "gzip");
  }
}

TEST(LayerScan, AProducerErrorIsTheErrorReported) {
  std::string bytes = tar_of({{"a", std::string(1 << 20, 'a')}}, false);
  BlobProducer broken = [&](const registry::BodySink& sink) {
    sink(bytes.data(), bytes.size() / 2);  // the compressed layer is smaller than the text
    throw failure("connection reset by registry");
  };
  try {
    scan_tar_stream(broken, "layer x", 64, [](const LayerEntry&) {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "connection reset by registry");
  }
}

TEST(LayerScan, NotATarIsAFailureNamingTheLayer) {
  try {
    scan_tar_stream(chunks_of(std::string(2000, 'z')), "layer sha256:abc of oci:x", 64,
                    [](const LayerEntry&) {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::failure);
    EXPECT_TRUE(std::string(e.what()).starts_with("cannot read layer sha256:abc of oci:x: ")) << e.what();
  }
}

// Images assembled in a layout directory, from probe binaries.
class Verify : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* platform : {"linux/amd64", "linux/arm64", "linux/arm/v7"}) {
      fs::path dir = m_temp.path() / slug(platform);
      fs::create_directories(dir);
      core::write_file_atomic(dir / "app", emulation::probe_elf(arch(platform)));
    }
  }
  static std::string slug(std::string platform) {
    std::replace(platform.begin(), platform.end(), '/', '-');
    return platform;
  }
  // The probe built for `binary`, placed at /app in the image of `platform`.
  build::AssembleInput input(const char* platform, const char* binary) const {
    return {parse_platform(platform), m_temp.path() / slug(binary) / "app"};
  }
  fs::path layout_path() const { return m_temp.path() / "layout"; }
  // Assembles inputs into the layout and returns its index.
  registry::FetchedManifest assemble(std::vector<build::AssembleInput> inputs) {
    LayoutDir layout = LayoutDir::create(layout_path());
    build::AssembleOptions options;
    options.inputs = std::move(inputs);
    build::AssembledImage image = build::assemble(layout, options);
    layout.set_ref(image.index, "1.0", "");
    return {layout.read_blob(image.index.digest), image.index};
  }
  std::vector<PlatformReport> verify(const registry::FetchedManifest& top, VerifyOptions options = {}) {
    auto store = publish::open_layout_store(LayoutRef::parse("oci-dir:" + layout_path().string()), false);
    return verify_image(*store, top, options);
  }
  core::TempDir m_temp;
};

TEST_F(Verify, AGoodImagePasses) {
  auto reports = verify(assemble({input("linux/amd64", "linux/amd64"), input("linux/arm64", "linux/arm64")}));
  ASSERT_EQ(reports.size(), 2u);
  for (const auto& report : reports) {
    EXPECT_TRUE(report.ok()) << report.platform.str() << ": " << report.problems.front();
    EXPECT_EQ(report.elf_files, 1);
    EXPECT_TRUE(report.elf_checked);
  }
  EXPECT_EQ(reports[0].platform.str(), "linux/amd64");
  EXPECT_EQ(reports[1].platform.str(), "linux/arm64");
  EXPECT_EQ(failed_platforms(reports), "");
}

TEST_F(Verify, AnArm64ImageHoldingAnAmd64BinaryFails) {
  auto top = assemble({input("linux/amd64", "linux/amd64"), input("linux/arm64", "linux/amd64")});
  auto reports = verify(top);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_TRUE(reports[0].ok());
  EXPECT_EQ(reports[1].problems, std::vector<std::string>{"/app is an x86-64 ELF (linux/amd64)"});
  EXPECT_EQ(failed_platforms(reports), "linux/arm64");

  VerifyOptions only_amd64{{parse_platform("x86_64")}};
  reports = verify(top, only_amd64);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].ok());
}

TEST_F(Verify, ARealHostBinaryIsCaught) {
  if (host_platform().str() != "linux/amd64" || !fs::exists("/bin/true")) GTEST_SKIP() << "needs an amd64 host";
  fs::create_directories(m_temp.path() / "real");
  fs::copy_file("/bin/true", m_temp.path() / "real" / "app");
  auto reports = verify(assemble({{parse_platform("linux/arm64"), m_temp.path() / "real" / "app"}}));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].problems, std::vector<std::string>{"/app is an x86-64 ELF (linux/amd64)"});
}

TEST_F(Verify, AConfigThatDisagreesWithTheIndexFails) {
  auto top = assemble({input("linux/arm/v7", "linux/arm/v7"), input("linux/arm64", "linux/arm64")});
  Index index = parse_index(top.bytes);
  index.manifests[0].platform = parse_platform("linux/arm/v6");
  std::string bytes = to_bytes(index);
  Descriptor changed = LayoutDir(layout_path()).put_blob(media_type::k_oci_index, bytes);
  auto reports = verify({bytes, changed});
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].platform.str(), "linux/arm/v6");
  EXPECT_EQ(reports[0].problems, std::vector<std::string>{"config platform is linux/arm/v7, not linux/arm/v6"});
  EXPECT_TRUE(reports[1].ok());
}

TEST_F(Verify, AMissingPlatformIsAFailure) {
  auto top = assemble({input("linux/amd64", "linux/amd64"), input("linux/arm64", "linux/arm64")});
  try {
    verify(top, VerifyOptions{{parse_platform("linux/s390x")}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "oci-dir:" + layout_path().string() +
                                         " has no linux/s390x image (it has: linux/amd64, linux/arm64)");
  }
}

TEST_F(Verify, LaterLayersWinAndNonProgramsAreNotCounted) {
  // Layer 1: a wrong /bin/app and a wrong /opt/tool; layer 2 deletes
  // /bin/app, makes /opt opaque and adds a text file and an ELF object file.
  fs::path one = m_temp.path() / "one", two = m_temp.path() / "two";
  fs::create_directories(one / "bin");
  fs::create_directories(one / "opt");
  fs::copy_file(m_temp.path() / "linux-amd64" / "app", one / "bin" / "app");
  fs::copy_file(m_temp.path() / "linux-amd64" / "app", one / "opt" / "tool");
  fs::copy_file(m_temp.path() / "linux-arm64" / "app", one / "bin" / "ok");
  fs::create_directories(two / "bin");
  fs::create_directories(two / "opt");
  core::write_file_atomic(two / "bin" / ".wh.app", "");
  core::write_file_atomic(two / "opt" / ".wh..wh..opq", "");
  core::write_file_atomic(two / "opt" / "readme", "text");
  core::write_file_atomic(two / "opt" / "x.o", elf_head(2, 1, 1, 62));

  LayoutDir layout = LayoutDir::create(layout_path());
  Layer first = write_layer(layout, {{one, "/"}});
  Layer second = write_layer(layout, {{two, "/"}});
  ImageConfig config;
  config.platform = parse_platform("linux/arm64");
  config.diff_ids = {first.diff_id.str(), second.diff_id.str()};
  Manifest manifest;
  manifest.media_type = media_type::k_oci_manifest;
  manifest.config = layout.put_blob(media_type::k_oci_config, to_bytes(config));
  manifest.layers = {first.descriptor, second.descriptor};
  std::string bytes = to_bytes(manifest);
  Descriptor top = layout.put_blob(media_type::k_oci_manifest, bytes);

  auto reports = verify({bytes, top});
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].platform.str(), "linux/arm64");
  EXPECT_TRUE(reports[0].ok()) << reports[0].problems.front();
  EXPECT_EQ(reports[0].elf_files, 1);  // /bin/ok

  manifest.layers = {first.descriptor};
  bytes = to_bytes(manifest);
  reports = verify({bytes, layout.put_blob(media_type::k_oci_manifest, bytes)});
  EXPECT_EQ(reports[0].problems, (std::vector<std::string>{"/bin/app is an x86-64 ELF (linux/amd64)",
                                                            "/opt/tool is an x86-64 ELF (linux/amd64)"}));
  EXPECT_EQ(reports[0].elf_files, 3);
}

core::ProcessResult polyarch(std::vector<std::string> args) {
  args.insert(args.begin(), POLYARCH_BINARY);
  return core::run_process(args);
}

TEST_F(Verify, CommandReportsPerPlatformAndExits1OnAMismatch) {
  assemble({input("linux/amd64", "linux/amd64"), input("linux/arm64", "linux/amd64")});
  std::string source = "oci-dir:" + layout_path().string();
  core::ProcessResult r = polyarch({"manifest", "verify", source});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            "linux/amd64  ok  (1 ELF file)\n"
            "linux/arm64  MISMATCH  /app is an x86-64 ELF (linux/amd64)\n");
  EXPECT_EQ(r.err, "polyarch: error: 1 platform(s) failed verification: linux/arm64\n");

  r = polyarch({"manifest", "verify", source, "--platform", "linux/amd64"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "linux/amd64  ok  (1 ELF file)\n");
  EXPECT_EQ(r.err, "");

  r = polyarch({"--format", "json", "manifest", "verify", source});
  EXPECT_EQ(r.exit_code, 1);
  Json json = Json::parse(r.out);
  EXPECT_EQ(json["ok"], false);
  ASSERT_EQ(json["platforms"].size(), 2u);
  EXPECT_EQ(json["platforms"][1]["platform"], "linux/arm64");
  EXPECT_EQ(json["platforms"][1]["ok"], false);
  EXPECT_EQ(json["platforms"][1]["elfFiles"], 1);
  EXPECT_EQ(json["platforms"][1]["problems"], Json::array({"/app is an x86-64 ELF (linux/amd64)"}));
  EXPECT_EQ(json["platforms"][0]["problems"], Json::array());
}

}  // namespace
}  // namespace polyarch::verify
