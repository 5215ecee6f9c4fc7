#include <gtest/gtest.h>

#include "app/cli.h"

namespace wpsim::app {
namespace {

TEST(Cli, VersionFlagExitsZero) { EXPECT_EQ(RunCli({"wpsim", "--version"}), kExitOk); }

TEST(Cli, UnknownFlagIsAUsageError) {
  EXPECT_EQ(RunCli({"wpsim", "--no-such-flag"}), kExitUsage);
}

TEST(Cli, MissingSubcommandIsAUsageError) { EXPECT_EQ(RunCli({"wpsim"}), kExitUsage); }

}  // namespace
}  // namespace wpsim::app
