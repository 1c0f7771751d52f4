#include "chat/net/tls.h"

#include <stdlib.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

// A self-signed pair made by the openssl command (as tools/make_cert.sh does) in `dir`.
void MakeCert(const std::string& dir, const std::string& name) {
  std::string command = absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout ",
      dir, "/", name, ".key -out ", dir, "/", name, ".pem -subj /CN=localhost 2>/dev/null");
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = getenv("TEST_TMPDIR");
    MakeCert(dir_, "a");
    MakeCert(dir_, "b");
  }
  std::string Path(const std::string& file) { return absl::StrCat(dir_, "/", file); }
  std::string dir_;
};

TEST_F(TlsContextTest, LoadsAPairAndMakesServerSessions) {
  absl::StatusOr<std::unique_ptr<TlsContext>> context = TlsContext::Load(Path("a.pem"), Path("a.key"));
  ASSERT_TRUE(context.ok()) << context.status();
  absl::StatusOr<SSL*> ssl = (*context)->NewSsl(-1);
  ASSERT_TRUE(ssl.ok()) << ssl.status();
  TlsTransport transport(UniqueFd(), *ssl);  // frees the SSL
}

TEST_F(TlsContextTest, ErrorsNameTheFileAndTheReason) {
  absl::StatusOr<std::unique_ptr<TlsContext>> missing =
      TlsContext::Load(Path("nothing.pem"), Path("a.key"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::StrContains(missing.status().message(), Path("nothing.pem")))
      << missing.status();
  absl::StatusOr<std::unique_ptr<TlsContext>> mismatched =
      TlsContext::Load(Path("a.pem"), Path("b.key"));
  ASSERT_FALSE(mismatched.ok());
  EXPECT_TRUE(absl::StrContains(mismatched.status().message(), "does not match") ||
              absl::StrContains(mismatched.status().message(), "key values mismatch"))
      << mismatched.status();
}

TEST_F(TlsContextTest, AFailedReloadKeepsTheOldPair) {
  std::string cert = Path("live.pem"), key = Path("live.key");
  std::rename(Path("a.pem").c_str(), cert.c_str());
  std::rename(Path("a.key").c_str(), key.c_str());
  absl::StatusOr<std::unique_ptr<TlsContext>> context = TlsContext::Load(cert, key);
  ASSERT_TRUE(context.ok()) << context.status();
  std::ofstream(cert) << "not a certificate\n";
  absl::Status reloaded = (*context)->Reload();
  EXPECT_FALSE(reloaded.ok());
  absl::StatusOr<SSL*> ssl = (*context)->NewSsl(-1);
  ASSERT_TRUE(ssl.ok()) << "still serving with the old pair: " << ssl.status();
  TlsTransport transport(UniqueFd(), *ssl);
}

}  // namespace
}  // namespace roomchat
