#include "tests/test_client.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "chat/protocol/command.h"
#include "chat/protocol/words.h"
#include "gtest/gtest.h"

namespace roomchat {

absl::StatusOr<std::unique_ptr<TestClient>> TestClient::Connect(int port,
                                                                TestClientOptions options) {
  absl::StatusOr<std::unique_ptr<LineConnection>> connection =
      LineConnection::Connect("127.0.0.1", port, options);
  if (!connection.ok()) return connection.status();
  return std::unique_ptr<TestClient>(new TestClient(*std::move(connection)));
}

absl::Status TestClient::SendRaw(absl::string_view bytes) { return connection_->Send(bytes); }

absl::Status TestClient::Send(absl::string_view line) { return SendRaw(absl::StrCat(line, "\n")); }

absl::StatusOr<std::string> TestClient::ReadLine(absl::Duration deadline) {
  return connection_->ReadLine(absl::Now() + deadline);
}

std::string TestClient::Next(absl::Duration deadline) {
  absl::StatusOr<std::string> line = ReadLine(deadline);
  if (line.ok()) return *line;
  if (absl::IsDeadlineExceeded(line.status())) return "<timeout>";
  if (absl::IsUnavailable(line.status())) return "<closed>";
  return absl::StrCat("<error: ", line.status().ToString(), ">");
}

std::string TestClient::Ask(absl::string_view line) {
  if (absl::Status sent = Send(line); !sent.ok())
    return absl::StrCat("<error: ", sent.ToString(), ">");
  return Next();
}

absl::StatusOr<std::vector<std::string>> TestClient::ReadUntil(absl::string_view wanted,
                                                               absl::Duration deadline) {
  absl::Time until = absl::Now() + deadline;
  std::vector<std::string> before;
  while (true) {
    absl::StatusOr<std::string> line = ReadLine(until - absl::Now());
    if (!line.ok()) {
      return absl::Status(line.status().code(),
                          absl::StrCat(line.status().message(), " waiting for '", wanted,
                                       "' after ", before.size(), " other lines"));
    }
    if (*line == wanted) return before;
    before.push_back(*std::move(line));
  }
}

absl::StatusOr<std::vector<std::string>> TestClient::Sync() {
  std::string token = absl::StrCat("sync-", next_sync_++);
  if (absl::Status sent = SendRaw(FormatCommand(Command::Kind::kPing, {token})); !sent.ok()) {
    return sent;
  }
  return ReadUntil(absl::StrCat(words::kPong, " ", token));
}

absl::StatusOr<std::vector<std::string>> TestClient::ReadUntilClosed(absl::Duration deadline) {
  absl::Time until = absl::Now() + deadline;
  std::vector<std::string> lines;
  while (true) {
    absl::StatusOr<std::string> line = ReadLine(until - absl::Now());
    if (absl::IsUnavailable(line.status())) return lines;
    if (!line.ok()) return line.status();
    lines.push_back(*std::move(line));
  }
}

std::unique_ptr<TestClient> Login(int port, absl::string_view nick, TestClientOptions options) {
  absl::StatusOr<std::unique_ptr<TestClient>> client = TestClient::Connect(port, options);
  if (!client.ok()) {
    ADD_FAILURE() << client.status();
    return nullptr;
  }
  std::string welcome = (*client)->Next();
  if (!absl::StartsWith(welcome, "WELCOME guest")) {
    ADD_FAILURE() << "expected WELCOME, got " << welcome;
    return nullptr;
  }
  if (!nick.empty()) {
    (*client)->SendRaw(FormatCommand(Command::Kind::kNick, {nick})).IgnoreError();
    std::string reply = (*client)->Next();
    if (reply != absl::StrCat("OK NICK ", nick)) {
      ADD_FAILURE() << "expected OK NICK " << nick << ", got " << reply;
      return nullptr;
    }
  }
  return *std::move(client);
}

SlowReaderRoom JoinSlowReaderRoom(int port) {
  SlowReaderRoom room{Login(port, "sender"), Login(port, "reader"),
                      Login(port, "stuck", TestClientOptions{.receive_buffer_bytes = 4096})};
  if (room.sender == nullptr || room.reader == nullptr || room.stuck == nullptr) return room;
  EXPECT_EQ(room.sender->Ask("/create busy"), "OK CREATE busy");
  EXPECT_EQ(room.reader->Ask("/join busy"), "OK JOIN busy 2");
  EXPECT_EQ(room.stuck->Ask("/join busy"), "OK JOIN busy 3");
  EXPECT_EQ(room.reader->Next(), "JOIN busy stuck");
  EXPECT_TRUE(room.sender->ReadUntil("JOIN busy stuck").ok());
  return room;
}

bool SendBatchesThroughReader(SlowReaderRoom& room, int batches) {
  constexpr int kBatchLines = 64;
  const std::string padding(1000, 'p');
  bool saw_cut = false;
  for (int batch = 0; batch < batches; ++batch) {
    std::string bytes;
    for (int i = 0; i < kBatchLines; ++i) {
      absl::StrAppend(&bytes, batch * kBatchLines + i, " ", padding, "\n");
    }
    if (!room.sender->SendRaw(bytes).ok()) {
      ADD_FAILURE() << "the sender could not send batch " << batch;
      return saw_cut;
    }
    for (int i = 0; i < kBatchLines; ++i) {
      std::string line = room.reader->Next();
      if (line == "LEAVE busy stuck" && !saw_cut) {
        saw_cut = true;
        line = room.reader->Next();
      }
      std::string want = absl::StrCat("MSG busy sender ", batch * kBatchLines + i, " ", padding);
      if (line != want) {
        ADD_FAILURE() << "expected " << want.substr(0, 30) << "..., got " << line.substr(0, 60);
        return saw_cut;
      }
    }
  }
  return saw_cut;
}

}  // namespace roomchat
