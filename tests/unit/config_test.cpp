#include "engine/image/config.hpp"

#include <string>

#include <gtest/gtest.h>

#include "engine/core/error.hpp"

namespace polyarch::image {
namespace {

// A platform with the given fields and nothing else.
Platform platform(std::string os, std::string architecture, std::string variant = "") {
  Platform p;
  p.os = std::move(os);
  p.architecture = std::move(architecture);
  p.variant = std::move(variant);
  return p;
}

std::string fake_diff_id(char c) { return "sha256:" + std::string(64, c); }

// An image config using every field we model, plus ExposedPorts and an
// unknown top-level field.
ImageConfig full_config() {
  ImageConfig config;
  config.created = "1970-01-01T00:00:00Z";
  config.author = "someone";
  config.platform = platform("linux", "arm", "v7");
  config.config.user = "1000:1000";
  config.config.env = {"PATH=/usr/bin:/bin", "A=b=c"};
  config.config.entrypoint = {"/bin/app", "--flag"};
  config.config.cmd = {"serve"};
  config.config.working_dir = "/srv";
  config.config.labels = {{"org.opencontainers.image.title", "app"}, {"a", "1"}};
  config.config.stop_signal = "SIGTERM";
  config.config.extra = Json{{"ExposedPorts", Json{{"8080/tcp", Json::object()}}}};
  config.diff_ids = {fake_diff_id('1'), fake_diff_id('2')};
  HistoryEntry copy;
  copy.created = "1970-01-01T00:00:00Z";
  copy.created_by = "COPY . /srv";
  HistoryEntry env;
  env.created_by = "ENV A=b";
  env.comment = "polyarch";
  env.empty_layer = true;
  config.history = {copy, env};
  config.extra = Json{{"x-builder", "polyarch"}};
  return config;
}

const std::string k_full_config_bytes =
    R"({"created":"1970-01-01T00:00:00Z","author":"someone",)"
    R"("architecture":"arm","os":"linux","variant":"v7",)"
    R"("config":{"User":"1000:1000","Env":["PATH=/usr/bin:/bin","A=b=c"],)"
    R"("Entrypoint":["/bin/app","--flag"],"Cmd":["serve"],"WorkingDir":"/srv",)"
    R"("Labels":{"a":"1","org.opencontainers.image.title":"app"},"StopSignal":"SIGTERM",)"
    R"("ExposedPorts":{"8080/tcp":{}}},)"
    R"("rootfs":{"type":"layers","diff_ids":[")" + fake_diff_id('1') + R"(",")" +
    fake_diff_id('2') + R"("]},)"
    R"("history":[{"created":"1970-01-01T00:00:00Z","created_by":"COPY . /srv"},)"
    R"({"created_by":"ENV A=b","comment":"polyarch","empty_layer":true}],)"
    R"("x-builder":"polyarch"})";

// The message of the failure that parsing bytes as an image config throws.
std::string config_error(const std::string& bytes) {
  try {
    parse_image_config(bytes);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::failure);
    return e.what();
  }
  ADD_FAILURE() << "no error for " << bytes;
  return "";
}

TEST(ImageConfigJson, FullConfigHasFixedBytesAndRoundTrips) {
  ImageConfig config = full_config();
  std::string bytes = to_bytes(config);
  EXPECT_EQ(bytes, k_full_config_bytes);
  ImageConfig parsed = parse_image_config(bytes);
  EXPECT_EQ(parsed, config);
  EXPECT_EQ(parsed.platform.str(), "linux/arm/v7");
  EXPECT_EQ(parsed.config.extra.dump(), R"({"ExposedPorts":{"8080/tcp":{}}})");
  ASSERT_EQ(parsed.history.size(), 2u);
  EXPECT_FALSE(parsed.history[0].empty_layer);
  EXPECT_TRUE(parsed.history[1].empty_layer);
  EXPECT_EQ(to_bytes(parsed), bytes);
}

TEST(ImageConfigJson, MinimalConfigWritesEmptyConfigAndRootfs) {
  ImageConfig config;
  config.platform = platform("linux", "amd64");
  std::string bytes = to_bytes(config);
  EXPECT_EQ(bytes, R"({"architecture":"amd64","os":"linux","config":{},)"
                   R"("rootfs":{"type":"layers","diff_ids":[]}})");
  EXPECT_EQ(parse_image_config(bytes), config);
}

TEST(ImageConfigJson, ForeignConfigKeepsUnknownRuntimeFields) {
  std::string foreign = R"({"os":"linux","architecture":"arm64","variant":"v8",
    "config":{"Cmd":["sh"],"Volumes":{"/data":{}},"ExposedPorts":{"53/udp":{}}},
    "rootfs":{"type":"layers","diff_ids":[")" + fake_diff_id('3') + R"("]},
    "docker_version":"24.0"})";
  ImageConfig config = parse_image_config(foreign);
  EXPECT_EQ(config.platform.variant, "v8");
  EXPECT_EQ(config.config.cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(config.config.extra.dump(), R"({"Volumes":{"/data":{}},"ExposedPorts":{"53/udp":{}}})");
  EXPECT_EQ(config.diff_ids, std::vector<std::string>{fake_diff_id('3')});
  EXPECT_EQ(config.extra.dump(), R"({"docker_version":"24.0"})");
  EXPECT_EQ(to_bytes(config),
            R"({"architecture":"arm64","os":"linux","variant":"v8",)"
            R"("config":{"Cmd":["sh"],"Volumes":{"/data":{}},"ExposedPorts":{"53/udp":{}}},)"
            R"("rootfs":{"type":"layers","diff_ids":[")" + fake_diff_id('3') + R"("]},)"
            R"("docker_version":"24.0"})");
}

TEST(ImageConfigParse, RejectsBadConfigsWithExactMessages) {
  EXPECT_EQ(config_error(R"({"architecture":"amd64","os":"linux"})"),
            "invalid image config: \"rootfs\" must be an object");
  EXPECT_EQ(config_error(R"({"os":"linux","rootfs":[]})"),
            "invalid image config: \"rootfs\" must be an object");
  EXPECT_EQ(config_error("[]"), "invalid image config: not a JSON object");
  EXPECT_EQ(config_error(R"({"rootfs":{"diff_ids":[1]}})"),
            "invalid image config: \"diff_ids\" must be an array of strings");
  EXPECT_EQ(config_error(R"({"rootfs":{},"config":{"Env":"A=1"}})"),
            "invalid image config: \"Env\" must be an array of strings");
  EXPECT_EQ(config_error(R"({"rootfs":{},"config":{"Labels":{"a":true}}})"),
            "invalid image config: \"Labels\" must be an object of strings");
  EXPECT_EQ(config_error(R"({"rootfs":{},"history":{}})"),
            "invalid image config: \"history\" must be an array");
  EXPECT_EQ(config_error(R"({"rootfs":{},"architecture":64})"),
            "invalid image config: \"architecture\" must be a string");
  try {
    parse_image_config("{", "config of app:1");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("invalid JSON in config of app:1: ")) << e.what();
  }
}

}  // namespace
}  // namespace polyarch::image
