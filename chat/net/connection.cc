#include "chat/net/connection.h"

#include <utility>

#include "chat/protocol/words.h"

namespace roomchat {

absl::string_view ByeReason(DepartureReason reason) {
  switch (reason) {
    case DepartureReason::kQuit:
    case DepartureReason::kEndOfInput: return words::kByeQuit;
    case DepartureReason::kIdleTimeout: return words::kByeIdleTimeout;
    case DepartureReason::kShutdown: return words::kByeServerShutdown;
    case DepartureReason::kFlood: return words::kByeFlood;
    case DepartureReason::kPeerClosed:
    case DepartureReason::kIoError:
    case DepartureReason::kOutputLimit: return "";
  }
  return "";
}

absl::string_view DepartureName(DepartureReason reason) {
  switch (reason) {
    case DepartureReason::kQuit: return "quit";
    case DepartureReason::kEndOfInput: return "the client closed its side";
    case DepartureReason::kPeerClosed: return "connection reset by the client";
    case DepartureReason::kIoError: return "i/o error";
    case DepartureReason::kIdleTimeout: return "idle timeout";
    case DepartureReason::kOutputLimit: return "output buffer limit";
    case DepartureReason::kFlood: return "flood";
    case DepartureReason::kShutdown: return "server shutdown";
  }
  return "unknown";
}

Connection::Connection(ClientId id, std::string peer, std::unique_ptr<Transport> transport,
                       std::unique_ptr<Codec> codec, const ConnectionLimits& limits,
                       Clock::time_point now)
    : id_(id),
      peer_(std::move(peer)),
      transport_(std::move(transport)),
      codec_(std::move(codec)),
      output_(limits.output, now),
      last_activity_(now),
      flood_(limits.flood, now) {}

absl::StatusOr<Transport::ReadResult> Connection::ReadOnce(char* scratch, size_t scratch_size,
                                                           Clock::time_point now) {
  absl::StatusOr<Transport::ReadResult> read = transport_->Read(scratch, scratch_size);
  if (read.ok() && read->kind == Transport::ReadResult::Kind::kData) {
    AcceptInput(absl::string_view(scratch, read->bytes), now);
  }
  return read;
}

void Connection::AcceptInput(absl::string_view bytes, Clock::time_point now) {
  codec_->Append(bytes);
  encode_scratch_.clear();
  codec_->TakeProtocolOutput(&encode_scratch_);
  if (!encode_scratch_.empty()) output_.Append(encode_scratch_, now);
}

std::optional<Frame> Connection::NextFrame() {
  std::optional<Frame> frame = codec_->Next();
  if (frame || !input_ended() || input_finished_) return frame;
  input_finished_ = true;
  return codec_->Finish();
}

bool Connection::Send(absl::string_view lines, Clock::time_point now) {
  encode_scratch_.clear();
  codec_->Encode(lines, &encode_scratch_);
  return output_.Append(encode_scratch_, now);
}

absl::Status Connection::Flush(size_t max_bytes, Clock::time_point now, bool* blocked) {
  return output_.WriteTo(*transport_, max_bytes, now, blocked);
}

void Connection::MarkDeparting(Departure departure) {
  if (!departure_) departure_ = std::move(departure);
}

void Connection::EndOutput(Clock::time_point now) {
  encode_scratch_.clear();
  codec_->End(&encode_scratch_);
  if (!encode_scratch_.empty()) output_.Append(encode_scratch_, now);
}

void Connection::FinishOutput(Clock::time_point now) {
  bool blocked;
  if (!output_.empty()) output_.WriteTo(*transport_, output_.unsent(), now, &blocked).IgnoreError();
  transport_->ShutdownWrite();
}

}  // namespace roomchat
