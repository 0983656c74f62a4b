// The HTTP/1.x response parser, fed every input split at every position.

#include "model/http1_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chorus {
namespace {

using Progress = Http1ResponseParser::Progress;

struct Parsed : Http1ResponseParser::Receiver {
  void OnResponseHead(int s, const HttpHeaders& h) override {
    ++heads;
    status = s;
    headers = h;
  }
  bool OnResponseBody(std::string_view data) override {
    EXPECT_EQ(heads, 1) << "body before the head";
    body.append(data);
    return abort_after < 0 || static_cast<int>(body.size()) < abort_after;
  }

  int heads = 0;
  int status = 0;
  HttpHeaders headers;
  std::string body;
  int abort_after = -1;  // return false once the body has this many bytes
  Progress progress = Progress::kNeedMore;
  size_t consumed = 0;  // of the whole input, once complete
  std::string error;
  bool keep_alive = false;
};

// Feeds `pieces` one after the other, then reports the end of the connection when `eof`.
Parsed Parse(const std::vector<std::string_view>& pieces, bool eof = false, bool head = false) {
  Parsed p;
  Http1ResponseParser parser;
  parser.Reset(head);
  size_t offset = 0;
  for (std::string_view piece : pieces) {
    size_t used = 0;
    p.progress = parser.Feed(piece, p, &used);
    if (p.progress == Progress::kComplete) p.consumed = offset + used;
    if (p.progress != Progress::kNeedMore) break;
    offset += piece.size();
  }
  if (eof && p.progress == Progress::kNeedMore) p.progress = parser.Finish();
  p.error = parser.error();
  p.keep_alive = parser.keep_alive();
  return p;
}

// Every way of cutting `input` in two, plus one byte at a time; `check` sees each result.
template <typename Check>
void EverySplit(std::string_view input, bool eof, bool head, Check check) {
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    SCOPED_TRACE("split at " + std::to_string(cut));
    check(Parse({input.substr(0, cut), input.substr(cut)}, eof, head));
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  SCOPED_TRACE("byte by byte");
  check(Parse(bytes, eof, head));
}

TEST(Http1Parser, ContentLengthBodyInEverySplit) {
  std::string input =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n"
      "hello world";
  EverySplit(input, false, false, [&](const Parsed& p) {
    ASSERT_EQ(p.progress, Progress::kComplete) << p.error;
    EXPECT_EQ(p.heads, 1);
    EXPECT_EQ(p.status, 200);
    EXPECT_EQ(p.headers.at("content-type"), "text/plain");
    EXPECT_EQ(p.body, "hello world");
    EXPECT_EQ(p.consumed, input.size());
    EXPECT_TRUE(p.keep_alive);
  });
}

TEST(Http1Parser, ChunkedBodyWithExtensionsAndTrailersInEverySplit) {
  std::string input =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "1 ; quoted=\"a;b\"\r\n \r\n"
      "A\r\n0123456789\r\n"
      "0;last\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n";
  EverySplit(input, false, false, [&](const Parsed& p) {
    ASSERT_EQ(p.progress, Progress::kComplete) << p.error;
    EXPECT_EQ(p.body, "hello 0123456789");
    EXPECT_EQ(p.consumed, input.size());
    EXPECT_EQ(p.headers.count("x-checksum"), 0u) << "trailers are not headers";
    EXPECT_TRUE(p.keep_alive);
  });
}

TEST(Http1Parser, InterimResponsesAreSkipped) {
  std::string input =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  EverySplit(input, false, false, [&](const Parsed& p) {
    ASSERT_EQ(p.progress, Progress::kComplete) << p.error;
    EXPECT_EQ(p.heads, 1);
    EXPECT_EQ(p.status, 201);
    EXPECT_EQ(p.headers.count("link"), 0u);
    EXPECT_EQ(p.body, "ok");
  });
}

TEST(Http1Parser, RepeatedHeadersJoinAndFoldedLinesContinue) {
  std::string input =
      "HTTP/1.1 200 OK\r\nX-Multi: one\r\nx-multi:   two  \r\nX-Folded: first\r\n"
      "   second\r\n\tthird\r\nContent-Length: 0\r\n\r\n";
  EverySplit(input, false, false, [&](const Parsed& p) {
    ASSERT_EQ(p.progress, Progress::kComplete) << p.error;
    EXPECT_EQ(p.headers.at("x-multi"), "one, two");
    EXPECT_EQ(p.headers.at("x-folded"), "first second third");
    EXPECT_EQ(p.body, "");
  });
}

TEST(Http1Parser, BodyWithoutFramingLastsUntilTheConnectionCloses) {
  std::string input =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\ndata: 2\n\n";
  EverySplit(input, true, false, [&](const Parsed& p) {
    ASSERT_EQ(p.progress, Progress::kComplete) << p.error;
    EXPECT_EQ(p.body, "data: 1\n\ndata: 2\n\n");
    EXPECT_FALSE(p.keep_alive);
  });
  EXPECT_EQ(Parse({input}).progress, Progress::kNeedMore) << "not complete before the close";
}

TEST(Http1Parser, HeadAnd204And304HaveNoBody) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
  EverySplit(head, false, true, [&](const Parsed& p) {
    ASSERT_EQ(p.progress, Progress::kComplete) << p.error;
    EXPECT_EQ(p.consumed, head.size());
  });
  for (std::string status : {"204 No Content", "304 Not Modified"}) {
    std::string input = "HTTP/1.1 " + status + "\r\nContent-Length: 10\r\n\r\n";
    Parsed p = Parse({input + "HTTP/1.1 200 OK\r\n"});
    ASSERT_EQ(p.progress, Progress::kComplete) << status;
    EXPECT_EQ(p.consumed, input.size()) << "bytes after the head are not the body";
    EXPECT_EQ(p.body, "");
  }
}

