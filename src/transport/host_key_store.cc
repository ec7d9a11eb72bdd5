#include <spdlog/spdlog.h>

#include "transport/transport.h"

namespace racksmith::transport {

Result<HostKeyVerdict> CheckHostKey(HostKeyStore& store, const Endpoint& node,
                                    std::string_view key_type, std::string_view key) {
  auto known = store.Lookup(node.node, key_type);
  if (!known.ok()) return known.error().WithContext("host key of " + node.node);
  std::string where = node.address + ":" + std::to_string(node.port);
  if (!known->has_value()) {
    Status recorded = store.Record(node.node, where, key_type, key);
    if (!recorded.ok()) return recorded.error().WithContext("host key of " + node.node);
    spdlog::info("{} ({}): first contact, recorded {} host key", node.node, where, key_type);
    return HostKeyVerdict::kFirstContact;
  }
  if (**known == key) {
    // Refreshes last_seen/address where the store keeps them; a failure here is harmless.
    (void)store.Record(node.node, where, key_type, key);
    return HostKeyVerdict::kKnown;
  }
  return Error(ErrorCode::kConflict,
               node.node + " (" + where + "): " + std::string(key_type) +
                   " host key changed: expected the recorded key, found a different one; "
                   "refusing the node. If the node was legitimately reinstalled, run "
                   "`racksmith hostkey forget " +
                   node.node + "` and connect again");
}

Result<std::optional<std::string>> InMemoryHostKeyStore::Lookup(std::string_view node,
                                                                std::string_view key_type) {
  std::lock_guard lock(mu_);
  auto it = keys_.find({std::string(node), std::string(key_type)});
  if (it == keys_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status InMemoryHostKeyStore::Record(std::string_view node, std::string_view /*address*/,
                                    std::string_view key_type, std::string_view key) {
  std::lock_guard lock(mu_);
  auto [it, inserted] =
      keys_.emplace(std::pair{std::string(node), std::string(key_type)}, std::string(key));
  if (!inserted && it->second != key) {
    return Error(ErrorCode::kConflict, std::string(node) + ": a different " +
                                           std::string(key_type) + " host key is recorded");
  }
  return Status::Ok();
}

Result<int> InMemoryHostKeyStore::Forget(std::string_view node) {
  std::lock_guard lock(mu_);
  int n = 0;
  for (auto it = keys_.begin(); it != keys_.end();) {
    if (it->first.first == node) {
      it = keys_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

}  // namespace racksmith::transport
