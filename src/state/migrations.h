// racksmith/state (internal): the schema, as an ordered list of migrations.
//
// To change the schema, append a migration; never edit one that has shipped, since
// databases in the field were built by it. Migration N takes a version N-1 database to
// version N and runs inside the same transaction as the schema_version update.
#pragma once

#include <span>
#include <string_view>

namespace racksmith::state {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

/// Every migration, in order; element i has version i + 1.
std::span<const Migration> Migrations();

}  // namespace racksmith::state
