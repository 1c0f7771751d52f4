// libFuzzer target for ParseCommand: any line the framer could pass on. A parsed command must be
// well-formed (valid names where names are expected); an error must format as an ERR line.
#include <cstddef>
#include <cstdint>
#include <string>

#include "chat/protocol/command.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view line(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<roomchat::Command> command = roomchat::ParseCommand(line);
  if (!command.ok()) {
    std::string err = roomchat::ErrLine(command.status());
    if (err.rfind("ERR ", 0) != 0 || err.back() != '\n') __builtin_trap();
    return 0;
  }
  using Kind = roomchat::Command::Kind;
  switch (command->kind) {
    case Kind::kNick:
    case Kind::kCreate:
    case Kind::kJoin:
    case Kind::kMsg:
      if (!roomchat::ValidateName("name", command->name).ok()) __builtin_trap();
      if (command->kind == Kind::kMsg && command->text.empty()) __builtin_trap();
      break;
    case Kind::kWho:
      if (!command->name.empty() && !roomchat::ValidateName("room", command->name).ok()) {
        __builtin_trap();
      }
      break;
    case Kind::kChat:
      if (command->text.size() > line.size()) __builtin_trap();
      break;
    default:
      break;
  }
  return 0;
}
