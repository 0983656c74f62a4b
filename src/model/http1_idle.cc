// Http1Client's pool of idle connections: keeping a connection for reuse, dropping one the
// server closed, closing some to make room, and closing a burst's surplus once things are quiet.
#include <sys/epoll.h>

#include <algorithm>

#include "model/http1_client.h"
#include "model/http1_connection.h"

namespace chorus {

void Http1Client::KeepIdle(Connection* c) {
  c->phase = Http1Phase::kIdle;
  Arm(c, EPOLLIN);  // an idle connection reports the server closing it
  c->idle_index = static_cast<uint32_t>(c->host->idle.size());
  c->host->idle.push_back(c->slot);
  ++idle_;
}

void Http1Client::OnIdleEvent(Connection* c) {
  // The server closed the idle connection (or sent bytes nobody asked for): drop it.
  std::vector<uint32_t>& idle = c->host->idle;
  uint32_t last = idle.back();
  idle[c->idle_index] = last;
  slots_[last]->idle_index = c->idle_index;
  idle.pop_back();
  --idle_;
  Free(c);
}

void Http1Client::CloseOldestIdle(Host& host, size_t n) {
  // The front has waited longest: connections are reused from the back.
  std::vector<uint32_t>& idle = host.idle;
  for (size_t i = 0; i < n; ++i) Free(slots_[idle[i]].get());
  idle.erase(idle.begin(), idle.begin() + static_cast<ptrdiff_t>(n));
  for (size_t i = 0; i < idle.size(); ++i) slots_[idle[i]]->idle_index = static_cast<uint32_t>(i);
  idle_ -= n;
}

size_t Http1Client::CloseIdle(size_t count) {
  size_t closed = 0;
  for (auto& [key, host] : hosts_) {
    const size_t n = std::min(count - closed, host->idle.size());
    if (n == 0) continue;
    CloseOldestIdle(*host, n);
    closed += n;
    if (closed == count) break;
  }
  return closed;
}

int64_t Http1Client::NextIdleCloseUs() const {
  if (idle_close_us_ <= 0) return -1;
  for (const auto& [key, host] : hosts_) {
    if (host->idle.size() > kKeptIdlePerHost) return last_activity_us_ + idle_close_us_;
  }
  return -1;
}

void Http1Client::CloseLongIdle(int64_t now_us) {
  // Only once no request has started or ended for a while: closing sockets while others are
  // opened makes each connect search past more ports in TIME_WAIT, and closing them while
  // requests come and go delays those (a server on the same machine handles each close too):
  // a 10,000-item synthesis, 2.4 MB, went out 10 ms later among the closes.
  if (idle_close_us_ <= 0 || now_us - last_activity_us_ < idle_close_us_) return;
  size_t budget = kIdleClosedPerRound;
  for (auto& [key, host] : hosts_) {
    const size_t size = host->idle.size();
    const size_t n = std::min(size > kKeptIdlePerHost ? size - kKeptIdlePerHost : 0, budget);
    if (n == 0) continue;
    CloseOldestIdle(*host, n);
    budget -= n;
    if (budget == 0) break;
  }
}

}  // namespace chorus
