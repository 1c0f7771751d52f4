#include "chat/places/member_io.h"

#include <sys/epoll.h>

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

constexpr uint32_t kMemberEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

}  // namespace

MemberIo::MemberIo(EventLoop* loop, Handler* handler, const Options& options)
    : loop_(loop),
      handler_(handler),
      options_(options),
      pacer_(kStallAfter),
      read_scratch_(new char[kReadChunk]) {
  housekeeping_due_ = Clock::now() + std::chrono::seconds(1);
  housekeeping_ = loop_->RunEvery(std::chrono::seconds(1), [this] { Housekeeping(); });
}

MemberIo::~MemberIo() = default;

Clock::time_point MemberIo::RunRound() {
  TakeInput();
  FinishDepartures();
  Flush();
  FinishDepartures();
  Clock::time_point now = loop_->now();
  if (flush_pending_) return now;
  if (ready_.empty()) return Clock::time_point::max();
  // The flush may have drained the members that held input back.
  if (options_.input_waits_for_all && pacer_.InputPaused(now)) return pacer_.PauseRecheck(now);
  return now;
}

void MemberIo::Shutdown(DepartureReason reason) {
  DepartAll(reason);
  FinishDepartures();
  std::vector<ClientId> lingering;
  for (const auto& [id, entry] : lingering_) lingering.push_back(id);
  for (ClientId id : lingering) CloseLingering(id);
  loop_->Cancel(housekeeping_);
}

Connection& MemberIo::Add(std::unique_ptr<Connection> connection) {
  Connection& added = members_.Add(std::move(connection));
  options_.metrics->members.fetch_add(1, std::memory_order_relaxed);
  added.loop_state().queued = false;
  added.loop_state().tracked = false;
  absl::Status watched = loop_->Watch(added.fd(), kMemberEvents, added.id(), this);
  if (!watched.ok()) {
    LOG(ERROR) << loop_->name() << ": cannot watch client " << added.id() << ": " << watched;
    Depart(added, {DepartureReason::kIoError, std::string(watched.message())});
    return added;
  }
  if (added.output().above_high_water()) NoteCrossing(added);
  Enqueue(added);
  return added;
}

std::unique_ptr<Connection> MemberIo::Detach(ClientId id) {
  std::unique_ptr<Connection> connection = members_.Remove(id);
  if (connection == nullptr) return nullptr;
  options_.metrics->members.fetch_sub(1, std::memory_order_relaxed);
  loop_->Unwatch(connection->fd(), id);
  pacer_.Forget(id);
  connection->loop_state().queued = false;
  connection->loop_state().tracked = false;
  connection->set_catching_up(false);
  return connection;
}

void MemberIo::Depart(Connection& member, Departure departure) {
  if (member.departure()) return;
  member.MarkDeparting(std::move(departure));
  departing_.push_back(member.id());
}

void MemberIo::Resume(Connection& member) {
  member.set_input_on_hold(false);
  Enqueue(member);
}

void MemberIo::DepartAll(DepartureReason reason) {
  members_.ForEach([this, reason](Connection& member) { Depart(member, {reason, ""}); });
}

void MemberIo::OnIo(uint64_t key, uint32_t events) {
  if (lingering_.contains(key)) return FlushLingering(key);
  Connection* member = members_.Find(key);
  if (member == nullptr) return;
  Connection::LoopState& state = member->loop_state();
  if (events & EPOLLOUT) state.writable = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) state.hung_up = true;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    state.readable = true;
    Enqueue(*member);
  }
}

void MemberIo::Enqueue(Connection& member) {
  Connection::LoopState& state = member.loop_state();
  if (state.queued) return;
  state.queued = true;
  ready_.push_back(member.id());
  // Its input waits at the server from now until read: the flood guard forgives the wait.
  member.flood().Backlogged(loop_->now());
}

