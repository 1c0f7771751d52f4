#include "chat/loop/poll_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

// The eventfd's tag in epoll; client ids start at 1.
constexpr uint64_t kWakeId = 0;

}  // namespace

absl::StatusOr<std::unique_ptr<PollLoop>> PollLoop::Create(std::string name, Handler* handler,
                                                           std::chrono::seconds idle_timeout) {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return ErrnoStatus("epoll_create1");
  absl::StatusOr<UniqueFd> wake = MakeEventFd();
  if (!wake.ok()) return wake.status();
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeId;
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake->get(), &event) != 0) {
    return ErrnoStatus("epoll_ctl");
  }
  return std::unique_ptr<PollLoop>(
      new PollLoop(std::move(name), handler, idle_timeout, std::move(epoll), *std::move(wake)));
}

PollLoop::PollLoop(std::string name, Handler* handler, std::chrono::seconds idle_timeout,
                   UniqueFd epoll, UniqueFd wake)
    : name_(std::move(name)),
      handler_(handler),
      idle_timeout_(idle_timeout),
      epoll_fd_(std::move(epoll)),
      wake_fd_(std::move(wake)),
      events_(kMaxEventsPerWait),
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
  DCHECK(loop_thread_ == std::this_thread::get_id()) << name_ << ": called off its loop thread";
}

bool PollLoop::stopping() const {
  AssertInLoopThread();
  return stopping_;
}

void PollLoop::Run() {
  loop_thread_ = std::this_thread::get_id();
  now_ = Clock::now();
  next_housekeeping_ = now_ + std::chrono::seconds(1);
  while (!stopping_) RunRound();
  // Work that raced with the stop: tasks posted meanwhile, and the departures they cause.
  RunPendingTasks();
  FinishDepartures();
}

void PollLoop::RunRound() {
  rounds_.fetch_add(1, std::memory_order_relaxed);
  int64_t timeout_ns = WaitTimeoutNs();
  timespec timeout{static_cast<time_t>(timeout_ns / 1000000000),
                   static_cast<long>(timeout_ns % 1000000000)};
  int ready = ::epoll_pwait2(epoll_fd_.get(), events_.data(), static_cast<int>(events_.size()),
                             &timeout, nullptr);
  if (ready < 0 && errno != EINTR) PLOG(ERROR) << name_ << ": epoll_wait";
  now_ = Clock::now();
  for (int i = 0; i < ready; ++i) {
    if (events_[i].data.u64 == kWakeId) {
      DrainWakeFd();
      continue;
    }
    // Only the client being served can be removed while serving it; look each one up afresh.
    Client* client = Find(events_[i].data.u64);
    if (client != nullptr && !client->departure()) ServiceClient(*client, events_[i].events);
  }
  RunPendingTasks();
  if (now_ >= next_housekeeping_) Housekeeping();
  FinishDepartures();
  FlushClients();
}

int64_t PollLoop::WaitTimeoutNs() const {
  if (!departing_.empty() || flush_pending_) return 0;
  // After a slow pass, the lines that arrived during it wait for the next one.
  Clock::time_point wake =
      next_pass_ > now_ ? std::min(next_pass_, next_housekeeping_) : next_housekeeping_;
  auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(wake - Clock::now());
  return std::max<int64_t>(0, wait.count());
}

void PollLoop::Watch(Client& client, int operation) {
  epoll_event event{};
  event.events = EPOLLIN | (client.wants_write() ? EPOLLOUT : 0);
  event.data.u64 = client.id();
  if (::epoll_ctl(epoll_fd_.get(), operation, client.fd(), &event) != 0) {
    // Only a closed or invalid socket gets here; the client cannot be served, so it leaves.
    PLOG(ERROR) << name_ << ": epoll_ctl for client " << client.id();
    if (operation != EPOLL_CTL_DEL && !client.departure()) {
      Depart(client, {DepartureReason::kIoError, "epoll_ctl"});
    }
  }
}

void PollLoop::SetWantsWrite(Client& client, bool wants) {
  if (client.wants_write() == wants) return;
  client.set_wants_write(wants);
  Watch(client, EPOLL_CTL_MOD);
}

void PollLoop::ServiceClient(Client& client, uint32_t events) {
  // Writable again: FlushClients() sends the rest this round.
  if (events & EPOLLOUT) SetWantsWrite(client, false);
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) return;
  absl::StatusOr<Client::ReadOutcome> read = client.ReadOnce(read_scratch_.get(), kReadChunk);
  if (!read.ok()) {
    Depart(client, {DepartureReason::kIoError, std::string(read.status().message())});
    return;
  }
  switch (*read) {
    case Client::ReadOutcome::kData: return ProcessInput(client.id());
    case Client::ReadOutcome::kWouldBlock: return;
    case Client::ReadOutcome::kPeerClosed:
      return Depart(client, {DepartureReason::kPeerClosed, ""});
    case Client::ReadOutcome::kPeerReset:
      return Depart(client, {DepartureReason::kPeerClosed, "reset"});
  }
}

