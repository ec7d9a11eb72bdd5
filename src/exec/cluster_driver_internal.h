// Internal to racksmith/exec: the pieces of ClusterDriver shared by its source files
// (cluster_driver.cc: dispatch, waits, Slurm; _bmc.cc: BMC steps; _node.cc: SSH, markers,
// playbooks; _burnin.cc: the health check). Not a public header.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "exec/cluster_driver.h"
#include "playbook/playbook.h"

namespace racksmith::exec {

struct ClusterDriver::Parts {
  const inventory::Inventory& inventory;
  BmcFactory bmc;
  SshAccess ssh;
  slurm::SlurmControl* slurm;
  const Clock& clock;
  ClusterDriverOptions options;
  state::Store* facts;

  /// What every playbook sees besides its node: site, nodes (all node contexts). Built once.
  const playbook::Json& Globals() const;

  // Globals(), built on first use.
  mutable std::once_flag globals_once{};
  mutable playbook::Json globals{};
};
using DriverParts = ClusterDriver::Parts;

/// One Run or CheckGuard call: the step, its context, its output lines, its BMC, and a
/// cancel flag raised when the interrupt reaches Abort or the deadline passes (so that SSH
/// commands and playbooks stop).
class StepRun {
 public:
  StepRun(const DriverParts& parts, const plan::Step& step, const StepContext& ctx);
  ~StepRun();
  StepRun(const StepRun&) = delete;
  StepRun& operator=(const StepRun&) = delete;

  const DriverParts& d;
  const plan::Step& step;
  const StepContext& ctx;
  const inventory::Node& node;

  void Say(std::string line) { lines_.push_back(std::move(line)); }
  /// Whole files the step's playbooks own, with the SHA-256 of what they left (the last
  /// write of a path wins); recorded in the component marker for drift checks.
  std::map<std::string, std::string> files_written;
  std::string Output() const;
  StepOutcome Ok(const std::string& last_line = {});
  StepOutcome Fail(const std::string& error);
  StepOutcome Transient(const std::string& error);
  /// Transient when `transient`, else Failed; "<what>: <error>".
  StepOutcome FromError(const Error& e, const std::string& what, bool transient);

  /// Why the step must stop now (interrupt at Abort, deadline passed), or nullopt.
  std::optional<std::string> Stopped() const;
  /// Sleeps up to `ms`, waking early when the step must stop; false then.
  bool Sleep(int64_t ms);
  int64_t NowMs() const { return d.clock.MonotonicMillis(); }
  /// Milliseconds left before the deadline (INT64_MAX without one), at least 0.
  int64_t Remaining() const;
  /// `limit_ms` shortened to the time left; never below 1.
  int64_t Bounded(int64_t limit_ms) const;

  // ---- BMC --------------------------------------------------------------------------------
  /// The node's Bmc, made by the factory on first use.
  Result<bmc::Bmc*> Bmc();

  // ---- SSH --------------------------------------------------------------------------------
  Result<transport::Endpoint> Endpoint();
  /// The driver's transport behind a wrapper that stops commands when the step must stop.
  Result<transport::Transport*> Ssh();
  /// Runs a command (limited by options.command_timeout_ms, or `timeout_ms` when > 0, and
  /// the deadline).
  Result<transport::ExecResult> Exec(const std::string& command, int64_t timeout_ms = 0);
  /// Drops the pooled connection (after a reset).
  void Disconnect();

 private:
  void StartWatch();

