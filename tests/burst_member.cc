// burst_member: one member of a room in the flood-legal burst test (tests/robustness_test.cc),
// run as its own process so that every member reads at full speed on its own.
//
// It connects, takes the nick "member" + its index padded to 32 characters, creates (--create) or
// joins the room, prints "READY <nick>" and waits for a line on stdin. Then a sender (index below
// --senders) writes its whole burst, --lines lines of --line_bytes bytes, in one send(2) from the
// main thread while a second thread reads everything the server sends; a reader only reads. Each
// member checks that it got every line of every other sender exactly once and in per-sender order,
// proves it is still connected with a /ping round trip, and prints one summary line:
//
//   DONE <nick> result=ok|FAIL got=<n>/<expected> out_of_order=<n> foreign=<n> errors=<n>
//        closed=<0|1> pong=<0|1> burst_ms=<n> read_ms=<n> [first_problem=<line>]
//
// Also usable by hand against a running chat_server (--port), e.g. for the 40-sender measurement.
//
// Thread contract: the main thread connects, writes and waits; the reader thread owns the receive
// side of the socket and the Tally until it is joined.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gflags/gflags.h"

DEFINE_int32(port, 0, "Port of the server on 127.0.0.1.");
DEFINE_string(room, "", "Room to create or join.");
DEFINE_bool(create, false, "Create the room instead of joining it.");
DEFINE_int32(index, 0,
             "This member's number; members 0 to --senders - 1 send, the rest only read.");
DEFINE_int32(senders, 16, "How many members send a burst.");
DEFINE_int32(lines, 400, "Lines in each burst; keep it within the server's --flood_burst.");
DEFINE_int32(line_bytes, 160, "Bytes per line sent, LF included.");
DEFINE_int32(deadline_s, 60, "Give up reading after this many seconds past the start signal.");
DEFINE_double(flood_lines_per_s, 200,
              "The server's --flood_lines_per_s: the wait after joining lets the two lines spent "
              "on /nick and /join refill, so the whole burst stays within --flood_burst.");

namespace {

std::string MemberNick(int index) { return absl::StrFormat("member%026d", index); }

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool SendAll(int fd, const std::string& bytes, int* calls) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ++*calls;
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Lines from a socket, each read waiting at most until a deadline.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // False at EOF, on an error or at the deadline (then timed_out() is true).
  bool Next(absl::Time deadline, std::string* line) {
    while (true) {
      size_t newline = buffer_.find('\n', start_);
      if (newline != std::string::npos) {
        line->assign(buffer_, start_, newline - start_);
        start_ = newline + 1;
        return true;
      }
      buffer_.erase(0, start_);
      start_ = 0;
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        timed_out_ = true;
        return false;
      }
      pollfd pfd{fd_, POLLIN, 0};
      int ready = ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
      if (ready <= 0) continue;
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<size_t>(n));
      } else if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        continue;
      } else {
        return false;
      }
    }
  }
  bool timed_out() const { return timed_out_; }

 private:
  const int fd_;
  std::string buffer_;
  size_t start_ = 0;
  bool timed_out_ = false;
};

// What the reader thread saw; written by it alone, read by the main thread after joining it.
struct Tally {
  int got = 0;           // MSG lines from senders, in order
  int out_of_order = 0;  // MSG lines from a sender out of order, repeated, or unparseable
  int foreign = 0;       // MSG lines from anyone else
  int errors = 0;        // ERR and BYE lines
  bool closed = false;   // EOF, reset or deadline before the end
  bool pong = false;     // the closing /ping round trip came back
  std::string first_problem;
  absl::Time all_received = absl::InfinitePast();
};

// What the main thread waits for: the reader thread's progress.
struct Progress {
  absl::Mutex mu;
  bool all_in ABSL_GUARDED_BY(mu) = false;     // every expected line came
  bool finished ABSL_GUARDED_BY(mu) = false;   // the reader thread is done
  int flood_refusals ABSL_GUARDED_BY(mu) = 0;  // "ERR flood" answers to the closing /ping
};

