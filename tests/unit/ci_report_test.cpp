// The build report (`build --summary FILE`, GitHub's step summary).
#include <gtest/gtest.h>

#include "adapters/ci/outputs.hpp"

namespace polyarch::ci {
namespace {

TEST(BuildReport, TableAndGanttOfATimedBuild) {
  BuildResult result{"sha256:aaaa", {"r.example/app:1", "r.example/app:latest"}, {}};
  result.platforms.push_back({"linux/amd64", "sha256:bbbb", 480, 1536, "native", 0.0, 4.25});
  result.platforms.push_back({"linux/arm64", "sha256:cccc", 480, 12 * 1024 * 1024 + 1, "emulated", 0.01, 125.4});
  result.platforms.push_back({"linux/arm/v7", "sha256:dddd", 480, 900, "cross", 4.3, 9.0});
  EXPECT_EQ(build_report(result),
            "### polyarch build\n\nIndex `sha256:aaaa` tagged `r.example/app:1`, `r.example/app:latest`.\n\n"
            "| platform | digest | size | build time | built |\n| --- | --- | --: | --: | --- |\n"
            "| linux/amd64 | `sha256:bbbb` | 1.5 KiB | 4.2 s | native |\n"
            "| linux/arm64 | `sha256:cccc` | 12.0 MiB | 2 min 05 s | emulated |\n"
            "| linux/arm/v7 | `sha256:dddd` | 900 B | 4.7 s | cross |\n"
            "\n```mermaid\ngantt\n  title Build timeline (seconds)\n  dateFormat x\n  axisFormat %s\n"
            "  section linux/amd64\n  native 4.2 s : 0, 4250\n"
            "  section linux/arm64\n  emulated 2 min 05 s : 10, 125400\n"
            "  section linux/arm/v7\n  cross 4.7 s : 4300, 9000\n```\n");
}

TEST(BuildReport, NoTimesNoChartAndPipesEscaped) {
  BuildResult result{"sha256:aaaa", {}, {{"linux/a|b", "sha256:bbbb", 480}}};
  EXPECT_EQ(build_report(result),
            "### polyarch build\n\nIndex `sha256:aaaa`.\n\n"
            "| platform | digest | size | build time | built |\n| --- | --- | --: | --: | --- |\n"
            "| linux/a\\|b | `sha256:bbbb` |  |  |  |\n");
}

TEST(BuildReport, IsTheStepSummaryOfBuildOutputs) {
  BuildResult result{"sha256:aaaa", {"r.example/app:1"}, {{"linux/amd64", "sha256:bbbb", 480, 10, "native", 0, 1}}};
  EXPECT_EQ(build_outputs(result).summary, build_report(result));
}

}  // namespace
}  // namespace polyarch::ci
