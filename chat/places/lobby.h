// Lobby: the place of clients in no room. New connections arrive here (WELCOME); clients who /leave
// a room come back here. It answers every command that needs no room; chat and /leave get
// ERR not-in-room.
//
// Thread contract: as Place. One lobby per server, on its own thread.
#ifndef ROOMCHAT_CHAT_PLACES_LOBBY_H_
#define ROOMCHAT_CHAT_PLACES_LOBBY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "chat/places/place.h"

namespace roomchat {

class Lobby final : public Place {
 public:
  // `context.lobby` is not used by the lobby itself.
  static absl::StatusOr<std::unique_ptr<Lobby>> Create(const PlaceContext& context);

 private:
  explicit Lobby(const PlaceContext& context);

  void Greet(Connection& member, const Admission& admission) override;
  void OnChat(Connection& member, absl::string_view text) override;
  void OnLeave(Connection& member) override;
  void Announce(ClientId except, absl::string_view line) override {}
  void AnnounceDeparture(absl::string_view nick) override {}
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PLACES_LOBBY_H_
