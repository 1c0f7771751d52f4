#include "tests/history_lines.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace roomchat {

std::optional<TaggedLine> ParseTagged(absl::string_view line) {
  if (!absl::ConsumePrefix(&line, "@id=")) return std::nullopt;
  size_t space = line.find(' ');
  if (space == absl::string_view::npos) return std::nullopt;
  std::vector<absl::string_view> tags = absl::StrSplit(line.substr(0, space), ';');
  TaggedLine tagged;
  tagged.line = std::string(line.substr(space + 1));
  if (tags.size() < 2 || tags.size() > 3) return std::nullopt;
  if (!absl::SimpleAtoi(tags[0], &tagged.id) || tagged.id == 0) return std::nullopt;
  if (!absl::ConsumePrefix(&tags[1], "time=")) return std::nullopt;
  tagged.time = std::string(tags[1]);
  if (tags.size() == 3) {
    if (tags[2] != "history") return std::nullopt;
    tagged.history = true;
  }
  return tagged;
}

bool IsUtcMillisTime(absl::string_view time) {
  constexpr absl::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (time.size() != kShape.size()) return false;
  for (size_t i = 0; i < kShape.size(); ++i) {
    bool digit = std::isdigit(static_cast<unsigned char>(time[i])) != 0;
    if (kShape[i] == 'd' ? !digit : time[i] != kShape[i]) return false;
  }
  // A real time: it parses, and formats back to the same text (no 25:00 or February 30).
  constexpr char kFormat[] = "%Y-%m-%dT%H:%M:%E3SZ";
  absl::Time parsed;
  std::string error;
  if (!absl::ParseTime(kFormat, std::string(time), absl::UTCTimeZone(), &parsed, &error)) {
    return false;
  }
  return absl::FormatTime(kFormat, parsed, absl::UTCTimeZone()) == time;
}

std::vector<std::string> Numbered(absl::string_view prefix, int count) {
  std::vector<std::string> texts;
  for (int i = 0; i < count; ++i) texts.push_back(absl::StrCat(prefix, i));
  return texts;
}

std::string LongText(int index) { return absl::StrCat(index, " ", std::string(1000, 'p')); }

uint64_t AckedId(absl::string_view line, absl::string_view room) {
  uint64_t id = 0;
  if (!absl::ConsumePrefix(&line, absl::StrCat("ACK ", room, " "))) return 0;
  return absl::SimpleAtoi(line, &id) ? id : 0;
}

std::vector<uint64_t> ReadTagged(TestClient& client, absl::string_view room,
                                 absl::string_view nick, const std::vector<std::string>& texts,
                                 bool history) {
  std::vector<uint64_t> ids;
  for (const std::string& text : texts) {
    std::string line = client.Next();
    std::optional<TaggedLine> tagged = ParseTagged(line);
    std::string want = absl::StrCat("MSG ", room, " ", nick, " ", text);
    if (!tagged || tagged->history != history || tagged->line != want ||
        !IsUtcMillisTime(tagged->time) || (!ids.empty() && tagged->id <= ids.back())) {
      ADD_FAILURE() << "expected " << (history ? "history " : "live ") << want.substr(0, 40)
                    << "..., got " << line.substr(0, 100);
      return ids;
    }
    ids.push_back(tagged->id);
  }
  return ids;
}

void EveryoneLeaves(absl::string_view room, std::initializer_list<TestClient*> members) {
  for (TestClient* member : members) {
    ASSERT_TRUE(member->Send("/leave").ok());
    absl::StatusOr<std::vector<std::string>> before =
        member->ReadUntil(absl::StrCat("OK LEAVE ", room));
    ASSERT_TRUE(before.ok()) << before.status();
    for (const std::string& line : *before) {
      EXPECT_TRUE(absl::StartsWith(line, absl::StrCat("LEAVE ", room, " "))) << line;
    }
  }
}

void RequestCaps(TestClient& client, absl::string_view caps) {
  EXPECT_EQ(client.Ask(absl::StrCat("/cap req ", caps)), absl::StrCat("OK CAP REQ ", caps));
}

std::vector<uint64_t> SayThrough(TestClient& sender, TestClient& reader, absl::string_view room,
                                 absl::string_view nick, const std::vector<std::string>& texts) {
  constexpr size_t kLinesPerWrite = 32;
  std::vector<uint64_t> ids;
  for (size_t first = 0; first < texts.size(); first += kLinesPerWrite) {
    size_t end = std::min(texts.size(), first + kLinesPerWrite);
    std::string bytes;
    for (size_t i = first; i < end; ++i) absl::StrAppend(&bytes, texts[i], "\n");
    if (!sender.SendRaw(bytes).ok()) {
      ADD_FAILURE() << "cannot send line " << first;
      return ids;
    }
    for (size_t i = first; i < end; ++i) {
      std::string got = reader.Next();
      std::optional<TaggedLine> tagged = ParseTagged(got);
      std::string want = absl::StrCat("MSG ", room, " ", nick, " ", texts[i]);
      if (!tagged || tagged->history || tagged->line != want) {
        ADD_FAILURE() << "line " << i << ": expected a live tagged " << want.substr(0, 40)
                      << "..., got " << got.substr(0, 80);
        return ids;
      }
      ids.push_back(tagged->id);
    }
  }
  return ids;
}

HistoryAnswer AskHistory(TestClient& client, absl::string_view command) {
  constexpr int kMostLines = 501;  // 500 lines and the OK line
  HistoryAnswer answer;
  if (!client.Send(command).ok()) {
    answer.end = "<cannot send>";
    return answer;
  }
  for (int i = 0; i < kMostLines; ++i) {
    std::string line = client.Next();
    if (absl::StartsWith(line, "OK HISTORY ") || absl::StartsWith(line, "ERR ") ||
        absl::StartsWith(line, "<")) {
      answer.end = line;
      return answer;
    }
    answer.lines.push_back(std::move(line));
  }
  answer.end = "<no end after 500 lines>";
  return answer;
}

std::vector<TaggedLine> PageBackToTheStart(TestClient& client, absl::string_view room,
                                           int max_pages) {
  std::vector<std::vector<TaggedLine>> pages;  // newest page first
  uint64_t before = 0;
  for (int page = 0; page < max_pages; ++page) {
    HistoryAnswer answer = AskHistory(
        client, before == 0 ? "/history 500" : absl::StrCat("/history 500 before=", before));
    EXPECT_EQ(answer.end, absl::StrCat("OK HISTORY ", room, " ", answer.lines.size()))
        << "page " << page;
    if (answer.lines.empty()) break;
    std::vector<TaggedLine> lines;
    for (const std::string& line : answer.lines) {
      std::optional<TaggedLine> tagged = ParseTagged(line);
      if (!tagged || !tagged->history || (!lines.empty() && tagged->id <= lines.back().id) ||
          (before != 0 && tagged->id >= before)) {
        ADD_FAILURE() << "page " << page << " before=" << before << ": out of place: " << line;
        return {};
      }
      lines.push_back(*std::move(tagged));
    }
    before = lines.front().id;
    pages.push_back(std::move(lines));
    if (page + 1 == max_pages) ADD_FAILURE() << "still not at the start after " << max_pages;
  }
  std::vector<TaggedLine> all;
  for (auto page = pages.rbegin(); page != pages.rend(); ++page) {
    all.insert(all.end(), page->begin(), page->end());
  }
  return all;
}

}  // namespace roomchat
