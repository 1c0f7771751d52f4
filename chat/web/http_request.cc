#include "chat/web/http_request.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "llhttp.h"

namespace roomchat {
namespace {

// What llhttp's callbacks fill in.
struct Collector {
  HttpRequest request;
  std::string field;  // the header name being read
  std::string value;
  bool in_value = false;
  bool complete = false;

  void EndHeader() {
    if (!in_value) return;
    std::string name = absl::AsciiStrToLower(field);
    std::string& stored = request.headers[name];
    stored = stored.empty() ? value : absl::StrCat(stored, ", ", value);
    field.clear();
    value.clear();
    in_value = false;
  }
};

Collector& CollectorOf(llhttp_t* parser) { return *static_cast<Collector*>(parser->data); }

int OnUrl(llhttp_t* parser, const char* at, size_t length) {
  CollectorOf(parser).request.target.append(at, length);
  return 0;
}

int OnHeaderField(llhttp_t* parser, const char* at, size_t length) {
  Collector& collector = CollectorOf(parser);
  collector.EndHeader();
  collector.field.append(at, length);
  return 0;
}

int OnHeaderValue(llhttp_t* parser, const char* at, size_t length) {
  Collector& collector = CollectorOf(parser);
  collector.in_value = true;
  collector.value.append(at, length);
  return 0;
}

int OnHeadersComplete(llhttp_t* parser) {
  CollectorOf(parser).EndHeader();
  return 0;
}

int OnMessageComplete(llhttp_t* parser) {
  Collector& collector = CollectorOf(parser);
  collector.complete = true;
  collector.request.method = llhttp_method_name(static_cast<llhttp_method_t>(parser->method));
  collector.request.keep_alive = llhttp_should_keep_alive(parser) != 0;
  return 0;
}

HttpRequestParser::Outcome Error(int status, std::string reason) {
  HttpRequestParser::Outcome outcome;
  outcome.kind = HttpRequestParser::Outcome::Kind::kError;
  outcome.status = status;
  outcome.reason = std::move(reason);
  return outcome;
}

}  // namespace

absl::string_view HttpRequest::Header(absl::string_view lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? absl::string_view() : absl::string_view(it->second);
}

absl::string_view HttpRequest::Path() const {
  absl::string_view path = target;
  return path.substr(0, path.find('?'));
}

HttpRequestParser::Outcome HttpRequestParser::Next() {
  // A head ends at a blank line; bare LF line ends are found too, and llhttp judges them.
  size_t crlf = buffer_.find("\r\n\r\n");
  size_t lf = buffer_.find("\n\n");
  size_t head_size = std::min(crlf == std::string::npos ? std::string::npos : crlf + 4,
                              lf == std::string::npos ? std::string::npos : lf + 2);
  if (head_size == std::string::npos) {
    if (buffer_.size() > kMaxHeadBytes) return Error(431, "request header fields too large");
    return Outcome{};
  }
  if (head_size > kMaxHeadBytes) return Error(431, "request header fields too large");

  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  settings.on_url = OnUrl;
  settings.on_header_field = OnHeaderField;
  settings.on_header_value = OnHeaderValue;
  settings.on_headers_complete = OnHeadersComplete;
  settings.on_message_complete = OnMessageComplete;
  llhttp_t parser;
  llhttp_init(&parser, HTTP_REQUEST, &settings);
  Collector collector;
  parser.data = &collector;
  llhttp_errno_t parsed = llhttp_execute(&parser, buffer_.data(), head_size);
  bool announces_body = collector.request.Header("transfer-encoding") != "" ||
                        (collector.request.Header("content-length") != "" &&
                         collector.request.Header("content-length") != "0");
  buffer_.erase(0, head_size);
  if (announces_body) return Error(413, "request bodies are not accepted here");
  if ((parsed != HPE_OK && parsed != HPE_PAUSED_UPGRADE) || !collector.complete) {
    return Error(400, absl::StrCat("malformed request: ", llhttp_errno_name(parsed)));
  }
  Outcome outcome;
  outcome.kind = Outcome::Kind::kRequest;
  outcome.request = std::move(collector.request);
  return outcome;
}

std::string HttpRequestParser::TakeRest() {
  std::string rest;
  rest.swap(buffer_);
  return rest;
}

}  // namespace roomchat
