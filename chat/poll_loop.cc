#include "chat/poll_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace roomchat {

absl::StatusOr<std::unique_ptr<PollLoop>> PollLoop::Create(std::string name, Handler* handler,
                                                           std::chrono::seconds idle_timeout) {
  absl::StatusOr<UniqueFd> wake = MakeEventFd();
  if (!wake.ok()) return wake.status();
  return std::unique_ptr<PollLoop>(
      new PollLoop(std::move(name), handler, idle_timeout, *std::move(wake)));
}

PollLoop::PollLoop(std::string name, Handler* handler, std::chrono::seconds idle_timeout,
                   UniqueFd wake)
    : name_(std::move(name)),
      handler_(handler),
      idle_timeout_(idle_timeout),
      wake_fd_(std::move(wake)),
      read_scratch_(new char[kReadChunk]) {}

PollLoop::~PollLoop() = default;

void PollLoop::Post(absl::AnyInvocable<void() &&> task) {
  bool was_empty;
  {
    absl::MutexLock lock(&mu_);
    was_empty = pending_.empty();
    pending_.push_back(std::move(task));
  }
  // A non-empty queue means a wake-up is already on its way (the loop drains the eventfd before it
  // swaps the queue out), so one write per batch is enough.
  if (was_empty) {
    uint64_t one = 1;
    ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
    (void)n;  // EAGAIN means the counter is already non-zero: the loop will wake.
  }
}

void PollLoop::Stop() {
  Post([this] {
    stopping_ = true;
    handler_->OnStop();
  });
}

void PollLoop::AssertInLoopThread() const {
  DCHECK(loop_thread_ == std::this_thread::get_id())
      << name_ << ": called off its loop thread";
}

bool PollLoop::stopping() const {
  AssertInLoopThread();
  return stopping_;
}

void PollLoop::Run() {
  loop_thread_ = std::this_thread::get_id();
  next_idle_check_ = Clock::now() + std::chrono::seconds(1);
  while (!stopping_) RunRound();
  // Work that raced with the stop: tasks posted meanwhile, and the departures they cause.
  RunPendingTasks();
  FinishDepartures();
}

void PollLoop::RunRound() {
  RebuildPollSet();
  int ready = ::poll(poll_set_.data(), poll_set_.size(), PollTimeoutMs());
  if (ready < 0 && errno != EINTR) PLOG(ERROR) << name_ << ": poll";
  Clock::time_point now = Clock::now();
  if (ready > 0) {
    if (poll_set_[0].revents != 0) DrainWakeFd();
    for (size_t i = 1; i < poll_set_.size(); ++i) {
      if (poll_set_[i].revents == 0) continue;
      // Only the client being served can be removed while serving it, so the rest stay valid.
      Client* client = Find(poll_ids_[i - 1]);
      if (client != nullptr) ServiceClient(*client, poll_set_[i].revents);
    }
  }
  RunPendingTasks();
  if (idle_timeout_.count() > 0 && now >= next_idle_check_) CheckIdleClients(now);
  FinishDepartures();
  FlushClients();
}

int PollLoop::PollTimeoutMs() const {
  if (!departing_.empty()) return 0;
  if (idle_timeout_.count() == 0) return -1;
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_idle_check_ - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, wait.count()));
}

void PollLoop::RebuildPollSet() {
  poll_set_.clear();
  poll_ids_.clear();
  poll_set_.push_back({wake_fd_.get(), POLLIN, 0});
  for (const auto& [id, client] : clients_) {
    if (client->departure()) continue;
    short events = POLLIN;
    if (client->wants_write()) events |= POLLOUT;
    poll_set_.push_back({client->fd(), events, 0});
    poll_ids_.push_back(id);
  }
}

void PollLoop::ServiceClient(Client& client, short revents) {
  if (revents & POLLOUT) client.set_wants_write(false);  // FlushClients() writes this round.
  if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0) return;
  absl::StatusOr<size_t> read = client.ReadOnce(read_scratch_.get(), kReadChunk, Clock::now());
  if (!read.ok()) {
    if (!absl::IsUnavailable(read.status()) || (revents & POLLERR)) {
      Depart(client, {DepartureReason::kIoError, std::string(read.status().message())});
    }
    return;
  }
  if (*read == 0) {
    Depart(client, {DepartureReason::kPeerClosed, ""});
    return;
  }
  ProcessInput(client.id());
}

void PollLoop::ProcessInput(ClientId id) {
  AssertInLoopThread();
  while (true) {
    Client* client = Find(id);  // The handler may have moved it away.
    if (client == nullptr || client->departure()) return;
    std::optional<Frame> frame = client->framer().Next();
    if (!frame) return;
    handler_->OnFrame(*client, *frame);
  }
}

void PollLoop::RunPendingTasks() {
  std::vector<absl::AnyInvocable<void() &&>> tasks;
  {
    absl::MutexLock lock(&mu_);
    tasks.swap(pending_);
  }
  for (auto& task : tasks) std::move(task)();
}

void PollLoop::DrainWakeFd() {
  uint64_t count;
  ssize_t n = ::read(wake_fd_.get(), &count, sizeof(count));
  (void)n;
}

void PollLoop::CheckIdleClients(Clock::time_point now) {
  next_idle_check_ = now + std::chrono::seconds(1);
  for (auto& [id, client] : clients_) {
    if (now - client->last_activity() >= idle_timeout_) {
      Depart(*client, {DepartureReason::kIdleTimeout,
                       absl::StrCat("nothing received for ", idle_timeout_.count(), " s")});
    }
  }
}

void PollLoop::FinishDepartures() {
  while (!departing_.empty()) {
    std::vector<ClientId> departing;
    departing.swap(departing_);
    for (ClientId id : departing) {
      std::unique_ptr<Client> client = Remove(id);
      if (client == nullptr) continue;
      handler_->OnDeparture(*client, *client->departure());
      client->FinishOutput();
    }
  }
}

void PollLoop::FlushClients() {
  for (auto& [id, client] : clients_) {
    if (client->departure()) continue;
    if (client->output_overflowed()) {
      Depart(*client, {DepartureReason::kOutputLimit, "it stopped reading"});
      continue;
    }
    if (!client->has_output() || client->wants_write()) continue;
    absl::Status flushed = client->Flush(kWriteChunk);
    if (!flushed.ok()) {
      Depart(*client, {DepartureReason::kIoError, std::string(flushed.message())});
      continue;
    }
    client->set_wants_write(client->has_output());
  }
}

void PollLoop::Add(std::unique_ptr<Client> client) {
  AssertInLoopThread();
  ClientId id = client->id();
  clients_.emplace(id, std::move(client));
}

std::unique_ptr<Client> PollLoop::Remove(ClientId id) {
  AssertInLoopThread();
  auto it = clients_.find(id);
  if (it == clients_.end()) return nullptr;
  std::unique_ptr<Client> client = std::move(it->second);
  clients_.erase(it);
  return client;
}

Client* PollLoop::Find(ClientId id) {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second.get();
}

size_t PollLoop::size() const { return clients_.size(); }

void PollLoop::ForEachClient(absl::FunctionRef<void(Client&)> visit) {
  AssertInLoopThread();
  for (auto& [id, client] : clients_) visit(*client);
}

void PollLoop::Depart(Client& client, Departure departure) {
  AssertInLoopThread();
  if (client.departure()) return;
  client.MarkDeparting(std::move(departure));
  departing_.push_back(client.id());
}

}  // namespace roomchat
