// Place: what the lobby and a room have in common. Each place runs one PollLoop on its own thread
// and answers the commands that work anywhere (/nick, /create, /join, /rooms, /who ROOM, /whoami,
// /msg, /ping, /help, /quit); Lobby and Room say what differs: chat lines, /leave, events to the
// others, and how an arriving client is greeted.
//
// Thread contract: the Destination methods (Admit, DeliverPrivate, Stop) are safe from any thread;
// Run() is called once, by the thread that becomes the place's loop thread; everything else runs on
// that thread.
#ifndef ROOMCHAT_CHAT_SERVER_PLACE_H_
#define ROOMCHAT_CHAT_SERVER_PLACE_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/conn/client.h"
#include "chat/protocol/command.h"
#include "chat/protocol/line_framer.h"
#include "chat/loop/poll_loop.h"
#include "chat/server/registry.h"

namespace roomchat {

// What every place shares; const after construction, and every pointer outlives every place.
struct PlaceContext {
  Registry* registry = nullptr;
  Destination* lobby = nullptr;
  // Opens a room called `name` with its thread running, for /create.
  std::function<absl::StatusOr<std::shared_ptr<Destination>>(const std::string& name)> open_room;
  size_t max_line_bytes = 4096;
  std::chrono::seconds idle_timeout{0};
};

class Place : public Destination, private PollLoop::Handler {
 public:
  ~Place() override;

  // Destination; safe from any thread.
  void Admit(std::unique_ptr<Client> client, Admission admission) override;
  void DeliverPrivate(ClientId to, std::string line) override;
  void Stop() override;

  // Runs the loop on the calling thread until Stop() is processed.
  void Run();
  // Safe from any thread: runs `task` on this place's thread.
  void RunInLoop(absl::AnyInvocable<void() &&> task);

 protected:
  // `room_name` is empty for the lobby.
  Place(const PlaceContext& context, std::string room_name);
  // Creates the loop; called once by the subclass's factory, before the place is shared.
  absl::Status Init();

  bool is_room() const { return !room_name_.empty(); }
  const PlaceContext& context() const { return context_; }
  const std::string& room_name() const { return room_name_; }
  PollLoop& loop() { return *loop_; }

  // ---- Loop thread only: what the lobby and a room do differently.
  // `client` arrived; it is in the loop already, its buffered input not yet read.
  virtual void Greet(Client& client, const Admission& admission) = 0;
  virtual void OnChat(Client& client, absl::string_view text) = 0;
  virtual void OnLeave(Client& client) = 0;
  // Sends `line` to every member but `except` (kNobody: to all); the lobby sends nothing.
  static constexpr ClientId kNobody = 0;
  virtual void Announce(ClientId except, absl::string_view line) = 0;
  // The client called `nick` has left this place for another (its LEAVE event, in a room).
  virtual void AnnounceDeparture(absl::string_view nick) = 0;

 private:
  // PollLoop::Handler.
  void OnFrame(Client& client, const Frame& frame) override;
  void OnDeparture(Client& client, const Departure& departure) override;
  void OnStop() override;

  // Applies the client's flood guard to one received line; false if the line is dropped.
  bool PassesFloodGuard(Client& client);
  void Execute(Client& client, const Command& command);
  void DoNick(Client& client, const std::string& nick);
  void DoCreate(Client& client, const std::string& name);
  void DoJoin(Client& client, const std::string& name);
  void DoRooms(Client& client);
  // Tells the operator when --max_rooms or --max_room_members turned a client away.
  void LogIfLimit(const absl::Status& status);
  void DoWho(Client& client, const std::string& name);
  void DoMsg(Client& client, const Command& command);
  void ReceiveAdmission(std::unique_ptr<Client> client, const Admission& admission);
  void ReceivePrivate(ClientId to, const std::string& line);

  // Const after construction.
  const PlaceContext context_;
  const std::string room_name_;
  // Set by Init() before the place is shared; then used by any thread through Post().
  std::unique_ptr<PollLoop> loop_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_SERVER_PLACE_H_