// Reads until every expected line and then "PONG done" came, or the connection ended.
void ReadEverything(LineReader& reader, const std::string& room, int expected, absl::Time deadline,
                    Tally* tally, Progress* progress) {
  std::vector<int> next_seq(FLAGS_senders, 0);
  const std::string msg_prefix = absl::StrCat("MSG ", room, " ");
  auto problem = [tally](const std::string& line) {
    if (tally->first_problem.empty()) tally->first_problem = line.substr(0, 120);
  };
  std::string line;
  while (!tally->pong) {
    if (!reader.Next(deadline, &line)) {
      tally->closed = true;
      problem(reader.timed_out() ? "<deadline>" : "<closed>");
      break;
    }
    if (absl::StartsWith(line, msg_prefix)) {
      // MSG <room> member<index> <seq> <nick> <padding>
      std::vector<absl::string_view> words =
          absl::StrSplit(absl::string_view(line).substr(msg_prefix.size()), ' ');
      int index = -1;
      int seq = -1;
      if (words.size() < 2 || !absl::StartsWith(words[0], "member") ||
          !absl::SimpleAtoi(words[0].substr(6), &index) || index < 0 || index >= FLAGS_senders ||
          words[0] != MemberNick(index)) {
        ++tally->foreign;
        problem(line);
        continue;
      }
      if (!absl::SimpleAtoi(words[1], &seq) || seq != next_seq[index]) {
        ++tally->out_of_order;
        problem(line);
        if (seq >= next_seq[index]) next_seq[index] = seq + 1;
        continue;
      }
      ++next_seq[index];
      if (++tally->got == expected) {
        tally->all_received = absl::Now();
        absl::MutexLock lock(&progress->mu);
        progress->all_in = true;
      }
    } else if (line == "PONG done") {
      tally->pong = true;
    } else if (absl::StartsWith(line, "ERR flood") && tally->got == expected) {
      // Only the closing /ping can meet a bucket the burst emptied; the main thread resends it.
      absl::MutexLock lock(&progress->mu);
      ++progress->flood_refusals;
    } else if (absl::StartsWith(line, "ERR ") || absl::StartsWith(line, "BYE ")) {
      ++tally->errors;
      problem(line);
    }  // JOIN and LEAVE lines of the other members are expected and ignored.
  }
  absl::MutexLock lock(&progress->mu);
  progress->finished = true;
}

// Once every line came (and the burst is out): "/ping done", sent again while the server answers
// "ERR flood" because the burst emptied the bucket, for at most 100 tries.
void PingWhenAllIn(int fd, absl::Time deadline, Progress* progress) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    {
      absl::MutexLock lock(&progress->mu);
      auto ready = [progress]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(progress->mu) {
        return progress->all_in || progress->finished;
      };
      progress->mu.AwaitWithDeadline(absl::Condition(&ready), deadline);
      if (progress->finished || !progress->all_in) return;
    }
    int calls = 0;
    if (!SendAll(fd, "/ping done\n", &calls)) return;
    absl::MutexLock lock(&progress->mu);
    auto answered = [progress, attempt]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(progress->mu) {
      return progress->finished || progress->flood_refusals > attempt;
    };
    progress->mu.AwaitWithDeadline(absl::Condition(&answered), deadline);
    if (progress->finished || progress->flood_refusals <= attempt) return;
    progress->mu.Unlock();
    absl::SleepFor(absl::Seconds(2 / FLAGS_flood_lines_per_s));  // lets the bucket refill a token
    progress->mu.Lock();
  }
}

// Sends `command` and expects the next line to start with `want`.
bool Expect(int fd, LineReader& reader, const std::string& command, const std::string& want) {
  int calls = 0;
  if (!SendAll(fd, command + "\n", &calls)) return false;
  std::string line;
  if (!reader.Next(absl::Now() + absl::Seconds(FLAGS_deadline_s), &line)) return false;
  if (absl::StartsWith(line, want)) return true;
  std::fprintf(stderr, "%s: expected %s, got %s\n", command.c_str(), want.c_str(), line.c_str());
  return false;
}

