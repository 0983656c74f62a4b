#include "model/curl_client.h"

#include <sys/epoll.h>

#include <string>
#include <utility>

#include "model/curl_api.h"
#include "model/deadline_heap.h"

namespace chorus {
namespace {

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

// One request's state, pooled together with its easy handle so that steady-state traffic
// allocates neither.
struct CurlClient::Transfer {
  CURL* easy = nullptr;
  Shard* shard = nullptr;
  HttpRequest request;
  curl_slist* header_list = nullptr;
  HttpHeaders headers;
  std::string* last_header_value = nullptr;  // for obsolete folded continuation lines
  bool headers_delivered = false;
  bool aborted_by_receiver = false;
  size_t live_index = 0;  // position in live_
  char error[CURL_ERROR_SIZE] = {};
};

// libcurl 7.88 walks a multi handle's whole connection cache when a transfer starts
// (ConnectionExists) and again when it is removed (close_connect_only), so one multi handle
// with n transfers costs O(n) per request. Transfers are therefore spread over multi handles
// ("shards") of bounded size, all driven by the same thread and epoll set: per-request work
// stays O(kShardCapacity) however many transfers are in flight. New transfers fill the
// lowest shard with room, so light traffic stays on shard 0 and keeps reusing its connections.
constexpr int kShardCapacity = 512;

struct CurlClient::Shard {
  CURLM* multi = nullptr;
  CurlClient* owner = nullptr;
  uint32_t index = 0;
  int active = 0;
  int64_t deadline_us = -1;  // when curl wants CURL_SOCKET_TIMEOUT; -1: no timer
};

namespace {

// Only called once a request has loaded libcurl (Start); before that there is nothing to
// clean up, time out or read.
const CurlApi& Curl() { return **LoadCurl(); }

}  // namespace

CurlClient::CurlClient(int epoll_fd, std::vector<uint32_t>* owners, long max_cached_connections,
                       size_t max_idle_handles, std::atomic<int64_t>* active)
    : epoll_fd_(epoll_fd),
      owners_(owners),
      max_cached_connections_(max_cached_connections),
      max_idle_handles_(max_idle_handles),
      active_(active) {}

CurlClient::~CurlClient() {
  for (auto& shard : shards_) Curl().multi_cleanup(shard->multi);  // closes cached connections
  for (auto& t : idle_) Curl().easy_cleanup(t->easy);
}

void CurlClient::OnEvent(int fd, uint32_t events, uint32_t owner) {
  int flags = 0;
  if (events & EPOLLIN) flags |= CURL_CSELECT_IN;
  if (events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
  if (events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
  int still_running = 0;
  Curl().multi_socket_action(shards_[owner - 1]->multi, fd, flags, &still_running);
}

int64_t CurlClient::NextDeadlineUs() const {
  int64_t earliest = -1;
  for (const auto& shard : shards_) {
    if (shard->deadline_us >= 0 && (earliest < 0 || shard->deadline_us < earliest)) {
      earliest = shard->deadline_us;
    }
  }
  return earliest;
}

void CurlClient::RunExpiredTimers(int64_t now_us) {
  for (auto& shard : shards_) {
    if (shard->deadline_us < 0 || shard->deadline_us > now_us) continue;
    shard->deadline_us = -1;  // curl re-arms through OnTimer if it still needs one
    int still_running = 0;
    Curl().multi_socket_action(shard->multi, CURL_SOCKET_TIMEOUT, 0, &still_running);
  }
}

void CurlClient::CancelAll() {
  while (!live_.empty()) {
    Transfer* t = live_.back().get();
    Complete(t, Status::Cancelled(t->request.method + " " + RedactUrl(t->request.url) +
                                  ": cancelled, the HTTP transport is shutting down"));
  }
}

CurlClient::Shard* CurlClient::ShardWithRoom() {
  for (auto& shard : shards_) {
    if (shard->active < kShardCapacity) return shard.get();
  }
  auto shard = std::make_unique<Shard>();
  shard->multi = Curl().multi_init();
  if (shard->multi == nullptr) return nullptr;
  shard->owner = this;
  shard->index = static_cast<uint32_t>(shards_.size());
  Curl().multi_setopt(shard->multi, CURLMOPT_SOCKETFUNCTION, &CurlClient::OnSocket);
  Curl().multi_setopt(shard->multi, CURLMOPT_SOCKETDATA, shard.get());
  Curl().multi_setopt(shard->multi, CURLMOPT_TIMERFUNCTION, &CurlClient::OnTimer);
  Curl().multi_setopt(shard->multi, CURLMOPT_TIMERDATA, shard.get());
  Curl().multi_setopt(shard->multi, CURLMOPT_MAXCONNECTS, max_cached_connections_);
  shards_.push_back(std::move(shard));
  return shards_.back().get();
}

void CurlClient::Start(HttpRequest request) {
  // libcurl (and the TLS library behind it) is initialised by the first request that needs
  // it: a run on plain-HTTP or offline models never pays for it, in time or in memory.
  if (Result<const CurlApi*> loaded = LoadCurl(); !loaded) {
    active_->fetch_sub(1, std::memory_order_relaxed);
    if (request.on_done) request.on_done(loaded.error());
    return;
  }
  std::unique_ptr<Transfer> t;
  if (!idle_.empty()) {
    t = std::move(idle_.back());
    idle_.pop_back();
  } else {
    t = std::make_unique<Transfer>();
    t->easy = Curl().easy_init();
    if (t->easy == nullptr) {
      active_->fetch_sub(1, std::memory_order_relaxed);
      if (request.on_done) {
        request.on_done(Status::ResourceExhausted(request.method + " " + RedactUrl(request.url) +
                                                  ": curl_easy_init failed (out of memory)"));
      }
      return;
    }
  }
  t->request = std::move(request);
  HttpRequest& r = t->request;
  CURL* easy = t->easy;

  for (const std::string& line : r.headers) {
    t->header_list = Curl().slist_append(t->header_list, line.c_str());
  }
  t->header_list = Curl().slist_append(t->header_list, "Expect:");

  Curl().easy_setopt(easy, CURLOPT_URL, r.url.c_str());
  Curl().easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  if (r.method == "GET" && r.body.empty()) {
    Curl().easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else if (r.method == "HEAD") {
    Curl().easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else {
    // POSTFIELDS points into the request: the body is sent without being copied.
    Curl().easy_setopt(easy, CURLOPT_POSTFIELDS, r.body.data());
    Curl().easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    if (r.method != "POST") Curl().easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  Curl().easy_setopt(easy, CURLOPT_HTTPHEADER, t->header_list);
  Curl().easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  Curl().easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  // Chat responses arrive in small pieces; a 4 KiB receive buffer (curl's default is 16) keeps
  // 100,000 concurrent transfers within a few hundred MB.
  Curl().easy_setopt(easy, CURLOPT_BUFFERSIZE, 4096L);
  Curl().easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout_ms));
  Curl().easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout_ms));
  Curl().easy_setopt(easy, CURLOPT_PRIVATE, t.get());
  Curl().easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error);
  Curl().easy_setopt(easy, CURLOPT_HEADERFUNCTION, &CurlClient::OnHeaderLine);
  Curl().easy_setopt(easy, CURLOPT_HEADERDATA, t.get());
  Curl().easy_setopt(easy, CURLOPT_WRITEFUNCTION, &CurlClient::OnBody);
  Curl().easy_setopt(easy, CURLOPT_WRITEDATA, t.get());

  Transfer* raw = t.get();
  raw->live_index = live_.size();
  live_.push_back(std::move(t));
  Shard* shard = ShardWithRoom();
  if (shard == nullptr) {
    Complete(raw, Status::ResourceExhausted(r.method + " " + RedactUrl(r.url) +
                                            ": curl_multi_init failed (out of memory)"));
    return;
  }
  CURLMcode rc = Curl().multi_add_handle(shard->multi, easy);
  if (rc != CURLM_OK) {
    Complete(raw, Status::Internal(r.method + " " + RedactUrl(r.url) +
                                   ": curl_multi_add_handle failed: " + Curl().multi_strerror(rc)));
    return;
  }
  raw->shard = shard;
  ++shard->active;
}

void CurlClient::HarvestFinished() {
  // Indexing, not iterators: a callback may start transfers that create a shard.
  for (size_t i = 0; i < shards_.size(); ++i) {
    CURLMsg* msg;
    int left = 0;
    while ((msg = Curl().multi_info_read(shards_[i]->multi, &left)) != nullptr) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode rc = msg->data.result;  // msg dies with remove_handle
      Transfer* t = nullptr;
      Curl().easy_getinfo(easy, CURLINFO_PRIVATE, &t);
      Complete(t, StatusFromCurl(*t, rc));
    }
  }
}

void CurlClient::Complete(Transfer* t, Status status) {
  if (t->shard != nullptr) {
    Curl().multi_remove_handle(t->shard->multi, t->easy);
    --t->shard->active;
    t->shard = nullptr;
  }
  if (status.ok() && !t->headers_delivered) DeliverHeaders(t);
  auto on_done = std::move(t->request.on_done);

  // Swap-remove from live_ and recycle.
  size_t index = t->live_index;
  std::unique_ptr<Transfer> owned = std::move(live_[index]);
  if (index + 1 != live_.size()) {
    live_[index] = std::move(live_.back());
    live_[index]->live_index = index;
  }
  live_.pop_back();
  Curl().slist_free_all(owned->header_list);
  owned->header_list = nullptr;
  owned->request = HttpRequest{};
  owned->headers.clear();
  owned->last_header_value = nullptr;
  owned->headers_delivered = false;
  owned->aborted_by_receiver = false;
  owned->error[0] = '\0';
  if (idle_.size() < max_idle_handles_) {
    Curl().easy_reset(owned->easy);
    idle_.push_back(std::move(owned));
  } else {
    Curl().easy_cleanup(owned->easy);
  }

  active_->fetch_sub(1, std::memory_order_relaxed);
  if (on_done) on_done(std::move(status));
}

Status CurlClient::StatusFromCurl(const Transfer& t, CURLcode rc) const {
  if (rc == CURLE_OK) return Status::Ok();
  std::string where = t.request.method + " " + RedactUrl(t.request.url) + ": ";
  std::string detail = t.error[0] != '\0' ? t.error : Curl().easy_strerror(rc);
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return Status::DeadlineExceeded(where + "timed out (" + detail + ")");
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
      if (t.aborted_by_receiver) return Status::Cancelled(where + "aborted by the receiver");
      return Status::Unavailable(where + detail);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Status::InvalidArgument(where + "expected an http:// or https:// URL (" + detail +
                                     ")");
    case CURLE_OUT_OF_MEMORY:
      return Status::ResourceExhausted(where + detail);
    case CURLE_COULDNT_CONNECT:
      return Status::Unavailable(where + "connection failed (" + detail + ")");
    default:
      return Status::Unavailable(where + detail);
  }
}

