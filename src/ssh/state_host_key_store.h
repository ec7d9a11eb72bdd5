// racksmith/ssh: host keys kept in the state store (state.db), for the CLI.
//
// Contract: a transport::HostKeyStore over state::Store's host key records. `store` must
// outlive this object. Thread-safe because state::Store serialises its calls.
#pragma once

#include "state/store.h"
#include "transport/transport.h"

namespace racksmith::ssh {

class StateHostKeyStore : public transport::HostKeyStore {
 public:
  explicit StateHostKeyStore(state::Store& store) : store_(store) {}
  Result<std::optional<std::string>> Lookup(std::string_view node,
                                            std::string_view key_type) override;
  Status Record(std::string_view node, std::string_view address, std::string_view key_type,
                std::string_view key) override;
  Result<int> Forget(std::string_view node) override;

 private:
  state::Store& store_;
};

}  // namespace racksmith::ssh
