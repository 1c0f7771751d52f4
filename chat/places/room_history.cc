// Room: what it does with history (room.h says how). The rest of Room is in room.cc.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "chat/places/room.h"
#include "chat/protocol/caps.h"
#include "chat/protocol/protocol_error.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

// Lines a room loads as it opens (at least --history_on_join), and a page of a catch-up.
constexpr size_t kLoadLines = 256;
constexpr size_t kPageLines = 256;
// /history without N, and the most N may ask for.
constexpr size_t kDefaultHistoryLines = 50;
constexpr size_t kMaxHistoryLines = 500;
// How often members catching up are given their next page (when their output has drained).
constexpr std::chrono::milliseconds kCatchUpEvery{5};

std::string FormatHistoryLine(absl::string_view room, bool tagged, uint64_t id, int64_t time_ms,
                              absl::string_view nick, absl::string_view text) {
  std::string line = replies::Msg(room, nick, text);
  return tagged ? absl::StrCat(replies::Tags(id, time_ms, /*history=*/true), line) : line;
}

HistoryLine ToHistoryLine(StoredLine stored) {
  return HistoryLine{stored.id, stored.time_ms, std::move(stored.nick), std::move(stored.text)};
}

}  // namespace

uint64_t Room::NextId(int64_t unix_us) {
  last_id_ = std::max(last_id_ + 1, static_cast<uint64_t>(std::max<int64_t>(unix_us, 0)));
  return last_id_;
}

void Room::OnStart() {
  LoadSettings();
  if (!has_history()) return;
  HoldArrivals();
  size_t load = std::max(kLoadLines, context().history_on_join);
  context().history->LoadRoom(
      room_key_, load,
      InLoop<HistoryDb::RoomState>([](Room& room, absl::StatusOr<HistoryDb::RoomState> state) {
        room.OnLoaded(std::move(state));
      }));
}

void Room::OnLoaded(absl::StatusOr<HistoryDb::RoomState> state) {
  if (!state.ok()) {
    LOG(ERROR) << "history: room " << room_name() << " opens without its history: "
               << state.status();
  } else {
    // A last id past what the protocol allows (a damaged or hand-edited store) is not followed:
    // ids would leave JavaScript's exact range and every line of the room would fail to store.
    constexpr uint64_t kIdLimit = uint64_t{1} << 53;
    if (state->last_id < kIdLimit / 2) {
      last_id_ = std::max(last_id_, state->last_id);
    } else {
      LOG(ERROR) << "history: room " << room_name() << " has a stored last id of "
                 << state->last_id << ", past what ids may reach; its ids follow the clock";
    }
    // Older lines may be in the store when it gave all that was asked; lines retention deleted
    // are gone, and a since= before them must hear of the gap from the store.
    bool all_held = state->recent.size() < std::max(kLoadLines, context().history_on_join);
    uint64_t covers_after = state->trimmed_to;
    if (!all_held) covers_after = std::max(covers_after, state->recent.front().id - 1);
    std::vector<HistoryLine> lines;
    lines.reserve(state->recent.size());
    for (StoredLine& stored : state->recent) lines.push_back(ToHistoryLine(std::move(stored)));
    recent_.Load(std::move(lines), covers_after);
  }
  history_loaded_ = true;
  if (in_cluster()) DeliverLoadedEntries();
  ReleaseArrivals();
}

std::string Room::HistoryText(const Connection& member, const HistoryLine& line) const {
  return FormatHistoryLine(room_name(), member.caps().Has(Cap::kTags), line.id, line.time_ms,
                           line.nick, line.text);
}

size_t Room::SendNewestThatFit(Connection& member, const std::vector<const HistoryLine*>& lines) {
  std::vector<std::string> texts;
  size_t bytes = 0;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    std::string text = HistoryText(member, **it);
    if (!texts.empty() && bytes + text.size() > context().history_reply_bytes) break;
    bytes += text.size();
    texts.push_back(std::move(text));
  }
  std::string out;
  out.reserve(bytes);
  for (auto it = texts.rbegin(); it != texts.rend(); ++it) out += *it;
  if (!out.empty()) io().Send(member, out);
  return texts.size();
}

void Room::AgeRecentLines() {
  if (context().history_retention_ms == 0) return;
  recent_.DropOlderThan(absl::ToUnixMillis(absl::Now()) - context().history_retention_ms);
}

void Room::Replay(Connection& member, uint64_t before_id) {
  if (!has_history() || context().history_on_join == 0) return;
  AgeRecentLines();
  SendNewestThatFit(member, recent_.Newest(context().history_on_join, before_id));
}

void Room::OnHistory(Connection& member, const Command& command) {
  if (!has_history()) {
    return SendError(member,
                     ProtocolError(ErrorCode::kUnavailable, "history is off on this server"));
  }
  size_t count = command.count == 0 ? kDefaultHistoryLines
                                    : std::min(command.count, kMaxHistoryLines);
  AgeRecentLines();
  std::vector<const HistoryLine*> lines = recent_.Newest(count, command.before_id);
  if (lines.size() < count && recent_.covers_after() != 0) {
    return HistoryFromStore(member, count, command.before_id);
  }
  size_t sent = SendNewestThatFit(member, lines);
  io().Send(member, replies::Ok(Command::Kind::kHistory, room_name(), absl::StrCat(sent)));
}

// The member's next commands wait until the answer is in, so replies stay in order.
void Room::HistoryFromStore(Connection& member, size_t count, uint64_t before_id) {
  member.set_input_on_hold(true);
  ClientId id = member.id();
  history_reads_.insert(id);
  context().history->ReadBefore(
      room_key_, before_id, count,
      InLoop<std::vector<StoredLine>>(
          [id](Room& room, absl::StatusOr<std::vector<StoredLine>> lines) {
            room.OnHistoryPage(id, std::move(lines));
          }));
}