int CurlClient::OnTimer(CURLM*, long timeout_ms, void* shard_ptr) noexcept {
  auto* shard = static_cast<Shard*>(shard_ptr);
  shard->deadline_us =
      timeout_ms < 0 ? -1 : SteadyNowUs() + static_cast<int64_t>(timeout_ms) * 1000;
  return 0;
}

int CurlClient::OnSocket(CURL*, curl_socket_t fd, int what, void* shard_ptr, void*) noexcept {
  auto* shard = static_cast<Shard*>(shard_ptr);
  CurlClient* self = shard->owner;
  auto index = static_cast<size_t>(fd);
  if (index >= self->owners_->size()) self->owners_->resize(index + 1024, 0);
  if (what == CURL_POLL_REMOVE) {
    // A number curl closed without telling us may since belong to the HTTP/1.1 client.
    if (!self->Owns(index)) return 0;
    epoll_ctl(self->epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    (*self->owners_)[index] = 0;
    return 0;
  }
  epoll_event ev{};
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  ev.data.fd = fd;
  int op = self->Owns(index) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(self->epoll_fd_, op, fd, &ev) != 0) {
    // Our bookkeeping can be stale when curl closed a descriptor without telling us and the
    // number was reused; retry with the other operation.
    op = errno == EEXIST ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    epoll_ctl(self->epoll_fd_, op, fd, &ev);
  }
  (*self->owners_)[index] = shard->index + 1;
  return 0;
}

