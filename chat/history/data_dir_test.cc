#include "chat/history/data_dir.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

std::string TempPath(absl::string_view name) {
  return absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
}

TEST(DataDirTest, MakesEveryMissingComponentPrivate) {
  std::string dir = TempPath("a/b//c");
  ASSERT_TRUE(MakeDataDir(dir).ok());
  struct stat info;
  ASSERT_EQ(stat(dir.c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0700);
  EXPECT_TRUE(MakeDataDir(dir).ok()) << "an existing directory is fine";
}

TEST(DataDirTest, AFileInTheWayFailsAndNamesIt) {
  std::string file = TempPath("plain-file");
  std::ofstream(file) << "not a directory";
  absl::Status made = MakeDataDir(file);
  EXPECT_TRUE(absl::IsFailedPrecondition(made)) << made;
  EXPECT_TRUE(absl::StrContains(made.message(), file)) << made;
  EXPECT_TRUE(absl::StrContains(made.message(), "not a directory")) << made;
  EXPECT_FALSE(MakeDataDir(file + "/below").ok());
}

TEST(DataDirTest, TheLockIsHeldUntilItsDescriptorCloses) {
  std::string dir = TempPath("locked");
  ASSERT_TRUE(MakeDataDir(dir).ok());
  absl::StatusOr<int> first = LockDataDir(dir);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<int> second = LockDataDir(dir);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), "in use by another roomchat server"));
  close(*first);
  absl::StatusOr<int> third = LockDataDir(dir);
  ASSERT_TRUE(third.ok()) << third.status();
  close(*third);
}

TEST(DataDirTest, LockingAMissingDirectoryFails) {
  EXPECT_FALSE(LockDataDir(TempPath("missing")).ok());
  EXPECT_FALSE(LockDataDir("").ok());
}

}  // namespace
}  // namespace roomchat
