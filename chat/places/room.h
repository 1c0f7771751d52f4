// Room: one chat room, on its own thread, from /create until its last member leaves.
//
// The room thread owns its members (their sockets and buffers) outright, so fan-out takes no lock:
// a chat line is formatted once and appended to every other member's outbound buffer; the loop
// sends each member everything a round produced in one write. Members arrive and private messages
// come in only through the loop's queue. The registry tells the room to stop when nobody is in it
// or on the way in; the thread then ends and the room is forgotten.
//
// Thread contract: as Place.
#ifndef ROOMCHAT_CHAT_PLACES_ROOM_H_
#define ROOMCHAT_CHAT_PLACES_ROOM_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "chat/places/place.h"

namespace roomchat {

class Room final : public Place {
 public:
  // A room called `name`, not yet running: call Run() on its own thread.
  static absl::StatusOr<std::shared_ptr<Room>> Create(const PlaceContext& context,
                                                      std::string name);

 private:
  Room(const PlaceContext& context, std::string name);

  void Greet(Connection& member, const Admission& admission) override;
  void OnChat(Connection& member, absl::string_view text) override;
  void OnLeave(Connection& member) override;
  void Announce(ClientId except, absl::string_view line) override;
  void AnnounceDeparture(absl::string_view nick) override;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PLACES_ROOM_H_
