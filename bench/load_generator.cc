// The run half of LoadGenerator::Worker (bench/load_worker.h: sending on schedule, reading,
// counting deliveries, loss, order and latency), and LoadGenerator itself: it spreads the rooms
// over the workers, fixes the timeline, and adds up their results. The setup half is in
// bench/load_worker_setup.cc.
#include "bench/load_generator.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "bench/load_worker.h"
#include "bench/payload.h"

namespace roomchat {
namespace load_internal {

int64_t NowNs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * kNanosPerSecond + now.tv_nsec;
}

}  // namespace load_internal

namespace {

using load_internal::kNanosPerSecond;
using load_internal::kRingBits;
using load_internal::NowNs;
using load_internal::Timeline;

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxUnsent = 64 << 20;
// Gaps larger than this are counted as loss without remembering each missing sequence number.
constexpr uint64_t kMaxTrackedGap = 1 << 16;

void SleepUntilNs(int64_t when) {
  timespec until{static_cast<time_t>(when / kNanosPerSecond),
                 static_cast<long>(when % kNanosPerSecond)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
  }
}

}  // namespace

absl::Status LoadGenerator::Worker::Run(const Timeline& timeline, const std::atomic<bool>& abort) {
  timeline_ = timeline;
  int64_t period = workload_.rate > 0 ? static_cast<int64_t>(kNanosPerSecond / workload_.rate) : 0;
  for (auto& room : rooms_) {
    for (Sender& sender : room->senders) {
      // Spread the senders' schedules over one period (golden-ratio offsets), not all at once.
      double phase = std::fmod(sender.id * 0.6180339887, 1.0);
      sender.next_send = timeline.start + static_cast<int64_t>(phase * period);
    }
  }
  while (!abort.load(std::memory_order_relaxed)) {
    int64_t now = NowNs();
    if (now >= timeline_.drain_end) break;
    if (now < timeline_.window_end) {
      SendDue(now);
    } else if (result_.delivered >= result_.expected) {
      break;  // Everything sent in the window has arrived everywhere.
    }
    if (absl::Status polled = Poll(NextWake(now) - now); !polled.ok()) return polled;
    if (!error_.ok()) return error_;
    Publish();
  }
  Publish();
  return absl::OkStatus();
}

int64_t LoadGenerator::Worker::NextWake(int64_t now) const {
  int64_t wake = now + 100000000;  // at least every 100 ms
  if (now >= timeline_.window_end) return std::min(wake, timeline_.drain_end);
  wake = std::min(wake, timeline_.window_end);
  if (workload_.rate > 0) {
    for (const auto& room : rooms_) {
      for (const Sender& sender : room->senders) wake = std::min(wake, sender.next_send);
    }
  }
  return wake;
}

void LoadGenerator::Worker::SendDue(int64_t now) {
  for (auto& room : rooms_) {
    for (Sender& sender : room->senders) {
      if (workload_.rate > 0) {
        int64_t period = static_cast<int64_t>(kNanosPerSecond / workload_.rate);
        // Every message whose time has come, stamped with its intended time.
        while (sender.next_send <= now && sender.next_send < timeline_.window_end) {
          SendOne(sender, sender.next_send);
          sender.next_send += period;
        }
      } else {
        while (sender.in_flight < workload_.window) SendOne(sender, now);
      }
      Flush(*sender.connection);
    }
  }
}

void LoadGenerator::Worker::SendOne(Sender& sender, int64_t intended) {
  uint64_t seq = sender.next_seq++;
  FormatPayload({sender.id, seq, intended}, workload_.bytes, &scratch_payload_);
  sender.connection->protocol->AppendMessage(scratch_payload_, &sender.connection->out);
  Track& track = sender.ring[seq & ((1 << kRingBits) - 1)];
  if (track.seq != ~uint64_t{0} && track.received < static_cast<uint32_t>(workload_.members - 1) &&
      workload_.rate == 0) {
    --sender.in_flight;  // Overwritten before it completed: stop waiting for it.
  }
  track = Track{seq, 0, intended,
                intended >= timeline_.window_begin && intended < timeline_.window_end};
  ++sender.in_flight;
  ++sent_total_;
  SecondAt(intended).sent++;
  if (track.in_window) {
    ++result_.sent;
    result_.expected += workload_.members - 1;
  }
}

