#include "engine/build/docker_backend.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "engine/build/backend.hpp"
#include "engine/build/docker_archive.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/image/config.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::build {
namespace {

using Args = std::vector<std::string>;
namespace fs = std::filesystem;

const image::Platform k_arm64{"linux", "arm64", "", "", {}};

// The entries of a tar (optionally gzip'd) file: name -> content ("-> target" for links).
std::map<std::string, std::string> read_tar(const fs::path& path) {
  std::map<std::string, std::string> entries;
  archive* in = archive_read_new();
  archive_read_support_format_tar(in);
  archive_read_support_filter_all(in);
  EXPECT_EQ(archive_read_open_filename(in, path.c_str(), 1 << 16), ARCHIVE_OK);
  archive_entry* entry = nullptr;
  while (archive_read_next_header(in, &entry) == ARCHIVE_OK) {
    std::string content(static_cast<size_t>(archive_entry_size(entry)), '\0');
    if (!content.empty()) archive_read_data(in, content.data(), content.size());
    if (archive_entry_symlink(entry)) content = std::string("-> ") + archive_entry_symlink(entry);
    entries[archive_entry_pathname(entry)] = content;
  }
  archive_read_free(in);
  return entries;
}

// Writes a tar of (name, content) files; a content "-> T" makes a symlink to T.
void write_tar(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& files) {
  archive* out = archive_write_new();
  archive_write_set_format_pax_restricted(out);
  archive_write_open_filename(out, path.c_str());
  for (const auto& [name, content] : files) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name.c_str());
    if (content.starts_with("-> ")) {
      archive_entry_set_filetype(entry, AE_IFLNK);
      archive_entry_set_symlink(entry, content.substr(3).c_str());
      archive_entry_set_perm(entry, 0777);
      archive_write_header(out, entry);
    } else {
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_perm(entry, 0644);
      archive_entry_set_size(entry, static_cast<la_int64_t>(content.size()));
      archive_write_header(out, entry);
      archive_write_data(out, content.data(), content.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(out);
  archive_write_free(out);
}

TEST(DockerArgvTest, OnePlatformWithEverything) {
  BuildOptions options;
  options.context = "ctx";
  options.target = "final";
  options.build_args = {{"V", "1"}};
  options.labels = {{"a.b", "c"}};
  DockerBuild build{options, image::Platform{"linux", "arm", "v7", "", {}},
                    {"--build-arg", "BUILDKIT_INLINE_CACHE=1"}, {"id=tok,src=/w/secret-0"},
                    "polyarch-tmp-0123", "host"};
  EXPECT_EQ(docker_build_argv(build, "/usr/bin/docker"),
            (Args{"/usr/bin/docker", "build", "--progress", "plain", "--platform", "linux/arm/v7",
                  "-f", "ctx/Dockerfile", "--target", "final", "--network", "host",
                  "--build-arg", "V=1", "--label", "a.b=c", "--build-arg", "BUILDKIT_INLINE_CACHE=1",
                  "--secret", "id=tok,src=/w/secret-0", "-t", "polyarch-tmp-0123", "ctx"}));
  options.file = "other/Dockerfile";
  options.target.clear();
  build.network.clear();
  build.cache_args.clear();
  build.secrets.clear();
  EXPECT_EQ(docker_build_argv(build),
            (Args{"docker", "build", "--progress", "plain", "--platform", "linux/arm/v7", "-f",
                  "other/Dockerfile", "--build-arg", "V=1", "--label", "a.b=c", "-t", "polyarch-tmp-0123", "ctx"}));
}

TEST(DockerSecretsTest, EnvSecretsGoIntoPrivateFiles) {
  core::TempDir dir("secrets-test");
  Args out = secret_files({"id=a,src=/run/a", "id=b,env=TOKEN"}, dir.path() / "s", {{"TOKEN", "hunter2"}});
  std::string file = (dir.path() / "s" / "secret-1").string();
  EXPECT_EQ(out, (Args{"id=a,src=/run/a", "id=b,src=" + file}));
  EXPECT_EQ(core::read_file(file), "hunter2");
  struct stat info{};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto error = [&dir](const std::string& secret) -> std::string {
    try {
      secret_files({secret}, dir.path() / "s", {});
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error("id=b,env=NOPE"), "invalid secret \"id=b,env=NOPE\": environment variable NOPE is not set");
  EXPECT_EQ(error("src=/x"), "invalid secret \"src=/x\": expected id=NAME,src=FILE or id=NAME,env=VAR");
  EXPECT_EQ(error("id=a,src=/x,env=Y"), "invalid secret \"id=a,src=/x,env=Y\": expected id=NAME,src=FILE or id=NAME,env=VAR");
  EXPECT_EQ(error("id=a,file=/x"), "invalid secret \"id=a,file=/x\": unknown key \"file\" (id, src, env)");
}

TEST(DockerAnnotationsTest, ManifestOnesOnlyPerPlatform) {
  BuildOptions options;
  options.annotations = {{"plain", "1"}, {"manifest:m", "2"}, {"manifest[linux/arm64]:p", "3"},
                         {"manifest[linux/amd64]:q", "4"}, {"index:i", "5"}, {"manifest-descriptor:d", "6"}};
  EXPECT_EQ(manifest_annotations(options, k_arm64),
            (std::map<std::string, std::string>{{"m", "2"}, {"p", "3"}, {"plain", "1"}}));
}

// A docker-archive as `docker save` writes it, with a repeated layer saved as a symlink.
struct FakeDockerSave {
  core::TempDir dir{"docker-archive-test"};
  std::string layer = "layer tar bytes";
  std::string config;
  fs::path archive = dir.path() / "saved.tar";

  explicit FakeDockerSave(const std::string& diff_id = "") {
    std::string id = diff_id.empty() ? image::sha256(layer).str() : diff_id;
    config = R"({"architecture":"arm","os":"linux","rootfs":{"type":"layers","diff_ids":[")" + id +
             R"(",")" + image::sha256(layer).str() + R"("]}})";
    std::string config_name = image::sha256(config).hex + ".json";
    write_tar(archive, {{"aaa/layer.tar", layer},
                        {"bbb/layer.tar", "-> ../aaa/layer.tar"},
                        {config_name, config},
                        {"manifest.json", R"([{"Config":")" + config_name +
                                              R"(","RepoTags":["x:latest"],"Layers":["aaa/layer.tar","bbb/layer.tar"]}])"}});
  }
};

