#include "core/template.h"

namespace chorus {
namespace {

bool IsRefChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// Calls on_text for literal runs and on_ref for references, in order.
template <class OnText, class OnRef>
Status Scan(std::string_view text, OnText on_text, OnRef on_ref) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t dollar = text.find('$', pos);
    if (dollar == std::string_view::npos) break;
    if (text.compare(dollar, 3, "$${") == 0) {
      on_text(text.substr(pos, dollar - pos));
      on_text("${");
      pos = dollar + 3;
      continue;
    }
    if (dollar + 1 >= text.size() || text[dollar + 1] != '{') {
      on_text(text.substr(pos, dollar + 1 - pos));
      pos = dollar + 1;
      continue;
    }
    on_text(text.substr(pos, dollar - pos));
    size_t close = text.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("unterminated '${' at offset " + std::to_string(dollar) +
                                     ": expected '}'");
    }
    std::string_view body = text.substr(dollar + 2, close - dollar - 2);
    if (body.empty()) {
      return Status::InvalidArgument("empty reference '${}' at offset " + std::to_string(dollar));
    }
    for (char c : body) {
      if (!IsRefChar(c)) {
        return Status::InvalidArgument("invalid character '" + std::string(1, c) +
                                       "' in reference '${" + std::string(body) +
                                       "}': expected letters, digits, '_', '-' or '.'");
      }
    }
    TemplateRef ref;
    size_t dot = body.find('.');
    ref.root = std::string(body.substr(0, dot));
    if (dot != std::string_view::npos) ref.field = std::string(body.substr(dot + 1));
    if (ref.root.empty() || (dot != std::string_view::npos && ref.field.empty())) {
      return Status::InvalidArgument("malformed reference '${" + std::string(body) +
                                     "}': expected ${step} or ${step.field}");
    }
    ref.begin = dollar;
    ref.end = close + 1;
    if (Status s = on_ref(ref); !s.ok()) return s;
    pos = close + 1;
  }
  if (pos < text.size()) on_text(text.substr(pos));
  return Status::Ok();
}

}  // namespace

Result<std::vector<TemplateRef>> FindTemplateRefs(std::string_view text) {
  std::vector<TemplateRef> refs;
  Status s = Scan(
      text, [](std::string_view) {},
      [&](const TemplateRef& r) {
        refs.push_back(r);
        return Status::Ok();
      });
  if (!s.ok()) return Err(std::move(s));
  return refs;
}

Result<std::string> ExpandTemplate(std::string_view text, const TemplateResolver& resolve) {
  std::string out;
  out.reserve(text.size());
  Status s = Scan(
      text, [&](std::string_view literal) { out.append(literal); },
      [&](const TemplateRef& r) -> Status {
        Result<std::string> value = resolve(r);
        if (!value) return value.error();
        out.append(*value);
        return Status::Ok();
      });
  if (!s.ok()) return Err(std::move(s));
  return out;
}

}  // namespace chorus