void LoadGenerator::Worker::Receive(Connection& receiver, absl::string_view payload) {
  PayloadFields fields;
  if (!ParsePayload(payload, &fields) || fields.sender == receiver.member) return;
  Room& room = *receiver.room;
  size_t index = 0;
  while (index < room.senders.size() && room.senders[index].id != fields.sender) ++index;
  if (index == room.senders.size()) return;
  bool duplicate = false;
  CountOrder(receiver, index, fields.seq, &duplicate);
  if (duplicate) return;
  ++delivered_total_;
  bool in_window =
      fields.send_ns >= timeline_.window_begin && fields.send_ns < timeline_.window_end;
  if (in_window) {
    ++result_.delivered;
    result_.latency.Record(now_ - fields.send_ns);
    if (workload_.servers.size() > 1) {
      (receiver.on_senders_server ? result_.latency_sender_node : result_.latency_other_nodes)
          .Record(now_ - fields.send_ns);
    }
    SecondStats& second = SecondAt(now_);
    ++second.delivered;
    second.latency.Record(now_ - fields.send_ns);
  }
  Sender& sender = room.senders[index];
  Track& track = sender.ring[fields.seq & ((1 << kRingBits) - 1)];
  if (track.seq != fields.seq) return;
  if (++track.received == static_cast<uint32_t>(workload_.members - 1)) {
    if (track.in_window) result_.spread.Record(now_ - track.intended);
    --sender.in_flight;
  }
}

void LoadGenerator::Worker::CountOrder(Connection& receiver, size_t sender_index, uint64_t seq,
                                       bool* duplicate) {
  uint64_t& next = receiver.next_seq[sender_index];
  if (seq == next) {
    ++next;
    return;
  }
  auto& missing = receiver.missing[sender_index];
  if (seq > next) {
    if (seq - next <= kMaxTrackedGap) {
      for (uint64_t gap = next; gap < seq; ++gap) missing.insert(gap);
    }
    next = seq + 1;
    return;
  }
  if (missing.erase(seq) > 0) {
    ++result_.reorders;
  } else {
    ++result_.duplicates;
    *duplicate = true;
  }
}

void LoadGenerator::Worker::Flush(Connection& connection) {
  while (connection.out_pos < connection.out.size()) {
    ssize_t n = WriteSome(connection);
    if (n > 0) {
      connection.out_pos += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (error_.ok()) {
      error_ = absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    }
    return;
  }
  bool pending = connection.out_pos < connection.out.size();
  if (!pending) {
    connection.out.clear();
    connection.out_pos = 0;
  } else if (connection.out.size() - connection.out_pos > kMaxUnsent && error_.ok()) {
    error_ = absl::ResourceExhaustedError("the server stopped reading what the bench sends");
  }
  if (pending != connection.wants_out) {
    connection.wants_out = pending;
    epoll_event event{};
    event.events = EPOLLIN | (pending ? EPOLLOUT : 0);
    event.data.ptr = &connection;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event);
  }
}

