#include "chat/places/member_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "chat/loop/socket.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

constexpr size_t kHighWater = 32 * 1024;
constexpr int kDeadlineMs = 20000;

ConnectionLimits Limits() {
  return {4096, {1 << 22, 0, std::chrono::seconds(0), kHighWater}, {0, 1, 0}};
}

// A MemberIo on a running loop, with a handler that records frames and acts on a few words:
//   "quit" departs, "big N" sends the sender N bytes, anything else is said to every other member.
class MemberIoTest : public ::testing::Test, public MemberIo::Handler {
 protected:
  void Start(bool input_waits_for_all) {
    loop_ = *EventLoop::Create("test");
    io_ = std::make_unique<MemberIo>(
        loop_.get(), this,
        MemberIo::Options{std::chrono::seconds(0), input_waits_for_all, &metrics_});
    loop_->SetRoundHook([this] { return io_->RunRound(); });
    thread_ = std::thread([this] { loop_->Run(); });
  }
  void TearDown() override {
    if (!thread_.joinable()) return;
    loop_->Post([this] {
      io_->Shutdown(DepartureReason::kShutdown);
      loop_->Quit();
    });
    thread_.join();
  }

  // A member over a socketpair with small buffers, so output backs up quickly; returns the
  // test's end.
  UniqueFd AddMember(ClientId id) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    int small = 4096;
    ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    ::setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    auto connection =
        std::make_unique<Connection>(id, "test", std::make_unique<TcpTransport>(UniqueFd(fds[0])),
                                     std::make_unique<LineCodec>(4096), Limits(), Clock::now());
    OnLoop([&] { io_->Add(std::move(connection)); });
    return UniqueFd(fds[1]);
  }

  void OnLoop(std::function<void()> task) {
    absl::Notification done;
    loop_->Post([&] {
      task();
      done.Notify();
    });
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Milliseconds(kDeadlineMs)));
  }

  // MemberIo::Handler, on the loop thread.
  void OnFrame(Connection& member, const Frame& frame) override {
    std::string text(frame.text);
    {
      absl::MutexLock lock(&mu_);
      frames_.push_back(absl::StrCat(member.id(), ":", text));
      if (on_frame_) on_frame_(member, text);
    }
    if (text == "quit") return io_->Depart(member, {DepartureReason::kQuit, ""});
    if (absl::StartsWith(text, "big ")) {
      return io_->Send(member, std::string(std::stoi(text.substr(4)), 'b') + "\n");
    }
    io_->SendToAll(member.id(), absl::StrCat("MSG ", member.id(), " ", text, "\n"));
  }
  void OnDeparture(Connection& member, const Departure&) override { io_->Send(member, "BYE\n"); }
  void OnUnsentAtDeparture(std::unique_ptr<Connection> connection) override {
    io_->Linger(std::move(connection));
  }

  std::vector<std::string> Frames() {
    absl::MutexLock lock(&mu_);
    return frames_;
  }
  // Waits until `done` holds over the recorded frames.
  bool WaitForFrames(std::function<bool(const std::vector<std::string>&)> done) {
    for (int waited = 0; waited < kDeadlineMs; waited += 5) {
      if (done(Frames())) return true;
      absl::SleepFor(absl::Milliseconds(5));  // polling interval
    }
    return false;
  }

  PlaceMetrics metrics_{PlaceMetrics::Kind::kRoom};
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<MemberIo> io_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<std::string> frames_ ABSL_GUARDED_BY(mu_);
  std::function<void(Connection&, const std::string&)> on_frame_ ABSL_GUARDED_BY(mu_);
};

void WriteAll(int fd, const std::string& bytes) {
  size_t written = 0;
  while (written < bytes.size()) {
    pollfd pfd{fd, POLLOUT, 0};
    ::poll(&pfd, 1, 100);
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n > 0) written += static_cast<size_t>(n);
  }
}

// Reads from `fd` until `want` bytes came or the peer closed; returns what came.
std::string ReadBytes(int fd, size_t want, bool until_closed = false) {
  std::string got;
  for (int waited = 0; waited < kDeadlineMs && (until_closed || got.size() < want);) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 10) == 0) {
      waited += 10;
      continue;
    }
    char buffer[8192];
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    got.append(buffer, static_cast<size_t>(n));
  }
  return got;
}

// Flow control: while a member that reads has output above the high-water mark, the room takes
// no more input, so that member's unsent output never grows past the mark by more than one line,
// and it gets every line. Without the rule, one turn would fan out the sender's whole burst.
TEST_F(MemberIoTest, ARoomTakesInputOnlyAsFastAsAReadingMemberDrains) {
  Start(/*input_waits_for_all=*/true);
  UniqueFd sender = AddMember(1);
  UniqueFd reader = AddMember(2);
  size_t peak = 0;
  {
    absl::MutexLock lock(&mu_);
    on_frame_ = [&](Connection&, const std::string&) {
      if (Connection* member = io_->Find(2)) peak = std::max(peak, member->output().unsent());
    };
  }
  const std::string padding(200, 'p');
  std::string burst;
  constexpr int kLines = 2000;  // 420 KB to the reader, 13x the mark
  for (int i = 0; i < kLines; ++i) absl::StrAppend(&burst, i, padding, "\n");
  std::thread writer([&] { WriteAll(sender.get(), burst); });
  std::string got;
  std::string want;
  for (int i = 0; i < kLines; ++i) absl::StrAppend(&want, "MSG 1 ", i, padding, "\n");
  while (got.size() < want.size()) {
    std::string more = ReadBytes(reader.get(), 1);  // a reader that reads, in small reads
    if (more.empty()) break;
    got += more;
  }
  writer.join();
  EXPECT_EQ(got, want);
  OnLoop([] {});
  absl::MutexLock lock(&mu_);
  EXPECT_LE(peak, kHighWater + 4096 + 16) << "unsent output ran past the mark";
}

