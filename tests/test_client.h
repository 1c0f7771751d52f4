// TestClient: a line-oriented TCP client for end-to-end tests of the server.
//
// Every read waits for a line with a deadline, never for a fixed sleep: ReadLine() returns the next
// line or says why none came. Absence is checked with Sync(), which sends "/ping <token>" and
// returns every line received before the matching PONG, so "nothing else arrived" is a fact, not a
// guess.
//
// The socket and its lines are a LineConnection (//chat/client), the terminal client's too.
//
// Thread contract: not thread-safe; one thread uses a TestClient at a time.
#ifndef ROOMCHAT_TESTS_TEST_CLIENT_H_
#define ROOMCHAT_TESTS_TEST_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "chat/client/line_connection.h"

namespace roomchat {

// Long enough for a sanitizer build on a loaded 2-core machine; passing tests never wait for it.
inline constexpr absl::Duration kLineDeadline = absl::Seconds(20);

using TestClientOptions = LineConnectionOptions;

class TestClient {
 public:
  static absl::StatusOr<std::unique_ptr<TestClient>> Connect(int port,
                                                             TestClientOptions options = {});

  // Sends `bytes` as they are (all of them, blocking).
  absl::Status SendRaw(absl::string_view bytes);
  // Sends `line` and a LF.
  absl::Status Send(absl::string_view line);

  // The next line without its LF; DeadlineExceeded if none came in time, Unavailable at EOF.
  absl::StatusOr<std::string> ReadLine(absl::Duration deadline = kLineDeadline);
  // ReadLine() as a string for EXPECT_EQ: the line, "<timeout>", "<closed>" or "<error: ...>".
  std::string Next(absl::Duration deadline = kLineDeadline);
  // Sends `line` and returns the next line, as Next() does: for one command and its one-line reply.
  std::string Ask(absl::string_view line);
  // Reads until a line equal to `line`; returns the lines before it.
  absl::StatusOr<std::vector<std::string>> ReadUntil(absl::string_view line,
                                                     absl::Duration deadline = kLineDeadline);
  // Round trip through the server; returns every line that arrived before it.
  absl::StatusOr<std::vector<std::string>> Sync();
  // Reads until the server closes the connection; returns the lines it sent first.
  absl::StatusOr<std::vector<std::string>> ReadUntilClosed(absl::Duration deadline = kLineDeadline);

  // Closes with a RST instead of a FIN, as a crashed client would.
  void Reset() { connection_->Reset(); }
  void Close() { connection_->Close(); }
  int fd() const { return connection_->fd(); }

 private:
  explicit TestClient(std::unique_ptr<LineConnection> connection)
      : connection_(std::move(connection)) {}

  std::unique_ptr<LineConnection> connection_;
  int next_sync_ = 0;
};

// Connects, reads the WELCOME line and, when `nick` is not empty, takes that nick. Fails the test
// (with ADD_FAILURE) and returns null when any step goes wrong.
std::unique_ptr<TestClient> Login(int port, absl::string_view nick = "",
                                  TestClientOptions options = {});

// The cast of the output-limit tests: in room "busy", a sender, a reader that keeps up, and a
// client that never reads (its receive buffer made small); every JOIN event already read. Fails the
// test on an unexpected reply.
struct SlowReaderRoom {
  std::unique_ptr<TestClient> sender;
  std::unique_ptr<TestClient> reader;
  std::unique_ptr<TestClient> stuck;
};
SlowReaderRoom JoinSlowReaderRoom(int port);

// The sender sends `batches` batches of 64 lines of 1000 bytes; each batch must reach the reader,
// in order, before the next is sent, as for a client that keeps up. True if "LEAVE busy stuck" came
// meanwhile; any other unexpected line fails the test.
bool SendBatchesThroughReader(SlowReaderRoom& room, int batches);

}  // namespace roomchat

#endif  // ROOMCHAT_TESTS_TEST_CLIENT_H_