TEST(DockerArchiveTest, KeepsTheConfigAndGzipsEachLayer) {
  FakeDockerSave saved;
  image::LayoutDir into = image::LayoutDir::create(saved.dir.path() / "oci");
  ArchiveImage result = import_docker_archive(saved.archive, into, {{"k", "v"}});
  EXPECT_EQ(result.manifest.media_type, image::media_type::k_oci_manifest);
  EXPECT_EQ(result.config_platform.architecture, "arm");
  EXPECT_EQ(result.config_platform.variant, "");
  image::Manifest manifest = image::parse_manifest(into.read_blob(result.manifest.digest));
  EXPECT_EQ(manifest.config.media_type, image::media_type::k_oci_config);
  EXPECT_EQ(into.read_blob(manifest.config.digest), saved.config);
  ASSERT_EQ(manifest.layers.size(), 2u);
  EXPECT_EQ(manifest.layers[0], manifest.layers[1]);
  EXPECT_EQ(manifest.layers[0].media_type, image::media_type::k_oci_layer_gzip);
  EXPECT_EQ(manifest.annotations, (image::Annotations{{"k", "v"}}));
  // gzip of the same bytes, mtime 0 and no name: the digest never changes.
  image::LayoutDir again = image::LayoutDir::create(saved.dir.path() / "oci2");
  EXPECT_EQ(import_docker_archive(saved.archive, again, {{"k", "v"}}).manifest.digest, result.manifest.digest);
}

TEST(DockerArchiveTest, RefusesALayerThatDoesNotMatchTheConfig) {
  std::string wrong = "sha256:" + std::string(64, 'a');
  FakeDockerSave saved(wrong);
  image::LayoutDir into = image::LayoutDir::create(saved.dir.path() / "oci");
  try {
    import_docker_archive(saved.archive, into);
    FAIL() << "mismatch accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "docker archive " + quoted(saved.archive.string()) +
                                         " has layer aaa/layer.tar with diff_id " + image::sha256(saved.layer).str() +
                                         " but its config says " + wrong);
  }
}

// A Docker engine of the test's own, on a unix socket in a temp dir.
class Dockerd {
 public:
  explicit Dockerd(const fs::path& dir) : m_socket(dir / "docker.sock") {
    fs::create_directories(dir / "data");
    m_pid = fork();
    if (m_pid == 0) {
      setsid();
      std::string log = (dir / "dockerd.log").string();
      freopen(log.c_str(), "w", stdout);
      freopen(log.c_str(), "a", stderr);
      std::string data = (dir / "data").string(), exec = (dir / "exec").string(),
                  pid = (dir / "dockerd.pid").string(), host = "unix://" + m_socket.string();
      execlp("dockerd", "dockerd", "--data-root", data.c_str(), "--exec-root", exec.c_str(), "--pidfile",
             pid.c_str(), "-H", host.c_str(), "--bridge=none", "--iptables=false", static_cast<char*>(nullptr));
      _exit(127);
    }
    core::ProcessOptions options;
    options.env = core::process_env();
    (*options.env)["DOCKER_HOST"] = host();
    for (int tries = 0; tries < 100 && !m_ready; ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
        m_pid = -1;
        return;
      }
      m_ready = core::run_process({docker_client(), "version"}, options).exit_code == 0;
    }
  }
  ~Dockerd() {
    if (m_pid <= 0) return;
    kill(m_pid, SIGTERM);
    for (int tries = 0; tries < 150 && waitpid(m_pid, nullptr, WNOHANG) == 0; ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (kill(m_pid, 0) == 0) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, nullptr, 0);
    }
  }
  bool ready() const { return m_ready; }
  std::string host() const { return "unix://" + m_socket.string(); }

 private:
  fs::path m_socket;
  pid_t m_pid = -1;
  bool m_ready = false;
};