// A member's own commands wait while its own output is above the mark; other members' commands
// do not wait for it (the lobby's rule).
TEST_F(MemberIoTest, AMembersCommandsWaitForItsOwnOutputNotForOthers) {
  Start(/*input_waits_for_all=*/false);
  UniqueFd hog = AddMember(1);
  UniqueFd other = AddMember(2);
  std::string commands;
  for (int i = 0; i < 100; ++i) commands += "big 10000\n";  // 1 MB of replies it never reads
  WriteAll(hog.get(), commands);
  WriteAll(other.get(), "hello\n");
  ASSERT_TRUE(WaitForFrames([](const std::vector<std::string>& frames) {
    return std::find(frames.begin(), frames.end(), "2:hello") != frames.end();
  }));
  std::vector<std::string> frames = Frames();
  size_t hogs = std::count(frames.begin(), frames.end(), "1:big 10000");
  // Its first replies fill the socket's own buffers too; without the rule all 100 would run first.
  EXPECT_LE(hogs, 10u) << "the hog's commands ran on past its output";
  EXPECT_GE(hogs, 1u);
}

TEST_F(MemberIoTest, ADepartingMembersRemainingInputIsNeverHandled) {
  Start(/*input_waits_for_all=*/true);
  UniqueFd member = AddMember(1);
  WriteAll(member.get(), "first\nquit\nafter\n");
  std::string got = ReadBytes(member.get(), 0, /*until_closed=*/true);
  EXPECT_EQ(got, "BYE\n");
  EXPECT_EQ(Frames(), (std::vector<std::string>{"1:first", "1:quit"}));
}

TEST_F(MemberIoTest, AHalfClosedMemberHasItsLinesHandledThenDepartsWithItsOutput) {
  Start(/*input_waits_for_all=*/true);
  UniqueFd member = AddMember(1);
  WriteAll(member.get(), "big 10\nlast without lf");
  ::shutdown(member.get(), SHUT_WR);
  std::string got = ReadBytes(member.get(), 0, /*until_closed=*/true);
  EXPECT_EQ(got, std::string(10, 'b') + "\nBYE\n");
  EXPECT_EQ(Frames(), (std::vector<std::string>{"1:big 10", "1:last without lf"}));
}

// A departed member whose last output does not fit in the socket lingers until it is read.
TEST_F(MemberIoTest, ADepartedMembersLastOutputIsDeliveredWhileItReads) {
  Start(/*input_waits_for_all=*/true);
  UniqueFd member = AddMember(1);
  // 20 KB: under the mark, so /quit runs right after; far over what the small socket holds.
  WriteAll(member.get(), "big 20000\nquit\n");
  ASSERT_TRUE(
      WaitForFrames([](const std::vector<std::string>& frames) { return frames.size() == 2; }));
  OnLoop([this] { EXPECT_EQ(io_->TEST_lingering(), 1u); });
  std::string got = ReadBytes(member.get(), 0, /*until_closed=*/true);
  EXPECT_EQ(got.size(), 20001u + 4);
  EXPECT_TRUE(absl::EndsWith(got, "\nBYE\n"));
  OnLoop([this] { EXPECT_EQ(io_->TEST_lingering(), 0u); });
}

// A client's last line and its close arrive together; a send to it that fails before they are
// read (the send comes first) must not lose the line: a /kick sent just before its operator quits
// still lands. The line is handled, then the member departs.
TEST_F(MemberIoTest, AMemberWhoseSendFailsHasTheLinesItSentBeforeItWentHandledFirst) {
  Start(/*input_waits_for_all=*/true);
  UniqueFd member = AddMember(1);
  OnLoop([&] {
    // On the loop thread, after this round's events were taken: the line and the close are
    // noticed only in the next round, after this round's send to the member has failed.
    WriteAll(member.get(), "last\n");
    member.Reset();
    io_->Send(*io_->Find(1), "x\n");
  });
  bool gone = false;
  for (int waited = 0; !gone && waited < kDeadlineMs; waited += 5) {
    OnLoop([&] { gone = io_->Find(1) == nullptr; });
    if (!gone) absl::SleepFor(absl::Milliseconds(5));  // polling interval
  }
  ASSERT_TRUE(gone);
  EXPECT_EQ(Frames(), (std::vector<std::string>{"1:last"}));
}

}  // namespace
}  // namespace roomchat