void MemberIo::TakeInput() {
  input_paused_ = options_.input_waits_for_all && pacer_.InputPaused(loop_->now());
  round_output_ = 0;
  // One turn for each member queued when the round began; a member with more queues again.
  for (size_t turns = ready_.size();
       turns > 0 && !ready_.empty() && !input_paused_ && round_output_ < kRoundOutputBudget;
       --turns) {
    ClientId id = ready_.front();
    ready_.pop_front();
    Connection* member = members_.Find(id);
    if (member == nullptr || !member->loop_state().queued) continue;  // moved away meanwhile
    member->loop_state().queued = false;
    if (TakeTurn(*member) != Turn::kMore) continue;
    member->loop_state().queued = true;
    // Stopped by a pause or the budget: it keeps its place at the head of the queue.
    if (input_paused_ || round_output_ >= kRoundOutputBudget) {
      ready_.push_front(id);
    } else {
      ready_.push_back(id);
    }
  }
}

MemberIo::Turn MemberIo::TakeTurn(Connection& member) {
  const ClientId id = member.id();
  for (int frames = 0; frames < kFramesPerTurn; ++frames) {
    if (member.departure()) return Turn::kGone;
    const std::optional<Departure>& send_failed = member.loop_state().send_failed;
    // Queued again by Resume() when the answer comes (or fails: the link's timeout bounds it),
    // even once its sends failed: what it sent after the command that waits is handled then.
    if (member.input_on_hold()) return Turn::kBlocked;
    if (!send_failed) {  // its output goes nowhere once a send failed
      if (member.output().overflowed()) {
        Depart(member, {DepartureReason::kOutputLimit, "unsent output passed the hard cap"});
        return Turn::kGone;
      }
      if (member.output().above_high_water()) {
        NoteCrossing(member);  // queued again once its output drains
        return Turn::kBlocked;
      }
    }
    if (input_paused_ || round_output_ >= kRoundOutputBudget) return Turn::kMore;
    std::optional<Frame> frame = member.NextFrame();
    if (!frame) {
      if (member.input_ended()) {
        Depart(member, send_failed ? *send_failed : Departure{DepartureReason::kEndOfInput, ""});
        return Turn::kGone;
      }
      if (!ReadSome(member)) {
        if (member.departure()) return Turn::kGone;
        if (send_failed) {  // what it sent before it went has been handled
          Depart(member, *send_failed);
          return Turn::kGone;
        }
        member.flood().CaughtUp(loop_->now());  // its waiting lines no longer count as late
        return Turn::kIdle;
      }
      continue;
    }
    member.NoteLine(loop_->now());
    PlaceMetrics::Add(options_.metrics->lines_received);
    handler_->OnFrame(member, *frame);
    // The handler may have moved the member to another thread: it must not be touched then.
    if (members_.Find(id) != &member) return Turn::kGone;
  }
  return Turn::kMore;
}

bool MemberIo::ReadSome(Connection& member) {
  Connection::LoopState& state = member.loop_state();
  if (!state.readable) return false;
  absl::StatusOr<Transport::ReadResult> read =
      member.ReadOnce(read_scratch_.get(), kReadChunk, loop_->now());
  if (!read.ok()) {
    state.readable = false;
    if (absl::IsAborted(read.status())) {
      Depart(member, {DepartureReason::kPeerClosed, "reset"});
    } else {
      Depart(member, {DepartureReason::kIoError, std::string(read.status().message())});
    }
    return false;
  }
  switch (read->kind) {
    case Transport::ReadResult::Kind::kWouldBlock: state.readable = false; return false;
    case Transport::ReadResult::Kind::kEndOfInput:
      state.readable = false;
      state.input_ended = true;
      return true;  // the buffered lines, and a last line without LF, are still handled
    case Transport::ReadResult::Kind::kData:
      PlaceMetrics::Add(options_.metrics->bytes_in, read->bytes);
      // Edge-triggered: a short read emptied the socket, and new bytes will raise a new event;
      // an end of input already announced raises none, so it is read now.
      if (read->bytes < kReadChunk && !state.hung_up) state.readable = false;
      return true;
  }
  return false;
}

void MemberIo::NoteCrossing(Connection& member) {
  Connection::LoopState& state = member.loop_state();
  if (state.tracked || state.send_failed) return;
  state.tracked = true;
  pacer_.Track(member.id(), member.output().last_drain());
  if (options_.input_waits_for_all && !input_paused_) {
    input_paused_ = pacer_.InputPaused(loop_->now());
  }
}

