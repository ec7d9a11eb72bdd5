// Helpers shared by the state store tests.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "base/clock.h"
#include "state/store.h"

namespace racksmith::state::testing {

/// Opens (creating) the store at `path`; fails the test with the error's text otherwise.
inline std::unique_ptr<Store> MustOpen(const std::string& path, const Clock& clock) {
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path, clock);
  if (!store.ok()) FAIL("opening " << path << ": " << store.error().ToString());
  return std::move(*store);
}

/// REQUIREs a Status or Result to be ok, printing its error when not.
#define RS_REQUIRE_OK(expr)                                                     \
  do {                                                                          \
    auto&& rs_result_ = (expr);                                                 \
    if (!rs_result_.ok()) FAIL(#expr << ": " << rs_result_.error().ToString()); \
  } while (0)

}  // namespace racksmith::state::testing