// Not LineConnection (//chat/client), on purpose: each worker thread reads thousands of
// non-blocking sockets from one epoll loop, and the protocol's Consume() parses the bytes in place
// (the MSG hot path allocates nothing per line), where LineConnection blocks in poll() on one socket
// and hands out each line as a std::string.
absl::Status LoadGenerator::Worker::ReadFrom(Connection& connection) {
  char chunk[kReadChunk];
  // Over TLS one read returns one record, and what the stream has read ahead stays invisible to
  // epoll: keep reading while it holds any (a short read does not mean the socket is drained).
  for (int reads = 0; reads < 4 || (connection.tls && connection.tls->has_pending()); ++reads) {
    ssize_t n = ReadSome(connection, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {
      return absl::UnavailableError(absl::StrCat(
          "the server closed a connection", n < 0 ? absl::StrCat(": ", std::strerror(errno)) : "",
          connection.in.empty() ? "" : absl::StrCat(" after: ", connection.in.substr(0, 80))));
    }
    connection.in.append(chunk, static_cast<size_t>(n));
    size_t used = connection.protocol->Consume(connection.in, connection);
    connection.in.erase(0, used);
    if (static_cast<size_t>(n) < sizeof(chunk) &&
        !(connection.tls && connection.tls->has_pending())) {
      break;
    }
  }
  return absl::OkStatus();
}

// send(2) or SSL_write, as send(2) reports: bytes, or -1 with errno (EAGAIN when full).
ssize_t LoadGenerator::Worker::WriteSome(Connection& connection) {
  const char* data = connection.out.data() + connection.out_pos;
  size_t size = connection.out.size() - connection.out_pos;
  if (!connection.tls) return send(connection.fd, data, size, MSG_NOSIGNAL);
  absl::StatusOr<size_t> n = connection.tls->Write(data, size);
  if (!n.ok()) {
    errno = ECONNRESET;
    return -1;
  }
  if (*n == 0) errno = EAGAIN;
  return *n == 0 ? -1 : static_cast<ssize_t>(*n);
}

// read(2) or SSL_read, as read(2) reports: bytes, 0 at the end, or -1 with errno.
ssize_t LoadGenerator::Worker::ReadSome(Connection& connection, char* buffer, size_t size) {
  if (!connection.tls) return read(connection.fd, buffer, size);
  absl::StatusOr<size_t> n = connection.tls->Read(buffer, size);
  if (!n.ok()) return 0;
  if (*n == 0) errno = EAGAIN;
  return *n == 0 ? -1 : static_cast<ssize_t>(*n);
}

absl::Status LoadGenerator::Worker::Poll(int64_t timeout_ns) {
  epoll_event events[256];
  timespec timeout{static_cast<time_t>(std::max<int64_t>(timeout_ns, 0) / kNanosPerSecond),
                   static_cast<long>(std::max<int64_t>(timeout_ns, 0) % kNanosPerSecond)};
  int ready = epoll_pwait2(epoll_fd_, events, 256, &timeout, nullptr);
  now_ = NowNs();
  for (int i = 0; i < ready; ++i) {
    auto* connection = static_cast<Connection*>(events[i].data.ptr);
    if (events[i].events & EPOLLOUT) Flush(*connection);
    if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      if (absl::Status read = ReadFrom(*connection); !read.ok()) return read;
    }
  }
  return absl::OkStatus();
}

SecondStats& LoadGenerator::Worker::SecondAt(int64_t now) {
  size_t second =
      static_cast<size_t>(std::max<int64_t>(0, now - timeline_.start) / kNanosPerSecond);
  if (result_.seconds.size() <= second) result_.seconds.resize(second + 1);
  return result_.seconds[second];
}

void LoadGenerator::Worker::Publish() {
  owner_->sent_.fetch_add(sent_total_ - published_sent_, std::memory_order_relaxed);
  owner_->delivered_.fetch_add(delivered_total_ - published_delivered_, std::memory_order_relaxed);
  published_sent_ = sent_total_;
  published_delivered_ = delivered_total_;
}

namespace {

// The phases of a run that starts at `start` (ns, NowNs's clock).
Timeline TimelineFrom(int64_t start, const Workload& workload) {
  Timeline timeline;
  timeline.start = start;
  timeline.window_begin = start + static_cast<int64_t>(workload.warmup_s * kNanosPerSecond);
  timeline.window_end =
      timeline.window_begin + static_cast<int64_t>(workload.duration_s * kNanosPerSecond);
  timeline.drain_end =
      timeline.window_end + static_cast<int64_t>(workload.drain_s * kNanosPerSecond);
  return timeline;
}

// Every connection of the run needs a descriptor: the soft limit goes up to the hard one.
void RaiseFileLimit() {
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
}

// Adds one worker's counts, histograms and seconds to `total`.
void AddResult(const BenchResult& part, BenchResult& total) {
  total.sent += part.sent;
  total.expected += part.expected;
  total.delivered += part.delivered;
  total.duplicates += part.duplicates;
  total.reorders += part.reorders;
  total.latency.Merge(part.latency);
  total.spread.Merge(part.spread);
  total.latency_sender_node.Merge(part.latency_sender_node);
  total.latency_other_nodes.Merge(part.latency_other_nodes);
  if (total.seconds.size() < part.seconds.size()) total.seconds.resize(part.seconds.size());
  for (size_t i = 0; i < part.seconds.size(); ++i) {
    total.seconds[i].sent += part.seconds[i].sent;
    total.seconds[i].delivered += part.seconds[i].delivered;
    total.seconds[i].latency.Merge(part.seconds[i].latency);
  }
}

}  // namespace