void CurlClient::DeliverHeaders(Transfer* t) {
  t->headers_delivered = true;
  long code = 0;
  Curl().easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
  if (t->request.on_headers) t->request.on_headers(static_cast<int>(code), t->headers);
}

size_t CurlClient::OnHeaderLine(char* data, size_t size, size_t count, void* t_ptr) noexcept {
  auto* t = static_cast<Transfer*>(t_ptr);
  size_t n = size * count;
  if (t->headers_delivered) return n;  // trailers
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {  // a new response (after a 1xx or a redirect)
    t->headers.clear();
    t->last_header_value = nullptr;
    return n;
  }
  if (line == "\r\n" || line == "\n") {
    long code = 0;
    Curl().easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200) DeliverHeaders(t);
    return n;
  }
  if ((line.front() == ' ' || line.front() == '\t') && t->last_header_value != nullptr) {
    t->last_header_value->push_back(' ');
    t->last_header_value->append(Trim(line));
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(Trim(line.substr(0, colon)));
  for (char& c : name) c = AsciiLower(c);
  std::string_view value = Trim(line.substr(colon + 1));
  auto [it, inserted] = t->headers.try_emplace(std::move(name), value);
  if (!inserted) {
    it->second.append(", ");
    it->second.append(value);
  }
  t->last_header_value = &it->second;
  return n;
}

size_t CurlClient::OnBody(char* data, size_t size, size_t count, void* t_ptr) noexcept {
  auto* t = static_cast<Transfer*>(t_ptr);
  size_t n = size * count;
  if (!t->headers_delivered) DeliverHeaders(t);
  if (t->request.on_data && !t->request.on_data(std::string_view(data, n))) {
    t->aborted_by_receiver = true;
    return 0;  // any short count makes curl fail the transfer with CURLE_WRITE_ERROR
  }
  return n;
}

}  // namespace chorus