void Room::OnHistoryPage(ClientId id, absl::StatusOr<std::vector<StoredLine>> lines) {
  // Gone meanwhile, or kicked (and maybe back with no read pending).
  if (history_reads_.erase(id) == 0) return;
  Connection* member = io().Find(id);
  if (member == nullptr) return;
  if (!lines.ok()) {
    LOG(ERROR) << "history: cannot read room " << room_name() << ": " << lines.status();
    SendError(*member, ProtocolError(ErrorCode::kUnavailable, "history cannot be read now"));
    return io().Resume(*member);
  }
  std::vector<HistoryLine> held;
  held.reserve(lines->size());
  for (StoredLine& line : *lines) held.push_back(ToHistoryLine(std::move(line)));
  std::vector<const HistoryLine*> pointers;
  for (const HistoryLine& line : held) pointers.push_back(&line);
  size_t sent = SendNewestThatFit(*member, pointers);
  io().Send(*member, replies::Ok(Command::Kind::kHistory, room_name(), absl::StrCat(sent)));
  io().Resume(*member);
}

void Room::StartCatchUp(Connection& member, uint64_t since_id) {
  if (!has_history()) return;
  AgeRecentLines();
  member.set_catching_up(true);
  CatchUp& state = catching_up_[member.id()] = CatchUp{since_id, false};
  ContinueCatchUp(member, state);
  if (!catching_up_.empty() && catch_up_timer_ == 0) {
    catch_up_timer_ = loop().RunEvery(kCatchUpEvery, [this] { CatchUpTick(); });
  }
}

void Room::ContinueCatchUp(Connection& member, CatchUp& state) {
  const size_t budget = context().history_reply_bytes;
  if (state.waiting_for_store || member.output().unsent() > budget / 2) return;
  if (state.after_id < recent_.covers_after()) {
    state.waiting_for_store = true;
    ClientId id = member.id();
    uint64_t after = state.after_id;
    return context().history->ReadAfter(
        room_key_, after, kPageLines,
        InLoop<HistoryDb::Page>([id, after](Room& room, absl::StatusOr<HistoryDb::Page> page) {
          room.OnCatchUpPage(id, after, std::move(page));
        }));
  }
  std::vector<const HistoryLine*> lines = recent_.After(state.after_id);
  std::string out;
  size_t sent = 0;
  for (const HistoryLine* line : lines) {
    std::string text = HistoryText(member, *line);
    if (!out.empty() && out.size() + text.size() > budget) break;
    out += text;
    state.after_id = line->id;
    ++sent;
  }
  if (!out.empty()) io().Send(member, out);
  if (sent == lines.size()) {  // caught up: live lines from here on
    member.set_catching_up(false);
    catching_up_.erase(member.id());
  }
}

void Room::OnCatchUpPage(ClientId id, uint64_t after, absl::StatusOr<HistoryDb::Page> page) {
  auto it = catching_up_.find(id);
  Connection* member = io().Find(id);
  if (it == catching_up_.end() || it->second.after_id != after || !it->second.waiting_for_store) {
    return;  // a page for a catch-up that has ended
  }
  CatchUp& state = it->second;
  state.waiting_for_store = false;
  if (member == nullptr || !member->catching_up()) {
    catching_up_.erase(it);
    return;
  }
  if (!page.ok()) {
    LOG(ERROR) << "history: cannot read room " << room_name() << ": " << page.status();
    SendError(*member, ProtocolError(ErrorCode::kUnavailable, "history cannot be read now"));
    state.after_id = recent_.covers_after();  // what memory holds is still sent
    return ContinueCatchUp(*member, state);
  }
  if (!state.gap_checked) {
    state.gap_checked = true;
    if (page->trimmed_to > after) {
      uint64_t first_held = 0;
      if (!page->lines.empty()) {
        first_held = page->lines.front().id;
      } else if (std::vector<const HistoryLine*> held = recent_.After(after); !held.empty()) {
        first_held = held.front()->id;
      }
      SendError(*member, ProtocolError(ErrorCode::kHistoryGap,
                                       absl::StrCat(first_held,
                                                    " is the first line still held; the lines "
                                                    "between are no longer kept")));
    }
  }
  std::string out;
  for (const StoredLine& line : page->lines) {
    if (line.id <= state.after_id) continue;
    std::string text = FormatHistoryLine(room_name(), member->caps().Has(Cap::kTags), line.id,
                                         line.time_ms, line.nick, line.text);
    if (!out.empty() && out.size() + text.size() > context().history_reply_bytes) break;
    out += text;
    state.after_id = line.id;
  }
  if (!out.empty()) io().Send(*member, out);
  // Nothing newer in the store than memory's start: lines in between were left out of the store
  // (the disk fell behind, logged); go on from what memory holds.
  if (page->lines.empty()) state.after_id = std::max(state.after_id, recent_.covers_after());
  ContinueCatchUp(*member, state);
}

void Room::CatchUpTick() {
  std::vector<ClientId> ids;
  for (const auto& [id, state] : catching_up_) ids.push_back(id);
  for (ClientId id : ids) {
    auto it = catching_up_.find(id);
    if (it == catching_up_.end()) continue;
    Connection* member = io().Find(id);
    if (member == nullptr || !member->catching_up() || member->departure()) {
      catching_up_.erase(it);
      continue;
    }
    ContinueCatchUp(*member, it->second);
  }
  if (catching_up_.empty()) {
    loop().Cancel(catch_up_timer_);
    catch_up_timer_ = 0;
  }
}

}  // namespace roomchat