  std::vector<std::string> lines_;
  std::unique_ptr<bmc::Bmc> bmc_;
  std::optional<transport::Endpoint> endpoint_;
  std::unique_ptr<transport::Transport> guarded_;
  std::atomic<bool> cancel_{false};
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool watch_stop_ = false;
  std::thread watch_;
};

enum class WaitEnd { kDone, kTimedOut, kStopped };
/// Calls `probe` now and then every options.poll_interval_ms until it returns true,
/// `timeout_ms` passes (0: only the deadline), or the step must stop.
WaitEnd PollUntil(StepRun& run, int64_t timeout_ms, const std::function<bool()>& probe);

/// A BMC error worth retrying: the BMC could not be reached or timed out, or answered
/// 503/429/502/504. Not: other HTTP errors, failed tasks.
bool IsTransientBmcError(const Error& e);
/// An SSH error worth retrying: could not connect (refused, booting) or timed out. Not: a
/// changed host key, bad input.
bool IsTransientSshError(const Error& e);

std::string ToLower(std::string_view text);
/// "3 s", "1.5 s", "2 min".
std::string Seconds(int64_t ms);
/// The first `n` lines of `text`, each trimmed, joined with " | " (for error messages).
std::string FirstLines(std::string_view text, int n = 3);

// ---- BMC steps (cluster_driver_bmc.cc) ----------------------------------------------------
/// Live facts (ClusterDriver::ReadLive): the BMC's part and the node's part.
void ReadLiveBmc(StepRun& run, const std::vector<std::string>& components, plan::LiveFacts* out);
void ReadLiveNode(StepRun& run, const std::vector<std::string>& components, plan::LiveFacts* out);
/// Before a step that destroys what is on the node's disks (image, erase): a failure when
/// Slurm has jobs on the node (a failed or quarantined node is not drained by the plan,
/// and a quarantine only asks Slurm to drain). None when Slurm is not configured, does not
/// know the node, or reports it without jobs. (cluster_driver.cc)
std::optional<StepOutcome> RefuseIfSlurmRunsJobs(StepRun& run, const std::string& what);
StepOutcome RunDiscover(StepRun& run);
StepOutcome RunFirmware(StepRun& run);
StepOutcome RunImage(StepRun& run);
StepOutcome RunErase(StepRun& run);
StepOutcome RunPowerOff(StepRun& run);
GuardResult GuardDiscover(StepRun& run);
GuardResult GuardFirmware(StepRun& run);
GuardResult GuardPowerOff(StepRun& run);
/// The journal's most recent step like this one (same node, kind, component): the one a
/// stopped run left in flight, when a guard is checked. Guards accept evidence recorded
/// since it started.
std::optional<state::StepRecord> LastStepLikeThis(StepRun& run);
/// Its start, in Unix ms; 0 when none.
int64_t LastStartOfStep(StepRun& run);

// ---- Node steps over SSH (cluster_driver_node.cc) -----------------------------------------
inline constexpr const char* kImageMarker = "/etc/racksmith/image";
/// Written into the old root just before an image step resets the node; a fresh root does
/// not have it, so finding it after the new boot means the node booted its old root.
inline constexpr const char* kReimageSentinel = "/etc/racksmith/reimage-pending";
inline constexpr const char* kComponentMarkerDir = "/etc/racksmith/components";
inline constexpr const char* kBootIdPath = "/proc/sys/kernel/random/boot_id";

/// The node's boot id, or an error (unreachable while it is off or booting).
Result<std::string> ReadBootId(StepRun& run);
/// Polls SSH (a fresh connection each time) until the node answers with a boot id other
/// than `before` (any, when `before` is empty). nullopt when it did; else the outcome.
std::optional<StepOutcome> WaitForNewBoot(StepRun& run, const std::string& before,
                                          int64_t timeout_ms, std::string* boot_id);
/// The marker's text, nullopt when the file is absent.
Result<std::optional<std::string>> ReadMarker(StepRun& run, const std::string& path);
Status WriteMarker(StepRun& run, const std::string& path, const std::string& content);
/// The `hash=` line of a marker; "" when none.
std::string MarkerHash(std::string_view marker);
/// "/etc/racksmith/components/<component>", or InvalidInput for a name that is not
/// [A-Za-z0-9._-]+.
Result<std::string> ComponentMarkerPath(const std::string& component);

/// After an image step's new boot: fails if the sentinel written before the reset is still
/// there (`sentinel`: it was written), else writes the image marker.
StepOutcome RunImageMarker(StepRun& run, const std::string& boot_id, bool sentinel);
StepOutcome RunInstall(StepRun& run);
StepOutcome RunRemove(StepRun& run);
StepOutcome RunConfigure(StepRun& run);  // configure (slurm) and mount (mounts)
GuardResult GuardImage(StepRun& run);
GuardResult GuardMarker(StepRun& run);  // install, configure, mount: marker holds the hash
GuardResult GuardRemove(StepRun& run);

// ---- Burn-in health check (cluster_driver_burnin.cc) --------------------------------------
struct GpuRow {
  int index = -1;
  std::string name;
  std::string bus_id;
};
/// `nvidia-smi --query-gpu=index,name,pci.bus_id --format=csv,noheader` output.
Result<std::vector<GpuRow>> ParseGpuCsv(std::string_view text);
/// What is wrong with `found` against the inventory ("GPU 3: missing (expected 4 x M)").
std::vector<std::string> GpuProblems(const inventory::GpuSpec& want,
                                     const std::vector<GpuRow>& found);

struct DiagResult {
  std::string category;
  std::string test;
  std::string status;  // as DCGM wrote it: PASS, FAIL, WARN, SKIP (DCGM 2: Pass, Fail, ...)
  std::string gpus;    // "0", "0,1,2,3", or "" when DCGM does not say
  std::vector<std::string> warnings;
};
/// `dcgmi diag -r N -j` output (DCGM 2 and 3 shapes; text before the JSON and null entries
/// in the test lists are skipped, as real dcgmi prints them).
Result<std::vector<DiagResult>> ParseDcgmDiag(std::string_view text);
/// "dcgmi diag: GPU Memory failed on GPU 0: <warning>" for every failed result.
std::vector<std::string> DiagFailures(const std::vector<DiagResult>& results);

StepOutcome RunBurnin(StepRun& run);
GuardResult GuardBurnin(StepRun& run);

}  // namespace racksmith::exec
