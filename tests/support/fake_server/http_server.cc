#include "support/fake_server/http_server.h"

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>

namespace chorus::fake {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr size_t kHeaderLimit = 64 * 1024;
constexpr uint64_t kBodyLimit = 64ull * 1024 * 1024;

std::string StatusLine(int status) {
  std::string_view reason =
      http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
}

void AppendChunk(std::string& out, std::string_view data) {
  char size[24];
  int n = std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  out.append(size, static_cast<size_t>(n));
  out.append(data);
  out.append("\r\n");
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Service& service)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), service_(service) {
    service_.ConnectionOpened();
  }
  ~Session() {
    if (counted_) service_.Finished();
    service_.ConnectionClosed();
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) {
      // A request Beast cannot parse gets an answer; a peer that went away does not.
      if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        const int status = ec == http::error::body_limit ? 413 : 400;
        answer_ = Answer();
        answer_.status = status;
        answer_.body = R"({"error":{"code":)" + std::to_string(status) +
                       R"(,"message":"malformed HTTP request: )" + ec.message() +
                       R"(","type":"invalid_request_error"}})";
        answer_.close_connection = true;
        return WriteResponse();
      }
      return Close();
    }
    http::request<http::string_body> request = parser_->release();
    parser_.reset();
    keep_alive_ = request.keep_alive();
    HttpExchange exchange;
    exchange.method = std::string(request.method_string());
    exchange.target = std::string(request.target());
    for (const auto& field : request) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      exchange.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    exchange.body = std::move(request.body());
    answer_ = service_.Handle(exchange);
    counted_ = answer_.counted;
    if (answer_.delay.count() > 0) {
      timer_.expires_after(answer_.delay);
      timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec) self->Deliver();
      });
      return;
    }
    Deliver();
  }

  void Deliver() {
    switch (answer_.mode) {
      case Answer::Mode::kRespond:
        return WriteResponse();
      case Answer::Mode::kStream:
        return WriteStreamHeader();
      case Answer::Mode::kStall:
        return Stall();
      case Answer::Mode::kClose:
        return Close();
    }
  }

  std::string Headers(std::string_view content_type, bool chunked) const {
    std::string out = StatusLine(answer_.status);
    out += "Server: fake-llm-server\r\nContent-Type: ";
    out += content_type;
    out += "\r\n";
    if (chunked) {
      out += "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\n";
    } else {
      out += "Content-Length: " + std::to_string(answer_.body.size()) + "\r\n";
    }
    out += KeepsAlive() ? "Keep-Alive: timeout=5, max=100\r\n" : "Connection: close\r\n";
    for (const auto& [name, value] : answer_.headers) out += name + ": " + value + "\r\n";
    out += "\r\n";
    return out;
  }

  bool KeepsAlive() const { return keep_alive_ && !answer_.close_connection && !answer_.cut; }

  void WriteResponse() {
    out_ = Headers(answer_.content_type, /*chunked=*/false);
    out_.append(answer_.body, 0, answer_.cut ? answer_.body.size() / 2 : answer_.body.size());
    net::async_write(socket_, net::buffer(out_),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec || self->answer_.cut) return self->Close();
                       self->FinishExchange();
                     });
  }

  void WriteStreamHeader() {
    out_ = Headers("text/event-stream", /*chunked=*/true);
    next_event_ = 0;
    WriteEvents();
  }

  // Writes the next event (or all of them when there is no interval), then waits the interval.
  void WriteEvents() {
    const size_t limit = answer_.cut ? answer_.cut_after_events : answer_.events.size();
    const bool paced = answer_.event_interval.count() > 0;
    while (next_event_ < limit) {
      AppendChunk(out_, answer_.events[next_event_++]);
      if (paced) break;
    }
    const bool done = next_event_ == limit;
    if (done && !answer_.cut) out_ += "0\r\n\r\n";
    net::async_write(socket_, net::buffer(out_),
                     [self = shared_from_this(), done](beast::error_code ec, size_t) {
                       if (ec) return self->Close();
                       self->out_.clear();
                       if (!done) {
                         self->timer_.expires_after(self->answer_.event_interval);
                         self->timer_.async_wait([self](beast::error_code wait_ec) {
                           if (!wait_ec) self->WriteEvents();
                         });
                         return;
                       }
                       if (self->answer_.cut) return self->Close();
                       self->FinishExchange();
                     });
  }

  // Holds the socket open, reading and discarding, until the client closes it.
  void Stall() {
    socket_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Stall();
                            });
  }

  void FinishExchange() {
    if (counted_) {
      counted_ = false;
      service_.Finished();
    }
    const bool keep_alive = KeepsAlive();
    answer_ = Answer();
    std::string().swap(out_);  // an idle keep-alive connection should hold no response memory
    if (!keep_alive) return Close();
    ReadRequest();
  }

  void Close() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  Service& service_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Answer answer_;
  std::string out_;
  size_t next_event_ = 0;
  bool keep_alive_ = true;
  bool counted_ = false;
  std::array<char, 512> discard_{};
};

class Listener {
 public:
  Listener(net::io_context& io, tcp::acceptor acceptor, Service& service)
      : acceptor_(std::move(acceptor)), backoff_(io), service_(service) {}

  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors or memory: the connection waits in the backlog; retry shortly.
        std::fprintf(stderr, "fake_llm_server: accept: %s\n", ec.message().c_str());
        backoff_.expires_after(std::chrono::milliseconds(20));
        backoff_.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec) Accept();
        });
        return;
      }
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), service_)->ReadRequest();
      Accept();
    });
  }

  void Stop() {
    beast::error_code ignored;
    acceptor_.close(ignored);
    backoff_.cancel();
  }

 private:
  tcp::acceptor acceptor_;
  net::steady_timer backoff_;
  Service& service_;
};

}  // namespace

tl::expected<void, std::string> ServeHttp(const HttpServerOptions& options, Service& service,
                                          const std::function<void(uint16_t)>& on_listening) {
  // One thread: the fake's whole state is touched only here, so it needs no locks.
  net::io_context io(1);
  beast::error_code ec;
  const auto address = net::ip::make_address(options.host, ec);
  if (ec)
    return tl::unexpected("--host " + options.host + ": expected an IP address: " + ec.message());
  const tcp::endpoint endpoint(address, options.port);
  tcp::acceptor acceptor(io);
  const std::string where = options.host + ":" + std::to_string(options.port);
  if (acceptor.open(endpoint.protocol(), ec); ec)
    return tl::unexpected("open " + where + ": " + ec.message());
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (acceptor.bind(endpoint, ec); ec) return tl::unexpected("bind " + where + ": " + ec.message());
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec) {
    return tl::unexpected("listen " + where + ": " + ec.message());
  }
  const uint16_t port = acceptor.local_endpoint().port();

  Listener listener(io, std::move(acceptor), service);
  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code wait_ec, int) {
    if (wait_ec) return;
    listener.Stop();
    io.stop();
  });
  listener.Accept();
  on_listening(port);
  io.run();
  return {};
}

}  // namespace chorus::fake
