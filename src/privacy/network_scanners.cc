// E-mail addresses, URLs and IP addresses: hand-written scanners that anchor on a rare byte
// ('@', "://", "www.", a digit or a colon) and validate what surrounds it.
#include <arpa/inet.h>

#include <cctype>
#include <cstring>

#include "privacy/scan.h"

namespace chorus::privacy {
namespace {

constexpr std::string_view kVersionWords[] = {"version", "ver", "release", "build"};

bool IsLocalPartByte(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsDomainByte(char c) { return IsAlnum(c) || c == '-' || c == '.'; }

bool IsUrlByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && c != '<' && c != '>' && c != '"' && c != '`' && c != '{' && c != '}' &&
         c != '|' && c != '\\' && c != '^' && u != 0x7f;
}

size_t UrlEnd(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size() && IsUrlByte(text[end])) ++end;
  // Sentence punctuation after a URL is not part of it.
  while (end > pos && std::strchr(".,;:!?)]}'*", text[end - 1]) != nullptr) --end;
  return end;
}

}  // namespace

void ScanEmails(std::string_view text, std::vector<PiiSpan>& out) {
  size_t i = 0;
  while ((i = text.find('@', i)) != std::string_view::npos) {
    size_t start = i;
    while (start > 0 && IsLocalPartByte(text[start - 1])) --start;
    while (start < i && text[start] == '.') ++start;
    size_t end = i + 1;
    while (end < text.size() && IsDomainByte(text[end])) ++end;
    while (end > i + 1 && (text[end - 1] == '.' || text[end - 1] == '-')) --end;
    const std::string_view domain = text.substr(i + 1, end - i - 1);
    const size_t dot = domain.rfind('.');
    bool ok = start < i && dot != std::string_view::npos && dot > 0 && domain.size() - dot > 2;
    for (size_t k = dot + 1; ok && k < domain.size(); ++k) ok = IsAlpha(domain[k]);
    if (ok) out.push_back({start, end, EntityType::kEmail});
    i = end > i ? end : i + 1;
  }
}

void ScanUrls(std::string_view text, std::vector<PiiSpan>& out) {
  size_t last_end = 0;
  for (size_t i = text.find("://"); i != std::string_view::npos; i = text.find("://", i + 3)) {
    size_t start = i;
    while (start > 0 && IsAlpha(text[start - 1])) --start;
    const std::string scheme = Lowercase(text.substr(start, i - start));
    if (scheme != "http" && scheme != "https" && scheme != "ftp") continue;
    const size_t end = UrlEnd(text, i + 3);
    if (end > i + 4) {
      out.push_back({start, end, EntityType::kUrl});
      last_end = end;
    }
  }
  for (size_t i = 0; i + 4 < text.size(); ++i) {
    if ((text[i] != 'w' && text[i] != 'W') || i < last_end) continue;
    if (ToLower(text[i + 1]) != 'w' || ToLower(text[i + 2]) != 'w' || text[i + 3] != '.' ||
        (i > 0 && (IsWordByte(text[i - 1]) || text[i - 1] == '/' || text[i - 1] == '@'))) {
      continue;
    }
    const size_t end = UrlEnd(text, i);
    const std::string_view host = text.substr(i + 4, end - i - 4);
    if (host.find('.') != std::string_view::npos) out.push_back({i, end, EntityType::kUrl});
    i = end;
  }
}

void ScanIps(std::string_view text, std::vector<PiiSpan>& out) {
  const size_t n = text.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (IsDigit(c) && (i == 0 || (!IsWordByte(text[i - 1]) && text[i - 1] != '.'))) {
      // IPv4: four dotted numbers 0-255, not part of a longer dotted run (versions, OIDs).
      size_t p = i;
      int parts = 0;
      bool ok = true;
      while (ok && parts < 4) {
        size_t q = p;
        int v = 0;
        while (q < n && IsDigit(text[q]) && q - p < 4) v = v * 10 + (text[q++] - '0');
        ok = q > p && q - p <= 3 && v <= 255;
        ++parts;
        p = q;
        if (ok && parts < 4) {
          ok = p + 1 < n && text[p] == '.' && IsDigit(text[p + 1]);
          ++p;
        }
      }
      if (ok &&
          (p >= n ||
           (!IsWordByte(text[p]) && !(text[p] == '.' && p + 1 < n && IsDigit(text[p + 1])))) &&
          !(i > 0 && (text[i - 1] == 'v' || text[i - 1] == 'V')) &&
          !PrecededByKeyword(text, i, 16, kVersionWords)) {
        out.push_back({i, p, EntityType::kIp});
        i = p;
        continue;
      }
    }
    // IPv6: a run of hex digits and colons with at least two colons that inet_pton accepts.
    if ((IsHex(c) || c == ':') &&
        (i == 0 || (!IsWordByte(text[i - 1]) && text[i - 1] != ':' && text[i - 1] != '.'))) {
      size_t p = i;
      int colons = 0;
      while (p < n && (IsHex(text[p]) || text[p] == ':' || text[p] == '.') && p - i < 45) {
        colons += text[p] == ':';
        ++p;
      }
      if (colons < 2 || (p < n && IsWordByte(text[p]))) continue;
      while (p > i && (text[p - 1] == '.' || text[p - 1] == ':')) {
        if (text[p - 1] == ':' && p - 2 > i && text[p - 2] == ':') break;  // keep a trailing ::
        --p;
      }
      const std::string candidate(text.substr(i, p - i));
      in6_addr addr{};
      const bool compressed = candidate.find("::") != std::string::npos;
      if ((compressed || colons >= 7) && candidate.size() >= 3 &&
          inet_pton(AF_INET6, candidate.c_str(), &addr) == 1) {
        out.push_back({i, p, EntityType::kIp});
        i = p;
      }
    }
  }
}

void ScanIbans(std::string_view text, std::vector<PiiSpan>& out) {
  const size_t n = text.size();
  for (size_t i = 0; i + 15 <= n; ++i) {
    if (!IsUpper(text[i]) || !IsUpper(text[i + 1]) || !IsDigit(text[i + 2]) ||
        !IsDigit(text[i + 3]) || (i > 0 && IsWordByte(text[i - 1]))) {
      continue;
    }
    // Collect up to 34 characters, allowing a single space between groups of four.
    std::string compact;
    size_t p = i, best_end = 0;
    std::string best;
    while (p < n && compact.size() < 34) {
      if (IsUpper(text[p]) || IsDigit(text[p])) {
        compact.push_back(text[p++]);
        if (compact.size() >= 15 && (p >= n || !IsAlnum(text[p])) && IbanValid(compact)) {
          best = compact;
          best_end = p;
        }
      } else if (text[p] == ' ' && compact.size() % 4 == 0 && p + 1 < n && IsAlnum(text[p + 1])) {
        ++p;
      } else {
        break;
      }
    }
    if (best_end != 0) {
      out.push_back({i, best_end, EntityType::kIban});
      i = best_end;
    }
  }
}

}  // namespace chorus::privacy
