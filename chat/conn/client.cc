#include "chat/conn/client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace roomchat {
namespace {

// A drained buffer larger than this is released, so a burst does not pin memory per idle client.
constexpr size_t kKeepCapacity = 64 * 1024;

}  // namespace

absl::string_view ByeReason(DepartureReason reason) {
  switch (reason) {
    case DepartureReason::kQuit: return "quit";
    case DepartureReason::kIdleTimeout: return "idle-timeout";
    case DepartureReason::kShutdown: return "server-shutdown";
    case DepartureReason::kFlood: return "flood";
    case DepartureReason::kPeerClosed:
    case DepartureReason::kIoError:
    case DepartureReason::kOutputLimit: return "";
  }
  return "";
}

absl::string_view DepartureName(DepartureReason reason) {
  switch (reason) {
    case DepartureReason::kQuit: return "quit";
    case DepartureReason::kPeerClosed: return "connection closed by the client";
    case DepartureReason::kIoError: return "i/o error";
    case DepartureReason::kIdleTimeout: return "idle timeout";
    case DepartureReason::kOutputLimit: return "output buffer limit";
    case DepartureReason::kFlood: return "flood";
    case DepartureReason::kShutdown: return "server shutdown";
  }
  return "unknown";
}

Client::Client(ClientId id, UniqueFd fd, std::string peer, const ClientLimits& limits)
    : id_(id),
      fd_(std::move(fd)),
      peer_(std::move(peer)),
      max_outbuf_bytes_(limits.max_outbuf_bytes),
      outbuf_soft_bytes_(limits.outbuf_soft_bytes),
      outbuf_soft_duration_(limits.outbuf_soft_duration),
      framer_(limits.max_line_bytes),
      last_activity_(Clock::now()),
      flood_(limits.flood, last_activity_) {}

absl::StatusOr<Client::ReadOutcome> Client::ReadOnce(char* scratch, size_t scratch_size) {
  while (true) {
    ssize_t n = ::read(fd_.get(), scratch, scratch_size);
    if (n > 0) {
      framer_.Append(absl::string_view(scratch, static_cast<size_t>(n)));
      return ReadOutcome::kData;
    }
    if (n == 0) return ReadOutcome::kPeerClosed;
    switch (errno) {
      case EINTR: continue;
      case EAGAIN: return ReadOutcome::kWouldBlock;
      case ECONNRESET: return ReadOutcome::kPeerReset;
      default: return ErrnoStatus("read");
    }
  }
}

void Client::Send(absl::string_view bytes) {
  if (output_overflowed_) return;
  if (unsent_bytes() + bytes.size() > max_outbuf_bytes_) {
    output_overflowed_ = true;
    return;
  }
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  }
  out_.append(bytes.data(), bytes.size());
}

absl::Status Client::Flush(size_t max_bytes) {
  size_t written = 0;
  while (has_output() && written < max_bytes) {
    size_t chunk = std::min(unsent_bytes(), max_bytes - written);
    ssize_t n = ::send(fd_.get(), out_.data() + out_pos_, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == ECONNRESET || errno == EPIPE) return absl::AbortedError("reset");
      return ErrnoStatus("send");
    }
    out_pos_ += static_cast<size_t>(n);
    written += static_cast<size_t>(n);
  }
  if (!has_output()) {
    if (out_.capacity() > kKeepCapacity) {
      std::string().swap(out_);
    } else {
      out_.clear();
    }
    out_pos_ = 0;
  } else if (out_pos_ > kKeepCapacity && out_pos_ > out_.size() / 2) {
    out_.erase(0, out_pos_);
    out_pos_ = 0;
  }
  return absl::OkStatus();
}

bool Client::OutputStuck(Clock::time_point now) {
  if (outbuf_soft_bytes_ == 0 || unsent_bytes() <= outbuf_soft_bytes_) {
    over_soft_since_.reset();
    return false;
  }
  if (!over_soft_since_) over_soft_since_ = now;
  return now - *over_soft_since_ >= outbuf_soft_duration_;
}

void Client::MarkDeparting(Departure departure) {
  if (!departure_) departure_ = std::move(departure);
}

void Client::FinishOutput() {
  if (has_output()) Flush(unsent_bytes()).IgnoreError();
  ::shutdown(fd_.get(), SHUT_WR);
}

}  // namespace roomchat
