#include "chat/web/http_request.h"

#include <string>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

using Kind = HttpRequestParser::Outcome::Kind;

TEST(HttpRequestParserTest, ParsesAHeadAcrossReadsWithHeadersLowercased) {
  HttpRequestParser parser;
  parser.Append("GET /app.js?v=2 HTTP/1.1\r\nHo");
  EXPECT_EQ(parser.Next().kind, Kind::kNeedMore);
  parser.Append("st: example.org\r\nX-Twice: a\r\nx-twice: b\r\n\r\n");
  HttpRequestParser::Outcome next = parser.Next();
  ASSERT_EQ(next.kind, Kind::kRequest) << next.reason;
  EXPECT_EQ(next.request.method, "GET");
  EXPECT_EQ(next.request.target, "/app.js?v=2");
  EXPECT_EQ(next.request.Path(), "/app.js");
  EXPECT_EQ(next.request.Header("host"), "example.org");
  EXPECT_EQ(next.request.Header("x-twice"), "a, b");
  EXPECT_TRUE(next.request.keep_alive);
  EXPECT_EQ(parser.Next().kind, Kind::kNeedMore);
}

TEST(HttpRequestParserTest, KeepsWhatFollowsAHeadForTheNextRequestOrTheWebSocket) {
  HttpRequestParser parser;
  parser.Append("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n\x81\x85");
  EXPECT_EQ(parser.Next().request.target, "/");
  HttpRequestParser::Outcome second = parser.Next();
  EXPECT_EQ(second.request.target, "/healthz");
  EXPECT_FALSE(second.request.keep_alive) << "HTTP/1.0 closes by default";
  EXPECT_EQ(parser.TakeRest(), "\x81\x85");
}

TEST(HttpRequestParserTest, BareLfLineEndsEndAHeadTooAndGetAnAnswer) {
  HttpRequestParser parser;
  parser.Append("GET / HTTP/1.1\nHost: x\n\n");
  HttpRequestParser::Outcome next = parser.Next();
  EXPECT_NE(next.kind, Kind::kNeedMore) << "served or refused with 400, never left waiting";
  if (next.kind == Kind::kError) EXPECT_EQ(next.status, 400);
}

TEST(HttpRequestParserTest, AHeadPastTheLimitIs431EvenBeforeItEnds) {
  HttpRequestParser parser;
  parser.Append("GET / HTTP/1.1\r\nX-Long: " + std::string(HttpRequestParser::kMaxHeadBytes, 'x'));
  HttpRequestParser::Outcome next = parser.Next();
  EXPECT_EQ(next.kind, Kind::kError);
  EXPECT_EQ(next.status, 431);
}

TEST(HttpRequestParserTest, ABodyIs413AndGarbageIs400) {
  HttpRequestParser with_body;
  with_body.Append("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(with_body.Next().status, 413);
  HttpRequestParser chunked;
  chunked.Append("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(chunked.Next().status, 413);
  HttpRequestParser garbage;
  garbage.Append("NOT HTTP AT ALL\r\n\r\n");
  HttpRequestParser::Outcome next = garbage.Next();
  EXPECT_EQ(next.kind, Kind::kError);
  EXPECT_EQ(next.status, 400);
  EXPECT_NE(next.reason.find("malformed"), std::string::npos);
}

}  // namespace
}  // namespace roomchat