void MemberIo::Send(Connection& member, absl::string_view lines) {
  round_output_ += lines.size();
  if (member.Send(lines, loop_->now())) NoteCrossing(member);
}

void MemberIo::SendToAll(ClientId except, absl::string_view lines) {
  Fanout(except, lines, nullptr);
}

void MemberIo::SendChatToAll(ClientId except, absl::string_view lines,
                             absl::FunctionRef<std::string()> tagged_lines,
                             const absl::flat_hash_set<ClientId>* had_it) {
  Fanout(except, lines, &tagged_lines, had_it);
}

// `tagged_lines` is null for lines that are the same for everyone (events); otherwise the lines
// are chat, skipped for members catching up and tagged for members that asked.
void MemberIo::Fanout(ClientId except, absl::string_view lines,
                      absl::FunctionRef<std::string()>* tagged_lines,
                      const absl::flat_hash_set<ClientId>* had_it) {
  Clock::time_point started = Clock::now();
  Broadcast broadcast(lines);
  std::string tagged_text;
  std::optional<Broadcast> tagged;
  Clock::time_point now = loop_->now();
  uint64_t deliveries = 0;
  members_.ForEach([&](Connection& member) {
    if (member.id() == except || member.departure()) return;
    absl::string_view encoded;
    if (tagged_lines != nullptr && member.catching_up()) return;
    if (had_it != nullptr && had_it->contains(member.id())) return;
    if (tagged_lines != nullptr && member.caps().Has(Cap::kTags)) {
      if (!tagged) {
        tagged_text = (*tagged_lines)();
        tagged.emplace(tagged_text);
      }
      encoded = tagged->For(member.codec());
    } else {
      encoded = broadcast.For(member.codec());
    }
    round_output_ += encoded.size();
    ++deliveries;
    if (member.SendEncoded(encoded, now)) NoteCrossing(member);
  });
  pacer_.CountLine();
  PlaceMetrics::Add(options_.metrics->deliveries, deliveries);
  options_.metrics->fanout.Observe(Clock::now() - started);
}

void MemberIo::FinishDepartures() {
  while (!departing_.empty()) {
    std::vector<ClientId> departing;
    departing.swap(departing_);
    for (ClientId id : departing) {
      std::unique_ptr<Connection> connection = Detach(id);
      if (connection == nullptr) continue;
      handler_->OnDeparture(*connection, *connection->departure());
      connection->EndOutput(loop_->now());
      Retire(std::move(connection));
    }
  }
}

void MemberIo::Retire(std::unique_ptr<Connection> connection) {
  DepartureReason reason = connection->departure()->reason;
  bool worth_waiting = reason != DepartureReason::kOutputLimit &&
                       reason != DepartureReason::kPeerClosed &&
                       reason != DepartureReason::kIoError && reason != DepartureReason::kShutdown;
  if (worth_waiting && !connection->output().empty()) {
    bool blocked;
    connection->Flush(connection->output().unsent(), loop_->now(), &blocked).IgnoreError();
    if (blocked) return handler_->OnUnsentAtDeparture(std::move(connection));
  }
  connection->FinishOutput(loop_->now());
}

void MemberIo::Flush() {
  if (!members_.PassStarted() || members_.PassDone()) {
    if (pass_gap_ != 0) return;  // a slow pass just ended: lines gather until the timer fires
    members_.RestartPass();
    pacer_.StartPass(loop_->now());
  }
  size_t sends = 0;
  while (sends < kSendsPerRound) {
    Connection* member = members_.NextInPass();
    if (member == nullptr) break;
    FlushMember(*member, &sends);
  }
  // Stopped at the budget: others may still wait, so the next round does not block.
  flush_pending_ = sends >= kSendsPerRound && !members_.PassDone();
  if (members_.PassDone()) EndPass();
}

