#include "chat/net/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

ConnectionLimits Limits() {
  return {64, {1 << 20, 0, std::chrono::seconds(0), 1 << 19}, {0, 1, 0}};
}

// A connection over one end of a socketpair; the test holds the other end.
struct Pair {
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    peer = UniqueFd(fds[1]);
    connection = std::make_unique<Connection>(
        7, "peer", std::make_unique<TcpTransport>(UniqueFd(fds[0])),
        std::make_unique<LineCodec>(Limits().max_line_bytes), Limits(), Clock::now());
  }
  void PeerWrites(const std::string& bytes) {
    ASSERT_EQ(::write(peer.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  // Reads once into the connection; the kind of result.
  Transport::ReadResult::Kind ReadOnce() {
    char scratch[256];
    absl::StatusOr<Transport::ReadResult> read = connection->ReadOnce(scratch, sizeof(scratch), Clock::now());
    EXPECT_TRUE(read.ok()) << read.status();
    return read.ok() ? read->kind : Transport::ReadResult::Kind::kWouldBlock;
  }
  std::string NextText() {
    std::optional<Frame> frame = connection->NextFrame();
    if (!frame) return "<none>";
    return frame->kind == Frame::Kind::kLine ? std::string(frame->text) : "<not a line>";
  }
  UniqueFd peer;
  std::unique_ptr<Connection> connection;
};

TEST(ConnectionTest, ReadsFramesThroughItsCodecOneAtATime) {
  Pair pair;
  pair.PeerWrites("one\ntwo\nthr");
  EXPECT_EQ(pair.ReadOnce(), Transport::ReadResult::Kind::kData);
  EXPECT_EQ(pair.NextText(), "one");
  EXPECT_EQ(pair.NextText(), "two");
  EXPECT_EQ(pair.NextText(), "<none>");
  EXPECT_EQ(pair.connection->buffered_input(), 3u) << "the partial line waits, and moves with it";
  EXPECT_EQ(pair.ReadOnce(), Transport::ReadResult::Kind::kWouldBlock);
}

TEST(ConnectionTest, AtTheEndOfInputTheLastLineWithoutLfIsAFrameOnce) {
  Pair pair;
  pair.PeerWrites("done\n/quit");
  ::shutdown(pair.peer.get(), SHUT_WR);
  EXPECT_EQ(pair.ReadOnce(), Transport::ReadResult::Kind::kData);
  EXPECT_EQ(pair.ReadOnce(), Transport::ReadResult::Kind::kEndOfInput);
  EXPECT_EQ(pair.NextText(), "done");
  EXPECT_EQ(pair.NextText(), "<none>") << "the loop has not seen the end yet";
  pair.connection->loop_state().input_ended = true;
  EXPECT_EQ(pair.NextText(), "/quit");
  EXPECT_EQ(pair.NextText(), "<none>");
}

TEST(ConnectionTest, SendQueuesEncodedLinesAndFlushWritesThem) {
  Pair pair;
  pair.connection->Send("OK NICK a\n", Clock::now());
  pair.connection->SendEncoded("MSG r a hi\n", Clock::now());
  bool blocked = true;
  ASSERT_TRUE(pair.connection->Flush(1 << 20, Clock::now(), &blocked).ok());
  EXPECT_FALSE(blocked);
  char buffer[64];
  ssize_t n = ::read(pair.peer.get(), buffer, sizeof(buffer));
  EXPECT_EQ(std::string(buffer, n > 0 ? n : 0), "OK NICK a\nMSG r a hi\n");
}

TEST(ConnectionTest, TheFirstDepartureWins) {
  Pair pair;
  pair.connection->MarkDeparting({DepartureReason::kQuit, ""});
  pair.connection->MarkDeparting({DepartureReason::kIoError, "later"});
  EXPECT_EQ(pair.connection->departure()->reason, DepartureReason::kQuit);
  EXPECT_EQ(ByeReason(DepartureReason::kEndOfInput), "quit");
  EXPECT_EQ(ByeReason(DepartureReason::kOutputLimit), "");
}

// Counts how often it encodes, to show a broadcast encodes once per kind of codec.
class CountingCodec : public Codec {
 public:
  Kind kind() const override { return Kind::kLine; }
  void Append(absl::string_view) override {}
  std::optional<Frame> Next() override { return std::nullopt; }
  std::optional<Frame> Finish() override { return std::nullopt; }
  size_t buffered_bytes() const override { return 0; }
  void Encode(absl::string_view lines, std::string* out) const override {
    ++encodes;
    out->append(lines.data(), lines.size());
  }
  mutable int encodes = 0;
};

TEST(BroadcastTest, EncodesOncePerKindOfCodecNeverOncePerMember) {
  CountingCodec first;
  CountingCodec second;
  Broadcast broadcast("JOIN r a\n");
  for (int member = 0; member < 100; ++member) {
    EXPECT_EQ(broadcast.For(member % 2 ? first : second), "JOIN r a\n");
  }
  EXPECT_EQ(first.encodes + second.encodes, 1);
}

}  // namespace
}  // namespace roomchat
