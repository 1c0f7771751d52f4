// NewDataDir: a fresh, empty folder for a test server's history store, under the test's own
// temporary folder, so that servers never share a database by accident.
//
// Thread contract: safe from any thread (mkdtemp picks a unique name).
#ifndef ROOMCHAT_TESTS_DATA_DIR_H_
#define ROOMCHAT_TESTS_DATA_DIR_H_

#include <stdlib.h>

#include <string>

#include "gtest/gtest.h"

namespace roomchat {

inline std::string NewDataDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string path = std::string(base != nullptr ? base : "/tmp") + "/history-XXXXXX";
  EXPECT_NE(mkdtemp(path.data()), nullptr) << path;
  return path;
}

inline std::string DataDirFlag() { return "--data_dir=" + NewDataDir(); }

}  // namespace roomchat

#endif  // ROOMCHAT_TESTS_DATA_DIR_H_
