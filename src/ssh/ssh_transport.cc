#include "ssh/ssh_transport.h"

#include <list>
#include <unordered_map>

#include "ssh/ssh_session.h"

namespace racksmith::ssh {

// One slot per node; a slot's mutex serialises the calls on its session. The pool's mutex
// guards only the map and the LRU list, never network I/O, so nodes proceed in parallel.
class SshTransport::Pool {
 public:
  Pool(transport::HostKeyStore& keys, transport::TransportOptions options)
      : keys_(keys), options_(options) {}

  struct Slot {
    std::mutex mu;
    std::unique_ptr<SshSession> session;  // GUARDED_BY(mu)
    int users = 0;                        // GUARDED_BY(Pool::mu_)
  };

  // Runs fn(session) with the node's session, connecting first when needed.
  template <typename T, typename Fn>
  Result<T> With(const transport::Endpoint& node, Fn fn) {
    std::shared_ptr<Slot> slot = Acquire(node.node);
    Result<T> out = [&]() -> Result<T> {
      std::lock_guard lock(slot->mu);
      if (slot->session && !slot->session->alive()) slot->session.reset();
      if (!slot->session) {
        auto opened = SshSession::Open(node, keys_, options_.connect_timeout);
        if (!opened.ok()) return opened.error();
        slot->session = std::move(*opened);
      }
      Result<T> r = fn(*slot->session);
      // A broken connection is dropped so the next call reconnects cleanly.
      if (!r.ok() && r.error().code() != ErrorCode::kConflict && !slot->session->alive()) {
        slot->session.reset();
      }
      return r;
    }();
    Release(node.node, slot);
    return out;
  }

  void Drop(const std::string& node) {
    std::shared_ptr<Slot> slot;
    {
      std::lock_guard lock(mu_);
      auto it = slots_.find(node);
      if (it == slots_.end()) return;
      slot = it->second;
      slots_.erase(it);
      lru_.remove(node);
    }
    std::lock_guard lock(slot->mu);
    slot->session.reset();
  }

 private:
  std::shared_ptr<Slot> Acquire(const std::string& node) {
    std::lock_guard lock(mu_);
    auto& slot = slots_[node];
    if (!slot) slot = std::make_shared<Slot>();
    ++slot->users;
    lru_.remove(node);
    lru_.push_back(node);
    EvictLocked();
    return slot;
  }

  void Release(const std::string& node, const std::shared_ptr<Slot>& slot) {
    std::lock_guard lock(mu_);
    --slot->users;
    (void)node;
    EvictLocked();
  }

  // Closes the least recently used idle connections past the limit.
  void EvictLocked() {
    for (auto it = lru_.begin();
         static_cast<int>(slots_.size()) > options_.max_open_connections && it != lru_.end();) {
      auto s = slots_.find(*it);
      if (s != slots_.end() && s->second->users == 0) {
        slots_.erase(s);  // the session closes when its Slot is destroyed
        it = lru_.erase(it);
      } else {
        ++it;
      }
    }
  }

  transport::HostKeyStore& keys_;
  transport::TransportOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Slot>> slots_;  // GUARDED_BY(mu_)
  std::list<std::string> lru_;                                    // GUARDED_BY(mu_)
};

SshTransport::SshTransport(transport::HostKeyStore& host_keys, transport::TransportOptions options)
    : pool_(std::make_unique<Pool>(host_keys, options)) {}

SshTransport::~SshTransport() = default;

Result<transport::ExecResult> SshTransport::Exec(const transport::Endpoint& node,
                                                 const transport::ExecRequest& request) {
  return pool_->With<transport::ExecResult>(node, [&](SshSession& s) { return s.Exec(request); });
}

Status SshTransport::Upload(const transport::Endpoint& node,
                            const transport::UploadRequest& request) {
  auto r = pool_->With<bool>(node, [&](SshSession& s) -> Result<bool> {
    Status st = s.Upload(request);
    if (!st.ok()) return st.error();
    return true;
  });
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Result<std::string> SshTransport::Download(const transport::Endpoint& node,
                                           const std::string& remote_path) {
  return pool_->With<std::string>(node, [&](SshSession& s) { return s.Download(remote_path); });
}

void SshTransport::Disconnect(const std::string& node) { pool_->Drop(node); }

}  // namespace racksmith::ssh
