// racksmith/exec: ClusterDriver, the production StepDriver: how each plan step is done on
// real machines, over a BMC (Redfish), SSH (commands, playbooks, marker files) and Slurm.
//
// Contract:
// - One code path for real clusters and the lab: the driver never asks which it talks to.
//   docs/cluster-driver.md says how each step kind is done and what its guard checks.
// - What a step applied is proven on the node by a marker file holding the step's content
//   hash: /etc/racksmith/image for the image, /etc/racksmith/components/<component> for
//   install, configure and mount. Guards read markers, BMC state, Slurm and the store;
//   CheckGuard never changes anything.
// - Outcomes: connection refused, timeouts and a busy BMC (HTTP 503/429/502/504) are
//   StepOutcome::Transient; everything else is Failed, with a message that names the node,
//   what was expected and what was found. Every wait watches ctx.interrupt (Abort) and
//   ctx.deadline_ms (read on the Clock given here, the executor's).
// - Output (the journal's tail) is a few lines of what was done, never a secret: BMC
//   passwords are resolved inside the BmcFactory, SSH keys are files, and playbook tasks
//   marked no_log stay hidden.
// - Thread-safety: Run and CheckGuard may be called from several threads at once (different
//   nodes, independent steps of one node); the BmcFactory, the Transport and the
//   SlurmControl given here must be thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "bmc/bmc.h"
#include "exec/executor.h"
#include "inventory/inventory.h"
#include "slurm/slurm_control.h"
#include "state/store.h"
#include "transport/transport.h"

namespace racksmith::exec {

/// Makes the Bmc of a node (Redfish in production: see docs/cluster-driver.md). Secrets are
/// resolved inside, at the call; the Bmc is used by one step and then dropped.
using BmcFactory = std::function<Result<std::unique_ptr<bmc::Bmc>>(const inventory::Node&)>;

/// How the driver reaches nodes over SSH.
struct SshAccess {
  /// Pooled SSH (ssh::SshTransport) whose host keys are checked against the state store:
  /// first contact recorded, a changed key refused. Required for SSH steps.
  transport::Transport* transport = nullptr;
  /// The same host key store, used only to forget a node's keys after a reimage when
  /// ClusterDriverOptions::forget_host_keys_on_reimage allows it. May be null.
  transport::HostKeyStore* host_keys = nullptr;
  /// Where and as whom to reach a node. Empty: InventoryEndpoint. The CLI passes one that
  /// also resolves {env:} keys into memory; tests pass one with the lab's client key.
  std::function<Result<transport::Endpoint>(const inventory::Node&)> endpoint;
};

/// A node's endpoint from the inventory: `ip`, `ssh.port`, `ssh.user`, `ssh.key_path` or a
/// {file:} `ssh.key` ("~/" expanded), `ssh.agent`. A key given as {env: NAME} is refused
/// (InvalidInput): the caller must hold it in memory (the CLI does) and pass `endpoint`.
Result<transport::Endpoint> InventoryEndpoint(const inventory::Node& node);

struct ClusterDriverOptions {
  /// Where slurm.yaml, mounts.yaml, nvidia-driver.yaml and cuda.yaml are.
  std::string playbooks_dir = "playbooks";
  /// Extra variables every playbook gets (-e): slurm_control_host, munge_key_file, ...
  nlohmann::ordered_json playbook_vars = nlohmann::ordered_json::object();
  int64_t poll_interval_ms = 2'000;         // between probes of SSH, the BMC and Slurm
  int64_t boot_timeout_ms = 900'000;        // reset or power on until SSH answers a new boot
  int64_t power_timeout_ms = 300'000;       // until the BMC reports the wanted power state
  int64_t firmware_timeout_ms = 3'600'000;  // one firmware update task
  int64_t drain_timeout_ms = 0;             // until jobs left a drained node; 0: the deadline
  int64_t admit_timeout_ms = 120'000;       // after resume, until Slurm has it in service
  int64_t command_timeout_ms = 1'800'000;   // one SSH command (apt-get, dcgmi) or playbook task
  /// After a reimage the node may come back with new host keys. false (default): the
  /// recorded keys must still match (the lab and images that carry their host keys);
  /// true: the node's keys are forgotten at the reset and learnt again at first contact.
  bool forget_host_keys_on_reimage = false;
  /// When a firmware task completed but the BMC still reports the old version (BIOS updates
  /// that apply at the next boot), restart the host and wait for the new version.
  bool reset_to_apply_firmware = true;
  /// Firmware images: `vars.firmware_images.<key>` of the node (key as under `firmware:`:
  /// bmc, bios, nic; "{version}" in it replaced by the wanted version) wins; else
  /// "<firmware_base_uri>/<key>-<version>.bin" when set.
  std::string firmware_base_uri;
  /// Packages for install/remove of software other than nvidia_driver and cuda (which
  /// have playbooks): component -> package names. A component not listed is its own name.
  std::map<std::string, std::vector<std::string>> packages = {
      {"dcgm", {"datacenter-gpu-manager"}},
      {"nccl", {"libnccl2"}},
  };
  int dcgm_diag_level = 1;  // `dcgmi diag -r LEVEL -j` in the burn-in health check
};

class ClusterDriver : public StepDriver {
 public:
  /// `inventory`, `clock`, the transport in `ssh`, `slurm` and `facts` must outlive the
  /// driver. `slurm` may be null (then drain and admit fail: no Slurm controller
  /// configured). `facts`: the store FirmwareGroup reads BMC vendors from (may be null).
  ClusterDriver(const inventory::Inventory& inventory, BmcFactory bmc, SshAccess ssh,
                slurm::SlurmControl* slurm, const Clock& clock, ClusterDriverOptions options,
                state::Store* facts = nullptr);
  ~ClusterDriver() override;
  ClusterDriver(const ClusterDriver&) = delete;
  ClusterDriver& operator=(const ClusterDriver&) = delete;

  StepOutcome Run(const plan::Step& step, const StepContext& ctx) override;
  GuardResult CheckGuard(const plan::Step& step, const StepContext& ctx) override;
  /// BMC: power state, firmware versions (bios, bmc_firmware, firmware_*); over SSH when the
  /// power is not Off: the driver version (nvidia-smi), CUDA (nvcc) and every component
  /// marker's hash. docs/cluster-driver.md, "Live facts".
  Result<plan::LiveFacts> ReadLive(const inventory::Node& node,
                                   const std::vector<std::string>& components,
                                   const StepContext& ctx) override;
  /// The BMC vendor ("manufacturer") of the node's latest BMC facts; "" when unknown.
  std::string FirmwareGroup(const inventory::Node& node) override;

  struct Parts;  // internal (cluster_driver_internal.h)

 private:
  std::unique_ptr<Parts> parts_;
};

}  // namespace racksmith::exec