void PollLoop::ProcessInput(ClientId id) {
  AssertInLoopThread();
  while (true) {
    Client* client = Find(id);  // The handler may have moved it away.
    if (client == nullptr || client->departure()) return;
    std::optional<Frame> frame = client->framer().Next();
    if (!frame) return;
    client->NoteLine(now_);
    ++pass_frames_;
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

void PollLoop::Housekeeping() {
  next_housekeeping_ = now_ + std::chrono::seconds(1);
  for (auto& [id, client] : clients_) {
    if (client->departure()) continue;
    if (idle_timeout_.count() > 0 && now_ - client->last_activity() >= idle_timeout_) {
      Depart(*client, {DepartureReason::kIdleTimeout,
                       absl::StrCat("no line received for ", idle_timeout_.count(), " s")});
    } else {
      DepartIfOutputStuck(*client);
    }
  }
}

void PollLoop::DepartIfOutputStuck(Client& client) {
  if (!client.OutputStuck(now_)) return;
  Depart(client, {DepartureReason::kOutputLimit,
                  absl::StrCat(client.unsent_bytes(), " bytes unsent past the soft cap")});
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
  size_t sends = 0;
  size_t count = flush_order_.size();
  if (flush_cursor_ == 0 || flush_cursor_ >= count) {
    if (now_ < next_pass_) return;  // a slow pass just ended: let lines gather
    flush_cursor_ = 0;
    pass_started_ = now_;
    pass_sends_ = 0;
    pass_bytes_ = 0;
    pass_frames_ = 0;
  }
  for (size_t visited = 0; visited < count && sends < kSendsPerRound; ++visited) {
    if (flush_cursor_ >= count) break;
    Client& client = *flush_order_[flush_cursor_++];
    if (client.departure()) continue;
    if (client.output_overflowed()) {
      Depart(client, {DepartureReason::kOutputLimit, "unsent output passed the hard cap"});
      continue;
    }
    if (!client.has_output() || client.wants_write()) continue;
    ++sends;
    size_t unsent = client.unsent_bytes();
    absl::Status flushed = client.Flush(kWriteChunk);
    pass_bytes_ += unsent - client.unsent_bytes();
    if (absl::IsAborted(flushed)) {
      Depart(client, {DepartureReason::kPeerClosed, "reset"});
      continue;
    }
    if (!flushed.ok()) {
      Depart(client, {DepartureReason::kIoError, std::string(flushed.message())});
      continue;
    }
    SetWantsWrite(client, client.has_output());
    DepartIfOutputStuck(client);
  }
  // Stopped at the budget: others may still wait, so the next round does not block.
  flush_pending_ = sends >= kSendsPerRound && flush_cursor_ < count;
  pass_sends_ += sends;
  if (flush_cursor_ >= count) EndPass();
}

void PollLoop::EndPass() {
  flush_cursor_ = 0;
  Clock::time_point now = Clock::now();
  auto took = now - pass_started_;
  bool small_sends = pass_sends_ > 0 && pass_bytes_ / pass_sends_ < kSmallSend;
  bool behind = pass_frames_ > 0 && took >= kSlowPass && small_sends;
  // No gap: a time already past, so nothing waits for it.
  next_pass_ = behind ? now + std::min<Clock::duration>(took, kMaxPassGap) : Clock::time_point();
}

void PollLoop::Add(std::unique_ptr<Client> client) {
  AssertInLoopThread();
  ClientId id = client->id();
  Client& added = *client;
  clients_.emplace(id, std::move(client));
  flush_order_.push_back(&added);
  Watch(added, EPOLL_CTL_ADD);
}

std::unique_ptr<Client> PollLoop::Remove(ClientId id) {
  AssertInLoopThread();
  auto it = clients_.find(id);
  if (it == clients_.end()) return nullptr;
  std::unique_ptr<Client> client = std::move(it->second);
  clients_.erase(it);
  auto position = std::find(flush_order_.begin(), flush_order_.end(), client.get());
  size_t index = static_cast<size_t>(position - flush_order_.begin());
  flush_order_.erase(position);
  if (index < flush_cursor_) --flush_cursor_;  // keep the cursor on the same next client
  // A departing client was unwatched by Depart(); one moving on must leave this epoll set now.
  if (!client->departure()) Watch(*client, EPOLL_CTL_DEL);
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
  // Nothing more is read from a departing client.
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, client.fd(), nullptr);
}

}  // namespace roomchat
