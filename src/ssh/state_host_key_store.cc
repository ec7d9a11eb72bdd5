#include "ssh/state_host_key_store.h"

namespace racksmith::ssh {

Result<std::optional<std::string>> StateHostKeyStore::Lookup(std::string_view node,
                                                             std::string_view key_type) {
  auto rec = store_.LookupHostKey(node, key_type);
  if (!rec.ok()) return rec.error();
  if (!rec->has_value()) return std::optional<std::string>();
  return std::optional<std::string>((*rec)->key);
}

Status StateHostKeyStore::Record(std::string_view node, std::string_view address,
                                 std::string_view key_type, std::string_view key) {
  return store_.RecordHostKey(node, address, key_type, key);
}

Result<int> StateHostKeyStore::Forget(std::string_view node) { return store_.ForgetHostKeys(node); }

}  // namespace racksmith::ssh