bool have(const std::string& tool) {
  return core::run_process({"sh", "-c", "command -v " + tool}).exit_code == 0;
}

TEST(DockerBackendTest, BuildsArm64WithARunStepUnderQemu) {
  if (geteuid() != 0 || !have("dockerd") || !have("aarch64-linux-gnu-gcc") ||
      !fs::exists("/proc/sys/fs/binfmt_misc/qemu-aarch64")) {
    GTEST_SKIP() << "needs root, dockerd, aarch64-linux-gnu-gcc and a qemu-aarch64 binfmt handler";
  }
  core::TempDir dir("docker-backend-test");
  Dockerd dockerd(dir.path() / "engine");
  if (!dockerd.ready()) GTEST_SKIP() << "dockerd did not start (see its log)";

  fs::path context = dir.path() / "ctx";
  fs::create_directories(context);
  core::write_file_atomic(context / "helper.c",
                          "#include <stdio.h>\n#include <sys/utsname.h>\nint main(void) {\n"
                          "  struct utsname u; uname(&u);\n  FILE* f = fopen(\"/ran.txt\", \"w\");\n"
                          "  if (!f) return 1;\n  fprintf(f, \"RUN ran on %s\\n\", u.machine);\n"
                          "  return fclose(f) != 0;\n}\n");
  ASSERT_EQ(core::run_process({"aarch64-linux-gnu-gcc", "-static", "-O2", "-o", (context / "helper-arm64").string(),
                               (context / "helper.c").string()}).exit_code, 0);
  core::write_file_atomic(context / "Dockerfile",
                          "FROM scratch\nARG TARGETARCH\nCOPY helper-${TARGETARCH} /helper\nRUN [\"/helper\"]\n");

  const char* old_host = getenv("DOCKER_HOST");
  std::string saved_host = old_host ? old_host : "";
  setenv("DOCKER_HOST", dockerd.host().c_str(), 1);
  BuildOptions options;
  options.context = context.string();
  options.platforms = {k_arm64};
  options.labels = {{"test.label", "yes"}};
  fs::create_directories(dir.path() / "work");
  image::LayoutDir into = image::LayoutDir::create(dir.path() / "oci");
  std::vector<std::string> log;
  std::vector<std::string> builder_done;  // the build slot is freed after the build, before `docker save`
  BuildRequest request{options, k_arm64, {}, dir.path() / "work"};
  request.builder_done = [&] {
    bool saved = fs::exists(dir.path() / "work" / "image.docker.tar");
    builder_done.push_back(!log.empty() && !saved ? "built, not yet saved" : "built, saved " + std::to_string(saved));
  };
  PlatformResult result = make_docker_backend()->build(request, into,
                                                       [&log](const std::string& line) { log.push_back(line); });
  std::string images = core::run_process({docker_client(), "images", "-q"}).out;
  if (old_host) setenv("DOCKER_HOST", saved_host.c_str(), 1); else unsetenv("DOCKER_HOST");

  EXPECT_EQ(result.platform, k_arm64);
  EXPECT_EQ(result.manifest.platform, k_arm64);
  EXPECT_EQ(builder_done, std::vector<std::string>{"built, not yet saved"});
  EXPECT_EQ(images, "") << "the temporary image was not removed";
  image::Manifest manifest = image::parse_manifest(into.read_blob(result.manifest.digest));
  image::ImageConfig config = image::parse_image_config(into.read_blob(manifest.config.digest));
  EXPECT_EQ(config.platform.architecture, "arm64");
  EXPECT_EQ(config.config.labels.at("test.label"), "yes");
  ASSERT_EQ(manifest.layers.size(), 2u);
  auto last = read_tar(into.blob_path(manifest.layers[1].digest));
  EXPECT_EQ(last["ran.txt"], "RUN ran on aarch64\n");
  EXPECT_NE(std::find(log.begin(), log.end(), "the Docker engine has no bridge network; building with --network host"),
            log.end());
}

}  // namespace
}  // namespace polyarch::build