TEST(Http1Parser, KeepAliveFollowsConnectionHeaderAndVersion) {
  EXPECT_FALSE(
      Parse({"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"}).keep_alive);
  EXPECT_FALSE(Parse({"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"}).keep_alive);
  EXPECT_TRUE(
      Parse({"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"}).keep_alive);
  EXPECT_TRUE(Parse({"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}).keep_alive);
}

TEST(Http1Parser, HeadOverTheLimitIsAnError) {
  std::string input = "HTTP/1.1 200 OK\r\n";
  while (input.size() <= Http1ResponseParser::kMaxHeadBytes) input += "X-Filler: 0123456789\r\n";
  input += "\r\n";
  Parsed p = Parse({input});
  EXPECT_EQ(p.progress, Progress::kError);
  EXPECT_NE(p.error.find("exceeds 64 KiB"), std::string::npos) << p.error;
  // One endless header line fails as soon as it passes the limit, before any newline.
  Parsed endless = Parse({"HTTP/1.1 200 OK\r\nX-Endless: " + std::string(70000, 'a')});
  EXPECT_EQ(endless.progress, Progress::kError);
  EXPECT_EQ(endless.heads, 0);
}

TEST(Http1Parser, HeadJustUnderTheLimitIsAccepted) {
  std::string input = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Filler: ";
  input += std::string(Http1ResponseParser::kMaxHeadBytes - input.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(input.size(), Http1ResponseParser::kMaxHeadBytes);
  EXPECT_EQ(Parse({input}).progress, Progress::kComplete);
}

TEST(Http1Parser, GarbageInsteadOfAStatusLineFailsAtOnce) {
  Parsed p = Parse({"SSH-2.0-OpenSSH_9.2"});  // no newline: must not wait for one
  EXPECT_EQ(p.progress, Progress::kError);
  EXPECT_NE(p.error.find("expected an HTTP/1.x status line, found \"SSH-2.0"), std::string::npos)
      << p.error;
  EXPECT_EQ(Parse({"HTTP/1.1 abc\r\n\r\n"}).progress, Progress::kError);
  EXPECT_EQ(Parse({"HTTP/2 200\r\n\r\n"}).progress, Progress::kError);
  EXPECT_EQ(Parse({"\x16\x03\x01"}).progress, Progress::kError);
}

TEST(Http1Parser, MalformedFramingIsAnError) {
  Parsed bad_length = Parse({"HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n"});
  EXPECT_EQ(bad_length.progress, Progress::kError);
  EXPECT_NE(bad_length.error.find("Content-Length"), std::string::npos);
  EXPECT_EQ(Parse({"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"}).progress,
            Progress::kError);
  EXPECT_EQ(
      Parse({"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"}).progress,
      Progress::kComplete);
  EXPECT_EQ(Parse({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}).progress,
            Progress::kError);
  EXPECT_EQ(Parse({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY"}).progress,
            Progress::kError);
  EXPECT_EQ(Parse({"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n"}).progress, Progress::kError);
}

TEST(Http1Parser, CutBodiesSayHowFarTheyGot) {
  Parsed length = Parse({"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"}, true);
  EXPECT_EQ(length.progress, Progress::kError);
  EXPECT_NE(length.error.find("after 3 of 10 body bytes"), std::string::npos) << length.error;
  Parsed chunked = Parse({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"}, true);
  EXPECT_EQ(chunked.progress, Progress::kError);
  EXPECT_NE(chunked.error.find("chunked body, after 3 body bytes"), std::string::npos)
      << chunked.error;
  Parsed no_last_chunk =
      Parse({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"}, true);
  EXPECT_EQ(no_last_chunk.progress, Progress::kError);
  Parsed in_head = Parse({"HTTP/1.1 200 OK\r\nContent-Le"}, true);
  EXPECT_NE(in_head.error.find("in the middle of the response head"), std::string::npos);
  Parsed nothing = Parse({}, true);
  EXPECT_NE(nothing.error.find("without sending a response"), std::string::npos) << nothing.error;
}

TEST(Http1Parser, ReceiverCanStopTheBody) {
  Parsed p;
  p.abort_after = 3;
  Http1ResponseParser parser;
  parser.Reset(false);
  EXPECT_EQ(parser.Feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcdefghij", p),
            Progress::kAborted);
  EXPECT_EQ(p.body, "abcdefghij");  // one piece: the receiver saw it whole and then said stop
}

TEST(Http1Parser, ReportsBytesPastTheResponse) {
  Parsed p = Parse({"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200"});
  ASSERT_EQ(p.progress, Progress::kComplete);
  EXPECT_EQ(p.consumed, 40u);
}

TEST(Http1Parser, ResetStartsAFreshResponse) {
  Parsed p;
  Http1ResponseParser parser;
  parser.Reset(false);
  EXPECT_EQ(parser.Feed("HTTP/1.1 200 OK\r\nContent-Le", p), Progress::kNeedMore);
  EXPECT_TRUE(parser.started());
  parser.Reset(false);
  EXPECT_FALSE(parser.started());
  EXPECT_EQ(parser.Feed("HTTP/1.1 204 No Content\r\n\r\n", p), Progress::kComplete);
  EXPECT_EQ(p.status, 204);
}

}  // namespace
}  // namespace chorus
