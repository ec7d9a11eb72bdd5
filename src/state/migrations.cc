#include "state/migrations.h"

#include <array>

namespace racksmith::state {
namespace {

// Times are integer milliseconds since the Unix epoch; JSON columns hold JSON text.
// Step, run and node state names are checked by the code that writes them, not by CHECK
// constraints, so that adding a state is a code change and not a table rebuild.
constexpr std::array kMigrations = {
    Migration{1, "nodes, lifecycle history, components, runs, journal, apply lock", R"sql(
CREATE TABLE nodes (
  name        TEXT PRIMARY KEY,
  state       TEXT NOT NULL,
  reason      TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE TABLE runs (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  command_line TEXT NOT NULL,
  user         TEXT NOT NULL,
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER NOT NULL DEFAULT 0,
  outcome      TEXT NOT NULL DEFAULT 'running'
);
CREATE TABLE node_state_history (
  id          INTEGER PRIMARY KEY,
  node        TEXT NOT NULL REFERENCES nodes(name),
  from_state  TEXT,
  to_state    TEXT NOT NULL,
  reason      TEXT NOT NULL DEFAULT '',
  run_id      INTEGER REFERENCES runs(id),
  at          INTEGER NOT NULL
);
CREATE INDEX node_state_history_by_node ON node_state_history(node, id);
CREATE TABLE components (
  node          TEXT NOT NULL REFERENCES nodes(name),
  component     TEXT NOT NULL,
  version       TEXT NOT NULL DEFAULT '',
  content_hash  TEXT NOT NULL,
  applied_at    INTEGER NOT NULL,
  run_id        INTEGER REFERENCES runs(id),
  PRIMARY KEY (node, component)
) WITHOUT ROWID;
CREATE TABLE steps (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id       INTEGER NOT NULL REFERENCES runs(id),
  node         TEXT NOT NULL REFERENCES nodes(name),
  kind         TEXT NOT NULL,
  component    TEXT NOT NULL DEFAULT '',
  intent       TEXT NOT NULL DEFAULT '{}',
  status       TEXT NOT NULL,
  attempt      INTEGER NOT NULL DEFAULT 1,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER NOT NULL DEFAULT 0,
  error        TEXT NOT NULL DEFAULT '',
  output_tail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX steps_by_node ON steps(node, id);
CREATE INDEX steps_by_run ON steps(run_id, id);
CREATE TABLE apply_lock (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  description  TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  host         TEXT NOT NULL,
  since        INTEGER NOT NULL
);
)sql"},
    Migration{2, "SSH host keys and BMC facts", R"sql(
CREATE TABLE host_keys (
  node        TEXT NOT NULL,
  key_type    TEXT NOT NULL,
  address     TEXT NOT NULL DEFAULT '',
  key         TEXT NOT NULL,
  first_seen  INTEGER NOT NULL,
  last_seen   INTEGER NOT NULL,
  PRIMARY KEY (node, key_type)
) WITHOUT ROWID;
CREATE TABLE bmc_facts (
  id            INTEGER PRIMARY KEY,
  node          TEXT NOT NULL,
  facts         TEXT NOT NULL,
  collected_at  INTEGER NOT NULL
);
CREATE INDEX bmc_facts_by_node ON bmc_facts(node, id);
)sql"},
    Migration{3, "burn-in results", R"sql(
CREATE TABLE burnin_results (
  id       INTEGER PRIMARY KEY,
  node     TEXT NOT NULL REFERENCES nodes(name),
  run_id   INTEGER REFERENCES runs(id),
  passed   INTEGER NOT NULL,
  summary  TEXT NOT NULL DEFAULT '{}',
  at       INTEGER NOT NULL
);
CREATE INDEX burnin_results_by_node ON burnin_results(node, id);
)sql"},
    // Who holds the lock, beyond its pid: a pid can be reused after the holder died, or
    // after a reboot. "<boot id>/<process start time>" tells the holder apart.
    Migration{4, "apply lock: holder process identity", R"sql(
ALTER TABLE apply_lock ADD COLUMN process_identity TEXT NOT NULL DEFAULT '';
)sql"},
    // The steps a resume must look at (left running by a stopped run) are found without
    // reading the whole journal.
    Migration{5, "index of unfinished steps", R"sql(
CREATE INDEX steps_open ON steps(id) WHERE status IN ('intended', 'running');
)sql"},
    // Append new migrations here: Migration{6, "...", R"sql(...)sql"}.
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

}  // namespace racksmith::state