LoadGenerator::LoadGenerator(const Workload& workload) : workload_(workload) {}

LoadGenerator::~LoadGenerator() = default;

absl::StatusOr<BenchResult> LoadGenerator::Run(std::function<void(bool begin)> on_window) {
  RaiseFileLimit();

  int threads = std::min(workload_.threads, workload_.rooms);
  std::vector<std::vector<int>> assignment(threads);
  for (int room = 0; room < workload_.rooms; ++room) assignment[room % threads].push_back(room);
  std::vector<std::unique_ptr<Worker>> workers;
  for (auto& rooms : assignment) {
    workers.push_back(std::make_unique<Worker>(workload_, this, std::move(rooms)));
  }

  absl::Mutex mu;
  absl::Status first_error;  // guarded by mu
  auto fail = [&](const absl::Status& status) {
    absl::MutexLock lock(&mu);
    if (first_error.ok()) first_error = status;
  };
  std::atomic<bool> abort{false};
  absl::BlockingCounter set_up(threads);
  absl::Notification go;
  Timeline timeline;
  const int64_t setup_deadline =
      NowNs() + static_cast<int64_t>(workload_.setup_timeout_s * kNanosPerSecond);
  std::vector<std::thread> running;
  for (auto& worker : workers) {
    running.emplace_back([&, worker = worker.get()] {
      absl::Status setup = worker->Setup(setup_deadline);
      if (!setup.ok()) {
        fail(setup);
        abort = true;
      }
      set_up.DecrementCount();
      go.WaitForNotification();
      if (abort) return;
      if (absl::Status run = worker->Run(timeline, abort); !run.ok()) {
        fail(run);
        abort = true;
      }
    });
  }
  set_up.Wait();
  timeline = TimelineFrom(NowNs() + 10000000, workload_);  // 10 ms for every worker to wait
  go.Notify();
  if (!abort) {
    SleepUntilNs(timeline.window_begin);
    if (!abort) on_window(true);
    SleepUntilNs(timeline.window_end);
    if (!abort) on_window(false);
  }
  for (std::thread& thread : running) thread.join();
  {
    absl::MutexLock lock(&mu);
    if (!first_error.ok()) return first_error;
  }

  BenchResult total;
  total.window_s = workload_.duration_s;
  for (auto& worker : workers) AddResult(worker->result(), total);
  return total;
}

absl::Status ValidateWorkload(const Workload& workload) {
  auto invalid = [](auto&&... parts) { return absl::InvalidArgumentError(absl::StrCat(parts...)); };
  if (workload.rooms < 1) return invalid("--rooms must be at least 1");
  if (workload.members < 2)
    return invalid("--members must be at least 2 (a sender and a receiver)");
  if (workload.senders < 1 || workload.senders > workload.members) {
    return invalid("--senders must be 1 to --members (", workload.members, ")");
  }
  if (workload.rate < 0) return invalid("--rate must be 0 (closed loop) or more");
  if (workload.window < 1 || workload.window > (1 << kRingBits) / 2) {
    return invalid("--window must be 1 to ", (1 << kRingBits) / 2);
  }
  if (workload.bytes < static_cast<int>(kMinPayloadBytes) || workload.bytes > 4000) {
    return invalid("--bytes must be ", kMinPayloadBytes, " to 4000");
  }
  if (workload.duration_s <= 0 || workload.warmup_s < 0) {
    return invalid("--duration must be positive and --warmup not negative");
  }
  if (workload.threads < 1) return invalid("--threads must be at least 1");
  if (workload.servers.empty()) return invalid("no server to connect to");
  if (workload.servers.size() > 1 && workload.proto != Proto::kLine) {
    return invalid("several servers (a roomchat cluster) need --proto=line");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ServerAddress>> ParseServerList(absl::string_view list) {
  std::vector<ServerAddress> servers;
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    size_t colon = item.rfind(':');
    ServerAddress server;
    if (colon == absl::string_view::npos || colon == 0 ||
        !absl::SimpleAtoi(item.substr(colon + 1), &server.port) || server.port < 1 ||
        server.port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("--servers: \"", item, "\" is not HOST:PORT (a port from 1 to 65535)"));
    }
    absl::string_view host = item.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    server.host = std::string(host);
    servers.push_back(std::move(server));
  }
  return servers;
}

}  // namespace roomchat
