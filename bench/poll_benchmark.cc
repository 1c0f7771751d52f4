// Why each room polls with poll(2): the cost of one loop round's wait, with N member sockets of
// which one is readable, for poll(2) (rebuilding its pollfd array every round, as PollLoop does)
// against an epoll instance per room. Run: bazel run -c opt //bench:poll_benchmark
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "benchmark/benchmark.h"

namespace {

// N socketpairs; the server side of pair 0 is kept readable.
class Sockets {
 public:
  explicit Sockets(int count) {
    for (int i = 0; i < count; ++i) {
      int pair[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair) != 0) break;
      server_.push_back(pair[0]);
      peer_.push_back(pair[1]);
    }
    char byte = 'x';
    if (!peer_.empty() && ::write(peer_[0], &byte, 1) != 1) server_.clear();
  }
  ~Sockets() {
    for (int fd : server_) ::close(fd);
    for (int fd : peer_) ::close(fd);
  }
  const std::vector<int>& fds() const { return server_; }

 private:
  std::vector<int> server_;
  std::vector<int> peer_;
};

void BM_PollRebuildAndWait(benchmark::State& state) {
  Sockets sockets(static_cast<int>(state.range(0)));
  std::vector<pollfd> set;
  for (auto _ : state) {
    set.clear();
    for (int fd : sockets.fds()) set.push_back({fd, POLLIN, 0});
    int ready = ::poll(set.data(), set.size(), 0);
    // Find the ready one, as the loop does.
    for (const pollfd& entry : set) {
      if (entry.revents != 0) benchmark::DoNotOptimize(entry.fd);
    }
    benchmark::DoNotOptimize(ready);
  }
  state.SetLabel("poll(2)");
}

void BM_EpollWait(benchmark::State& state) {
  Sockets sockets(static_cast<int>(state.range(0)));
  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  for (int fd : sockets.fds()) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
  }
  std::vector<epoll_event> events(64);
  for (auto _ : state) {
    int ready = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 0);
    benchmark::DoNotOptimize(ready);
  }
  ::close(epoll_fd);
  state.SetLabel("epoll");
}

BENCHMARK(BM_PollRebuildAndWait)->Arg(1)->Arg(8)->Arg(64)->Arg(512)->Arg(2048);
BENCHMARK(BM_EpollWait)->Arg(1)->Arg(8)->Arg(64)->Arg(512)->Arg(2048);

}  // namespace
