// LineEditor: a libedit line editor (history, emacs keys) that keeps waiting on the server while the
// person types, so incoming lines appear above the line being typed without garbling it.
//
// libedit asks for each key through a read hook; the hook waits on the terminal, the server socket and
// a signalfd at once. When the socket is readable it runs `on_server_readable`, which prints through
// PrintAbove(): the prompt line is cleared, the text printed, and libedit redraws the prompt with what
// was typed and the cursor where it was.
//
// Thread contract: not thread-safe; the client's one thread uses it. SIGINT and SIGWINCH must be
// blocked in that thread (they are read from `signal_fd`).
#ifndef ROOMCHAT_TOOLS_LINE_EDITOR_H_
#define ROOMCHAT_TOOLS_LINE_EDITOR_H_

#include <histedit.h>

#include <cwchar>
#include <functional>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace roomchat {

class LineEditor {
 public:
  // `prompt` is asked for the prompt at every redraw. `on_server_readable` returns false to end
  // reading (the connection is gone). `on_tick` runs about once a second while waiting for keys.
  // `signal_fd` is a signalfd for SIGINT and SIGWINCH. A typed line goes into the history (Up/Down)
  // only when `keep_in_history` says so (the client keeps out lines holding a password).
  LineEditor(const char* program, std::function<std::string()> prompt, int server_fd,
             std::function<bool()> on_server_readable, std::function<void()> on_tick,
             int signal_fd, std::function<bool(absl::string_view)> keep_in_history);
  ~LineEditor();

  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  // The next typed line (added to the history if `keep_in_history`), or nullopt at Ctrl-D on an
  // empty line, at Ctrl-C, or when `on_server_readable` returned false.
  std::optional<std::string> ReadLine();
  // Prints `text` on its own line above the prompt, keeping what is being typed.
  void PrintAbove(absl::string_view text);
  // Waits on a new server connection from now on (after a reconnect), keeping the history.
  void Attach(int server_fd, std::function<bool()> on_server_readable,
              std::function<void()> on_tick);
  // True once Ctrl-C was pressed.
  bool interrupted() const { return interrupted_; }

 private:
  static int ReadKey(EditLine* editor, wchar_t* key);
  static char* PromptOf(EditLine* editor);
  int WaitForKey(wchar_t* key);

  // Const after construction.
  const std::function<std::string()> prompt_;
  const std::function<bool(absl::string_view)> keep_in_history_;
  const int signal_fd_;
  EditLine* const editor_;
  History* const history_;

  std::string prompt_text_;   // what PromptOf() last returned; libedit keeps the pointer
  bool reading_ = false;      // inside el_gets: a print must redraw the prompt
  bool stop_ = false;         // Ctrl-C, or the server went away
  std::mbstate_t utf8_state_{};
  bool interrupted_ = false;
  int server_fd_;
  std::function<bool()> on_server_readable_;
  std::function<void()> on_tick_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_TOOLS_LINE_EDITOR_H_
