// Reading the recorded llama-server transcripts in tests/fixtures/wire/llama-server/.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "model/http_transport.h"

namespace chorus::testing {

inline std::string ReadFixture(const std::string& name) {
  std::string path = std::string(CHORUS_WIRE_FIXTURES) + "/llama-server/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A `curl -i` transcript: status line, CRLF headers, blank line, body (chunking removed).
struct HttpTranscript {
  int status = 0;
  HttpHeaders headers;  // names lower-cased, as the transport reports them
  std::string body;
};

inline HttpTranscript ParseTranscript(const std::string& bytes) {
  HttpTranscript t;
  size_t end = bytes.find("\r\n\r\n");
  std::string head = bytes.substr(0, end);
  t.body = bytes.substr(end + 4);
  t.status = std::stoi(head.substr(head.find(' ') + 1, 3));
  size_t pos = head.find("\r\n") + 2;
  while (pos < head.size() && pos != std::string::npos + 2) {
    size_t eol = head.find("\r\n", pos);
    std::string line = head.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t v = line.find_first_not_of(' ', colon + 1);
    t.headers[name] = v == std::string::npos ? "" : line.substr(v);
    if (eol == std::string::npos) break;
    pos = eol + 2;
  }
  return t;
}

}  // namespace chorus::testing
