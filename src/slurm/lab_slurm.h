// racksmith/slurm: a real Slurm controller for the lab (a test and demo harness).
//
// Contract:
// - StartLabSlurm writes everything under `dir` (munge key, slurm.conf, gres.conf, state,
//   spool, logs) and starts, as children of this process: one munged with its own key and
//   socket, one slurmctld, and (by default) one slurmd per node, so that nodes really
//   respond and drain/resume/show node behave as on a cluster. Debian 12's Slurm 22.05.
// - Loopback only: every daemon binds 127.0.0.1 (CommunicationParameters=NoCtldInAddrAny,
//   NoInAddrAny, NodeAddr=127.0.0.1); slurmctld on `port`, node i's slurmd on port+1+i.
//   port 0 picks a free range.
// - Runs as the current user (SlurmUser = SlurmdUser = that user); needs no root and writes
//   nothing outside `dir`.
// - Stop (also the destructor) stops the daemons it started, by pid, and kills processes
//   left by jobs whose working directory is under `dir`; nothing else.
// - GPUs are GRES `gpu` backed by `dir/dev/gpuN` links to /dev/null (slurmd wants device
//   files); CPUs are as given (SlurmdParameters=config_overrides), whatever the host has.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "slurm/slurm_control.h"

namespace racksmith::slurm {

struct LabSlurmNode {
  std::string name;  // letters, digits, '-', '_'
  int cpus = 4;
  int gpus = 0;  // Gres=gpu:N
};

struct LabSlurmOptions {
  bool start_slurmd = true;            // false: nodes exist in slurm.conf only, never respond
  int start_timeout_ms = 30'000;       // for munged, slurmctld and the nodes to come up
  std::string partition = "lab";       // one partition with every node, the default
  std::string sbin_dir = "/usr/sbin";  // where munged, slurmctld, slurmd are
};

/// How long each stage of StartLabSlurm took (for docs/slurm.md and to notice regressions).
struct LabSlurmTimings {
  int munged_ms = 0;
  int slurmctld_ms = 0;  // until `scontrol ping` answers
  int nodes_ms = 0;      // until every node is registered and responding (0 without slurmd)
};

class LabSlurm {
 public:
  LabSlurm(LabSlurm&&) noexcept;
  LabSlurm& operator=(LabSlurm&&) noexcept;
  ~LabSlurm();

  const std::string& dir() const;
  /// DIR/slurm.conf: give it to scontrol as SLURM_CONF.
  const std::string& slurm_conf() const;
  int port() const;
  const std::vector<LabSlurmNode>& nodes() const;
  const LabSlurmTimings& timings() const;
  /// Options for MakeScontrol pointing at this controller.
  ScontrolOptions scontrol_options() const;
  /// {"SLURM_CONF": slurm_conf()}, for running sinfo/sbatch/scontrol by hand.
  std::map<std::string, std::string> env() const;
  /// Pids of the daemons still running (munged, slurmctld, slurmd...).
  std::vector<pid_t> pids() const;
  /// Waits until every node is registered and responding (not UNKNOWN, no NOT_RESPONDING).
  Status WaitResponding(int timeout_ms) const;
  /// Stops everything it started; idempotent.
  void Stop();

  struct Impl;  // defined in lab_slurm.cc only

 private:
  explicit LabSlurm(std::unique_ptr<Impl> impl);
  friend Result<LabSlurm> StartLabSlurm(const std::string&, const std::vector<LabSlurmNode>&, int,
                                        const LabSlurmOptions&);
  std::unique_ptr<Impl> impl_;
};

/// True when munged, slurmctld and slurmd are installed in options.sbin_dir.
bool LabSlurmInstalled(const LabSlurmOptions& options = {});

/// Starts munged + slurmctld (+ slurmd per node) under `dir` (created if missing). On any
/// failure what was started is stopped again and the error quotes the daemon's log.
Result<LabSlurm> StartLabSlurm(const std::string& dir, const std::vector<LabSlurmNode>& nodes,
                               int port, const LabSlurmOptions& options = {});

}  // namespace racksmith::slurm
