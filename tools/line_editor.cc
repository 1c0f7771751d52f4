#include "tools/line_editor.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <utility>

namespace roomchat {

LineEditor::LineEditor(const char* program, std::function<std::string()> prompt, int server_fd,
                       std::function<bool()> on_server_readable, std::function<void()> on_tick,
                       int signal_fd, std::function<bool(absl::string_view)> keep_in_history)
    : prompt_(std::move(prompt)),
      keep_in_history_(std::move(keep_in_history)),
      signal_fd_(signal_fd),
      editor_(el_init(program, stdin, stdout, stderr)),
      history_(history_init()),
      server_fd_(server_fd),
      on_server_readable_(std::move(on_server_readable)),
      on_tick_(std::move(on_tick)) {
  HistEvent event;
  history(history_, &event, H_SETSIZE, 1000);
  history(history_, &event, H_SETUNIQUE, 1);
  el_set(editor_, EL_CLIENTDATA, this);
  el_set(editor_, EL_EDITOR, "emacs");
  el_set(editor_, EL_HIST, history, history_);
  el_set(editor_, EL_PROMPT, &LineEditor::PromptOf);
  el_set(editor_, EL_GETCFN, &LineEditor::ReadKey);
  el_source(editor_, nullptr);  // The person's ~/.editrc, if any.
}

void LineEditor::Attach(int server_fd, std::function<bool()> on_server_readable,
                        std::function<void()> on_tick) {
  server_fd_ = server_fd;
  on_server_readable_ = std::move(on_server_readable);
  on_tick_ = std::move(on_tick);
  stop_ = interrupted_;
}

LineEditor::~LineEditor() {
  el_end(editor_);
  history_end(history_);
}

std::optional<std::string> LineEditor::ReadLine() {
  if (stop_) return std::nullopt;
  reading_ = true;
  int count = 0;
  const char* line = el_gets(editor_, &count);
  reading_ = false;
  if (line == nullptr || count <= 0 || stop_) {
    if (!stop_) std::fputs("\n", stdout);  // Ctrl-D leaves the cursor after the prompt.
    return std::nullopt;
  }
  std::string text(line, static_cast<size_t>(count));
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && keep_in_history_(text)) {
    HistEvent event;
    history(history_, &event, H_ENTER, text.c_str());
  }
  return text;
}

void LineEditor::PrintAbove(absl::string_view text) {
  // Clear the prompt line, print, and let libedit draw the prompt and the typed text again.
  std::fputs("\r\x1b[K", stdout);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputs("\r\n", stdout);
  if (reading_) el_set(editor_, EL_REFRESH);
  std::fflush(stdout);
}

char* LineEditor::PromptOf(EditLine* editor) {
  LineEditor* self = nullptr;
  el_get(editor, EL_CLIENTDATA, &self);
  self->prompt_text_ = self->prompt_();
  return self->prompt_text_.data();
}

int LineEditor::ReadKey(EditLine* editor, wchar_t* key) {
  LineEditor* self = nullptr;
  el_get(editor, EL_CLIENTDATA, &self);
  return self->WaitForKey(key);
}

// 1 with a key, 0 to end the line editing (libedit then returns no line).
int LineEditor::WaitForKey(wchar_t* key) {
  while (!stop_) {
    pollfd fds[3] = {{STDIN_FILENO, POLLIN, 0}, {server_fd_, POLLIN, 0}, {signal_fd_, POLLIN, 0}};
    int ready = ::poll(fds, 3, 1000);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    if (ready == 0) {
      on_tick_();
      continue;
    }
    if (fds[2].revents & POLLIN) {
      signalfd_siginfo info;
      if (::read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
        if (info.ssi_signo == SIGWINCH) {
          el_resize(editor_);
        } else {
          stop_ = true;  // Ctrl-C
          interrupted_ = true;
        }
      }
      continue;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!on_server_readable_()) stop_ = true;
      continue;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char byte;
      ssize_t n = ::read(STDIN_FILENO, &byte, 1);
      if (n <= 0) return 0;
      size_t decoded = std::mbrtowc(key, &byte, 1, &utf8_state_);
      if (decoded == static_cast<size_t>(-2)) continue;  // More bytes of this character to come.
      if (decoded == static_cast<size_t>(-1)) {
        utf8_state_ = std::mbstate_t{};
        continue;  // Not a character in this locale: skip the byte.
      }
      if (decoded == 0) *key = L'\0';
      return 1;
    }
  }
  return 0;
}

}  // namespace roomchat