void MemberIo::FlushMember(Connection& member, size_t* sends) {
  if (member.departure()) return;
  if (member.output().overflowed()) {
    return Depart(member, {DepartureReason::kOutputLimit, "unsent output passed the hard cap"});
  }
  Connection::LoopState& state = member.loop_state();
  if (member.output().empty() || !state.writable || state.send_failed) return;
  ++*sends;
  size_t before = member.output().unsent();
  bool blocked;
  absl::Status flushed = member.Flush(kWriteChunk, loop_->now(), &blocked);
  size_t sent = before - member.output().unsent();
  pacer_.CountSend(sent);
  PlaceMetrics::Add(options_.metrics->bytes_out, sent);
  if (absl::IsAborted(flushed)) return SendFailed(member, {DepartureReason::kPeerClosed, "reset"});
  if (!flushed.ok()) {
    return SendFailed(member, {DepartureReason::kIoError, std::string(flushed.message())});
  }
  if (blocked) state.writable = false;
  if (sent > 0 && state.tracked &&
      pacer_.Drained(member.id(), member.output().above_high_water(), loop_->now())) {
    state.tracked = false;
    Enqueue(member);  // its input may have waited for this
  }
  DepartIfOutputStuck(member);
}

void MemberIo::SendFailed(Connection& member, Departure departure) {
  Connection::LoopState& state = member.loop_state();
  state.send_failed = std::move(departure);
  state.writable = false;
  if (state.tracked) {  // its output never drains: it must not hold the room's input back
    state.tracked = false;
    pacer_.Forget(member.id());
  }
  // Read on until EOF or the error: a client's last line and its close (or reset) come together,
  // and this send may have come first.
  state.readable = true;
  state.hung_up = true;
  Enqueue(member);
}

void MemberIo::EndPass() {
  const Clock::time_point now = Clock::now();
  Clock::duration gap =
      pacer_.EndPass(now, [this, now] { return core_wait_.ShareSinceLastAsked(now); });
  if (gap > Clock::duration::zero()) {
    pass_gap_ = loop_->RunAfter(gap, [this] { pass_gap_ = 0; });
  }
}

void MemberIo::Housekeeping() {
  Clock::time_point now = loop_->now();
  options_.metrics->loop_lag.Observe(now - housekeeping_due_);
  housekeeping_due_ = now + std::chrono::seconds(1);
  members_.ForEach([this, now](Connection& member) {
    if (member.departure()) return;
    if (options_.idle_timeout.count() > 0 &&
        now - member.last_activity() >= options_.idle_timeout) {
      Depart(member, {DepartureReason::kIdleTimeout,
                      absl::StrCat("no line received for ", options_.idle_timeout.count(), " s")});
    } else {
      DepartIfOutputStuck(member);
    }
  });
}

void MemberIo::DepartIfOutputStuck(Connection& member) {
  if (!member.output().Stuck(loop_->now())) return;
  Depart(member, {DepartureReason::kOutputLimit,
                  absl::StrCat(member.output().unsent(), " bytes unsent past the soft cap")});
}

void MemberIo::Linger(std::unique_ptr<Connection> connection) {
  ClientId id = connection->id();
  if (!loop_->Watch(connection->fd(), EPOLLOUT | EPOLLET, id, this).ok()) {
    return connection->FinishOutput(loop_->now());
  }
  EventLoop::TimerId deadline = loop_->RunAfter(kLinger, [this, id] { CloseLingering(id); });
  lingering_.emplace(id, Lingering{std::move(connection), deadline});
}

void MemberIo::FlushLingering(ClientId id) {
  Connection& connection = *lingering_.at(id).connection;
  bool blocked;
  absl::Status flushed = connection.Flush(connection.output().unsent(), loop_->now(), &blocked);
  if (!flushed.ok() || connection.output().empty()) CloseLingering(id);
}

void MemberIo::CloseLingering(ClientId id) {
  auto it = lingering_.find(id);
  if (it == lingering_.end()) return;
  std::unique_ptr<Connection> connection = std::move(it->second.connection);
  loop_->Cancel(it->second.deadline);
  lingering_.erase(it);
  loop_->Unwatch(connection->fd(), id);
  if (!connection->output().empty()) {
    LOG(INFO) << "client " << id << " (" << connection->peer() << ") closed with "
              << connection->output().unsent() << " bytes it did not read in time";
  }
  connection->FinishOutput(loop_->now());
}

}  // namespace roomchat
