#include "chat/web/http_routes.h"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

HttpRequest Get(std::string target, absl::flat_hash_map<std::string, std::string> headers = {}) {
  HttpRequest request;
  request.method = "GET";
  request.target = std::move(target);
  request.headers = std::move(headers);
  request.keep_alive = true;
  return request;
}

absl::flat_hash_map<std::string, std::string> Upgrade(std::string origin = "") {
  absl::flat_hash_map<std::string, std::string> headers = {
      {"host", "chat.test:8080"},
      {"upgrade", "websocket"},
      {"connection", "keep-alive, Upgrade"},
      {"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="},
      {"sec-websocket-version", "13"}};
  if (!origin.empty()) headers["origin"] = origin;
  return headers;
}

class HttpRoutesTest : public ::testing::Test {
 protected:
  std::atomic<bool> accepting_{true};
  HttpRoutes routes_{WebOptions{}, &accepting_, [] { return std::string("roomchat_rooms 3\n"); }};
};

TEST(WebSocketAcceptTest, IsRfc6455sExample) {
  EXPECT_EQ(WebSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_F(HttpRoutesTest, UpgradesAWebSocketFromTheServersOwnOriginOrNoOrigin) {
  for (std::string origin : {"", "http://chat.test:8080", "https://chat.test:8080"}) {
    RouteResult result = routes_.Route(Get("/ws", Upgrade(origin)));
    EXPECT_EQ(result.status, 101) << origin;
    EXPECT_TRUE(result.upgrade);
    EXPECT_TRUE(absl::StrContains(result.response,
                                  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    EXPECT_TRUE(absl::EndsWith(result.response, "\r\n\r\n"));
  }
}

TEST_F(HttpRoutesTest, AnotherSitesOriginIs403AndOnlyListedOriginsPassWhenGiven) {
  RouteResult result = routes_.Route(Get("/ws", Upgrade("https://evil.example")));
  EXPECT_EQ(result.status, 403);
  EXPECT_FALSE(result.upgrade);
  EXPECT_TRUE(result.close);
  HttpRoutes listed(WebOptions{"", {"https://chat.example.org"}}, &accepting_, [] { return ""; });
  EXPECT_EQ(listed.Route(Get("/ws", Upgrade("https://chat.example.org"))).status, 101);
  EXPECT_EQ(listed.Route(Get("/ws", Upgrade("http://chat.test:8080"))).status, 403);
}

TEST_F(HttpRoutesTest, OnTheHttpsPortTheOwnOriginIsHttpsOnly) {
  WebOptions tls;
  tls.tls = true;
  HttpRoutes https(tls, &accepting_, [] { return ""; });
  for (std::string origin : {"", "https://chat.test:8080"}) {
    EXPECT_EQ(https.Route(Get("/ws", Upgrade(origin))).status, 101) << origin;
  }
  // A page over plain http could come from anyone on the path, not from this TLS port.
  EXPECT_EQ(https.Route(Get("/ws", Upgrade("http://chat.test:8080"))).status, 403);
  EXPECT_EQ(https.Route(Get("/ws", Upgrade("https://evil.example"))).status, 403);
}

TEST_F(HttpRoutesTest, MalformedHandshakesAre400And426) {
  auto no_key = Upgrade();
  no_key.erase("sec-websocket-key");
  EXPECT_EQ(routes_.Route(Get("/ws", no_key)).status, 400);
  EXPECT_EQ(routes_.Route(Get("/ws")).status, 400);
  auto short_key = Upgrade();
  short_key["sec-websocket-key"] = "abc";  // not 16 bytes in base64
  EXPECT_EQ(routes_.Route(Get("/ws", short_key)).status, 400);
  auto old = Upgrade();
  old["sec-websocket-version"] = "8";
  RouteResult result = routes_.Route(Get("/ws", old));
  EXPECT_EQ(result.status, 426);
  EXPECT_TRUE(absl::StrContains(result.response, "Sec-WebSocket-Version: 13"));
}

TEST_F(HttpRoutesTest, HealthzFollowsTheServersState) {
  EXPECT_EQ(routes_.Route(Get("/healthz")).status, 200);
  accepting_ = false;
  RouteResult result = routes_.Route(Get("/healthz"));
  EXPECT_EQ(result.status, 503);
  EXPECT_TRUE(absl::StrContains(result.response, "Content-Type: text/plain"));
}

TEST_F(HttpRoutesTest, MetricsServesTheRenderedPageAsPrometheusText) {
  RouteResult result = routes_.Route(Get("/metrics"));
  EXPECT_EQ(result.status, 200);
  EXPECT_TRUE(absl::StrContains(result.response, "Content-Type: text/plain; version=0.0.4"));
  EXPECT_TRUE(absl::EndsWith(result.response, "\r\n\r\nroomchat_rooms 3\n"));
}

TEST_F(HttpRoutesTest, UnknownPathsAre404AndOtherMethods405) {
  RouteResult missing = routes_.Route(Get("/nothing-here"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(absl::StartsWith(missing.response, "HTTP/1.1 404 Not Found\r\n"));
  HttpRequest post = Get("/");
  post.method = "POST";
  RouteResult refused = routes_.Route(post);
  EXPECT_EQ(refused.status, 405);
  EXPECT_TRUE(absl::StrContains(refused.response, "Allow: GET, HEAD\r\n"));
}

TEST_F(HttpRoutesTest, AWebRootServesItsFilesWithTypesAndNothingOutsideIt) {
  char dir[] = "/tmp/webrootXXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::ofstream(std::string(dir) + "/index.html") << "<p>hi</p>";
  std::ofstream(std::string(dir) + "/app.css") << "p{}";
  HttpRoutes routes(WebOptions{dir, {}}, &accepting_, [] { return ""; });
  RouteResult index = routes.Route(Get("/"));
  EXPECT_EQ(index.status, 200);
  EXPECT_TRUE(absl::StrContains(index.response, "Content-Type: text/html; charset=utf-8"));
  EXPECT_TRUE(absl::StrContains(index.response, "Content-Length: 9\r\n"));
  EXPECT_TRUE(absl::EndsWith(index.response, "<p>hi</p>"));
  EXPECT_TRUE(absl::StrContains(routes.Route(Get("/app.css")).response, "text/css"));
  EXPECT_EQ(routes.Route(Get("/../etc/passwd")).status, 404);
  EXPECT_EQ(routes.Route(Get("/%2e%2e/x")).status, 404);
  HttpRequest head = Get("/");
  head.method = "HEAD";
  EXPECT_TRUE(absl::EndsWith(routes.Route(head).response, "\r\n\r\n")) << "HEAD: no body";
  ::unlink((std::string(dir) + "/index.html").c_str());
  ::unlink((std::string(dir) + "/app.css").c_str());
  ::rmdir(dir);
}

TEST_F(HttpRoutesTest, EmbeddedAssetsCarryAnETagAndRevalidate) {
  RouteResult page = routes_.Route(Get("/"));
  if (page.status == 404) GTEST_SKIP() << "no web client embedded in this build";
  ASSERT_EQ(page.status, 200);
  size_t at = page.response.find("ETag: ");
  ASSERT_NE(at, std::string::npos);
  std::string etag = page.response.substr(at + 6, page.response.find("\r\n", at) - at - 6);
  EXPECT_TRUE(absl::StrContains(page.response, "Cache-Control: no-cache"));
  RouteResult again = routes_.Route(Get("/", {{"if-none-match", etag}}));
  EXPECT_EQ(again.status, 304);
}

}  // namespace
}  // namespace roomchat
