// The driver `apply` uses: ClusterDriver with Redfish BMCs, pooled SSH whose host keys live in
// the store, the shipped playbooks and scontrol. This file only wires them together.
#include "cli/apply_driver.h"

#include <chrono>
#include <map>
#include <mutex>

#include "cli/bmc_cmd.h"
#include "cli/ssh_targets.h"
#include "exec/cluster_driver.h"
#include "redfish/redfish.h"
#include "slurm/slurm_control.h"
#include "ssh/ssh_transport.h"
#include "ssh/state_host_key_store.h"

namespace racksmith::cli {
namespace {

// Owns what ClusterDriver borrows, and forwards to it.
class ApplyDriver final : public exec::StepDriver {
 public:
  ApplyDriver(const inventory::Inventory& inventory, state::Store& store,
              const ApplyDriverFlags& flags)
      : fleet_(FleetOptionsFor()), host_keys_(store) {
    slurm::ScontrolOptions sc;
    sc.scontrol = flags.scontrol;
    sc.slurm_conf = flags.slurm_conf;
    slurm_ = slurm::MakeScontrol(sc);
    transport::TransportOptions topt;
    topt.connect_timeout = std::chrono::milliseconds(10'000);
    transport_ = std::make_unique<ssh::SshTransport>(host_keys_, topt);

    exec::ClusterDriverOptions options;
    options.playbooks_dir = flags.playbooks_dir;
    options.boot_timeout_ms = static_cast<int64_t>(flags.boot_timeout_s * 1000);
    exec::SshAccess ssh;
    ssh.transport = transport_.get();
    ssh.host_keys = &host_keys_;
    ssh.endpoint = [this](const inventory::Node& node) { return EndpointOf(node); };
    exec::BmcFactory bmc = [this](const inventory::Node& node)
        -> Result<std::unique_ptr<bmc::Bmc>> {
      Result<redfish::Target> target = BmcTargetOf(node, "");
      if (!target.ok()) return target.error().WithContext("node '" + node.name + "'");
      return fleet_.Connect(*target);
    };
    driver_ = std::make_unique<exec::ClusterDriver>(inventory, std::move(bmc), std::move(ssh),
                                                    slurm_.get(), clock_, options, &store);
  }
  ~ApplyDriver() override {
    driver_.reset();
    fleet_.CloseAll();
  }

  exec::StepOutcome Run(const plan::Step& step, const exec::StepContext& ctx) override {
    return driver_->Run(step, ctx);
  }
  exec::GuardResult CheckGuard(const plan::Step& step, const exec::StepContext& ctx) override {
    return driver_->CheckGuard(step, ctx);
  }
  Result<plan::LiveFacts> ReadLive(const inventory::Node& node,
                                   const std::vector<std::string>& components,
                                   const exec::StepContext& ctx) override {
    return driver_->ReadLive(node, components, ctx);
  }
  std::string FirmwareGroup(const inventory::Node& node) override {
    return driver_->FirmwareGroup(node);
  }

 private:
  // The inventory's endpoint; a key given as {env: NAME} is resolved once per variable into
  // an in-memory file (as `exec` does), never written to disk.
  Result<transport::Endpoint> EndpointOf(const inventory::Node& node) {
    if (!node.ssh.key_path.empty() || node.ssh.key.kind != inventory::SecretRef::Kind::kEnv) {
      return exec::InventoryEndpoint(node);
    }
    std::string path;
    {
      std::lock_guard<std::mutex> lock(keys_mu_);
      auto known = env_keys_.find(node.ssh.key.ref);
      if (known != env_keys_.end()) {
        path = known->second;
      } else {
        Result<std::string> material = inventory::ResolveSecret(node.ssh.key);
        if (!material.ok()) {
          return material.error().WithContext("node '" + node.name + "': ssh key");
        }
        std::string why;
        path = keys_.KeepInMemory(*material, &why);
        if (path.empty()) return IoError("node '" + node.name + "': ssh key: " + why);
        env_keys_.emplace(node.ssh.key.ref, path);
      }
    }
    inventory::Node with_file = node;
    with_file.ssh.key = {};
    with_file.ssh.key_path = path;
    return exec::InventoryEndpoint(with_file);
  }

  static redfish::FleetOptions FleetOptionsFor() {
    redfish::FleetOptions o;
    o.client.request_timeout_ms = 30'000;
    o.client.connect_timeout_ms = 10'000;
    o.client.deadline_ms = 90'000;
    return o;
  }

  SystemClock clock_;
  std::mutex keys_mu_;
  SshTargets keys_;                                   // owns the in-memory key files
  std::map<std::string, std::string> env_keys_;       // variable -> /proc/self/fd/N
  redfish::RedfishFleet fleet_;
  ssh::StateHostKeyStore host_keys_;
  std::unique_ptr<transport::Transport> transport_;
  std::unique_ptr<slurm::SlurmControl> slurm_;
  std::unique_ptr<exec::ClusterDriver> driver_;
};

}  // namespace

Result<std::unique_ptr<exec::StepDriver>> MakeApplyDriver(const CliContext& ctx,
                                                          const inventory::Inventory& inventory,
                                                          state::Store& store,
                                                          const ApplyDriverFlags& flags) {
  (void)ctx;
  return std::unique_ptr<exec::StepDriver>(std::make_unique<ApplyDriver>(inventory, store, flags));
}

}  // namespace racksmith::cli
