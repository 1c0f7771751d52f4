// hold_connections: opens N connections to a roomchat server, waits until every one is welcomed,
// then holds them open (idle) for --hold_s seconds. Used by bench/idle_connections.sh to measure
// what an idle connection costs the server.
//
//   bazel run -c opt //bench:hold_connections -- --connections=10000 --hold_s=10
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "gflags/gflags.h"

DEFINE_string(host, "127.0.0.1", "Server address (an IPv4 literal; loopback by default).");
DEFINE_int32(port, 7070, "Server port.");
DEFINE_int32(connections, 10000, "Connections to open and hold.");
DEFINE_double(hold_s, 10, "Seconds to hold them once all are welcomed.");
DEFINE_double(timeout_s, 60, "Give up if not all are welcomed by then.");

namespace {

void RaiseFileLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

int Run() {
  RaiseFileLimit();
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(FLAGS_port));
  if (inet_pton(AF_INET, FLAGS_host.c_str(), &address.sin_addr) != 1) {
    std::fprintf(stderr, "hold_connections: --host must be an IPv4 address\n");
    return 2;
  }
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  std::vector<int> fds;
  std::vector<std::string> received(FLAGS_connections);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < FLAGS_connections; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      std::perror("hold_connections: connect");
      return 2;
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
    fds.push_back(fd);
  }
  int welcomed = 0;
  std::vector<epoll_event> events(1024);
  auto deadline = start + std::chrono::duration<double>(FLAGS_timeout_s);
  while (welcomed < FLAGS_connections && std::chrono::steady_clock::now() < deadline) {
    int ready = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 100);
    for (int i = 0; i < ready; ++i) {
      uint32_t index = events[i].data.u32;
      char buffer[512];
      ssize_t n = read(fds[index], buffer, sizeof(buffer));
      if (n <= 0) {
        std::fprintf(stderr, "hold_connections: connection %u closed: %s\n", index,
                     received[index].c_str());
        return 1;
      }
      received[index].append(buffer, static_cast<size_t>(n));
      if (absl::StartsWith(received[index], "WELCOME ") &&
          received[index].find('\n') != std::string::npos) {
        ++welcomed;
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fds[index], nullptr);
        std::string().swap(received[index]);
      }
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("holding %d connections (welcomed in %.2f s)\n", welcomed, seconds);
  std::fflush(stdout);
  if (welcomed < FLAGS_connections) return 1;
  std::this_thread::sleep_for(std::chrono::duration<double>(FLAGS_hold_s));
  for (int fd : fds) close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return Run();
}
