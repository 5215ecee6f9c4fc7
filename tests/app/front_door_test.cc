// The front door of the command line: `wpsim --version` build details, `wpsim run --list`, and
// colours that appear only for a person at a terminal.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

#include "app/cli.h"
#include "app/common.h"
#include "app/list.h"
#include "app/version.h"
#include "conformance/suite.h"

namespace wpsim::app {
namespace {

std::string Scenarios() { return std::string(WPSIM_SOURCE_DIR) + "/scenarios"; }

// What PrintScenarioList writes for `paths` with `globs`.
std::string ListText(const std::vector<std::string>& globs) {
  conformance::ScenarioFilter filter;
  filter.globs = globs;
  conformance::Suite suite = conformance::LoadSuite({Scenarios()}, filter);
  EXPECT_TRUE(suite.ok()) << conformance::FormatDiagnostics(suite.diagnostics);
  std::FILE* f = std::tmpfile();
  PrintScenarioList(suite.scenarios, f);
  std::string text(static_cast<size_t>(std::ftell(f)), '\0');
  std::rewind(f);
  EXPECT_EQ(std::fread(text.data(), 1, text.size(), f), text.size());
  std::fclose(f);
  return text;
}

TEST(VersionText, NamesVersionCommitBuildAndTlsLibrary) {
  const std::string text = VersionText();
  EXPECT_EQ(text.rfind(std::string("wpsim ") + WPSIM_VERSION + "\n", 0), 0u) << text;
  EXPECT_TRUE(std::regex_search(text, std::regex("\ncommit   ([0-9a-f]{12}|unknown)"))) << text;
  EXPECT_TRUE(std::regex_search(
      text, std::regex("\nbuild    [A-Za-z]+, (GNU|Clang) [0-9.]+, C\\+\\+20, Linux")))
      << text;
  EXPECT_TRUE(std::regex_search(text, std::regex("\nmbedTLS  2\\.[0-9]+\\.[0-9]+$"))) << text;
}

TEST(VersionText, CommitIsTheSourceTreesHead) {
  const std::string command =
      std::string("git -C ") + WPSIM_SOURCE_DIR + " rev-parse --short=12 HEAD 2>/dev/null";
  std::FILE* p = popen(command.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[64] = {};
  const bool got = std::fgets(buf, sizeof(buf), p) != nullptr;
  pclose(p);
  if (!got) GTEST_SKIP() << "the source tree is not a git checkout";
  std::string head(buf);
  while (!head.empty() && head.back() == '\n') head.pop_back();
  EXPECT_NE(VersionText().find("commit   " + head), std::string::npos) << VersionText();
}

TEST(RunList, ListsEveryScenarioWithTagsAndCaseIds) {
  const std::string text = ListText({});
  EXPECT_NE(text.find("quickstart-000-mqtt-json-interop"), std::string::npos);
  EXPECT_NE(text.find("      tags:  quickstart, seed-000, mqtt, interop\n"), std::string::npos)
      << text;
  EXPECT_TRUE(std::regex_search(text, std::regex("cases: [A-Z0-9]+-[A-Z0-9-]+"))) << text;
  EXPECT_TRUE(std::regex_search(text, std::regex("\n[0-9]+ scenario\\(s\\); "))) << text;
  // Scenarios a real target would skip say why, or which targets they declare.
  EXPECT_NE(text.find("      sim only (service settings)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("      targets: sim\n"), std::string::npos) << text;
}

TEST(RunList, OneScenarioShowsItsClientsStepsAndChecks) {
  const std::string text = ListText({"quickstart-000-mqtt-json-interop"});
  EXPECT_EQ(text.rfind("quickstart-000-mqtt-json-interop  (", 0), 0u) << text;
  EXPECT_NE(text.find("source:  seed 000, Publish a message to a group\n"), std::string::npos);
  EXPECT_NE(text.find("  mqtt: mqtt5"), std::string::npos) << text;
  EXPECT_NE(text.find("  line 30: connect mqtt, old, web\n"), std::string::npos) << text;
  EXPECT_NE(text.find(": publish mqtt  (as: raw_bytes)"), std::string::npos) << text;
  EXPECT_NE(text.find(": expect receive  [MQTT-INTEROP-001]\n"), std::string::npos) << text;
  EXPECT_NE(text.find(": invariant no_duplicates\n"), std::string::npos) << text;
}

TEST(RunList, CommandExitsZeroAndAnEmptySelectionIsAUsageError) {
  EXPECT_EQ(RunCli({"wpsim", "run", "--list", Scenarios()}), kExitOk);
  EXPECT_EQ(RunCli({"wpsim", "run", "--list", Scenarios(), "--filter", "no-such-scenario-*"}),
            kExitUsage);
  // --filter takes one value per use: the path after it is a path, not a second glob.
  EXPECT_EQ(RunCli({"wpsim", "run", "--list", "--filter", "quickstart-000-*", Scenarios()}),
            kExitOk);
}

TEST(Colour, NeverWithNoColorOrOffATerminal) {
  EXPECT_EQ(Paint(Colour::kRed, "FAIL", false), "FAIL");
  EXPECT_EQ(Paint(Colour::kGreen, "PASS", true), "\033[32mPASS\033[0m");
  const int fd = open("/dev/null", O_WRONLY);
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(ColourEnabled(fd));
  close(fd);
}

}  // namespace
}  // namespace wpsim::app

// Reports are CI artifacts: the command line they record must not carry the access key.
TEST(ReportCommandLine, AccessKeysAreRedactedInEveryForm) {
  const std::vector<std::string> argv = {
      "wpsim", "run", "--target", "remote", "--connection-string",
      "Endpoint=https://x.webpubsub.azure.com;AccessKey=c2VjcmV0K2tleS8=;Version=1.0;", "scenarios"};
  const std::vector<std::string> out = wpsim::app::RedactSecrets(argv);
  ASSERT_EQ(out.size(), argv.size());
  EXPECT_EQ(out[5], "Endpoint=https://x.webpubsub.azure.com;AccessKey=***;Version=1.0;");
  EXPECT_EQ(out[6], "scenarios");

  EXPECT_EQ(wpsim::app::RedactSecrets({"wpsim", "bench", "--connection-string=endpoint=http://h;accesskey=abc"})[2],
            "--connection-string=endpoint=http://h;accesskey=***");
  EXPECT_EQ(wpsim::app::RedactSecrets({"wpsim-load", "--access-key", "abc", "-c", "5"}),
            (std::vector<std::string>{"wpsim-load", "--access-key", "***", "-c", "5"}));
  EXPECT_EQ(wpsim::app::RedactSecrets({"x", "--access-key=abc"})[1], "--access-key=***");
  // Other arguments, and a flag with no value at the end, are left as they are.
  EXPECT_EQ(wpsim::app::RedactSecrets({"wpsim", "run", "--connection-string"}),
            (std::vector<std::string>{"wpsim", "run", "--connection-string"}));
}