std::string Burst(int index) {
  std::string bytes;
  for (int seq = 0; seq < FLAGS_lines; ++seq) {
    std::string line = absl::StrCat(seq, " ", MemberNick(index), " ");
    line.resize(static_cast<size_t>(FLAGS_line_bytes - 1), 'x');
    absl::StrAppend(&bytes, line, "\n");
  }
  return bytes;
}

// Connects as member `nick` and joins (or creates) the room; false (and a DONE line) if it cannot.
bool Enter(int fd, LineReader& reader, const std::string& nick) {
  std::string welcome;
  if (!reader.Next(absl::Now() + absl::Seconds(FLAGS_deadline_s), &welcome) ||
      !absl::StartsWith(welcome, "WELCOME ") ||
      !Expect(fd, reader, "/nick " + nick, "OK NICK " + nick) ||
      !Expect(fd, reader, (FLAGS_create ? "/create " : "/join ") + FLAGS_room,
              (FLAGS_create ? "OK CREATE " : "OK JOIN ") + FLAGS_room)) {
    std::printf("DONE %s result=FAIL cannot join %s\n", nick.c_str(), FLAGS_room.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("one member of the burst test; see tests/burst_member.cc");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const std::string nick = MemberNick(FLAGS_index);
  const bool sender = FLAGS_index < FLAGS_senders;
  const int expected = (FLAGS_senders - (sender ? 1 : 0)) * FLAGS_lines;

  int fd = Connect(FLAGS_port);
  if (fd < 0) {
    std::printf("DONE %s result=FAIL cannot connect\n", nick.c_str());
    return 1;
  }
  LineReader reader(fd);
  if (!Enter(fd, reader, nick)) return 1;
  // /nick and /join took two tokens from the server's flood bucket: waiting until they have
  // refilled (a lower bound on time, which a slow machine only lengthens) keeps the whole burst
  // within --flood_burst.
  if (FLAGS_flood_lines_per_s > 0) absl::SleepFor(absl::Seconds(4 / FLAGS_flood_lines_per_s));
  std::printf("READY %s\n", nick.c_str());
  std::fflush(stdout);

  std::string go;
  std::getline(std::cin, go);
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + absl::Seconds(FLAGS_deadline_s);
  Tally tally;
  Progress progress;
  std::thread reading(
      [&] { ReadEverything(reader, FLAGS_room, expected, deadline, &tally, &progress); });
  int send_calls = 0;
  bool burst_sent = true;
  absl::Duration burst_time;
  if (sender) {
    burst_sent = SendAll(fd, Burst(FLAGS_index), &send_calls);
    burst_time = absl::Now() - start;
  }
  PingWhenAllIn(fd, deadline, &progress);
  reading.join();
  ::close(fd);

  bool ok = burst_sent && tally.got == expected && tally.out_of_order == 0 && tally.foreign == 0 &&
            tally.errors == 0 && !tally.closed && tally.pong;
  std::string read_ms = tally.all_received == absl::InfinitePast()
                            ? "-"
                            : absl::StrCat(absl::ToInt64Milliseconds(tally.all_received - start));
  std::printf(
      "DONE %s result=%s got=%d/%d out_of_order=%d foreign=%d errors=%d closed=%d pong=%d "
      "burst_sent=%d send_calls=%d burst_ms=%lld read_ms=%s%s%s\n",
      nick.c_str(), ok ? "ok" : "FAIL", tally.got, expected, tally.out_of_order, tally.foreign,
      tally.errors, tally.closed ? 1 : 0, tally.pong ? 1 : 0, burst_sent ? 1 : 0, send_calls,
      static_cast<long long>(absl::ToInt64Milliseconds(burst_time)), read_ms.c_str(),
      tally.first_problem.empty() ? "" : " first_problem=", tally.first_problem.c_str());
  std::fflush(stdout);
  return ok ? 0 : 1;
}
