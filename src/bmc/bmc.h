// racksmith/bmc: the abstract baseboard management controller every driver implements.
//
// Contract:
// - A `Bmc` drives one node's out-of-band controller: power, boot override, virtual media,
//   firmware, hardware inventory, event log. Redfish (src/redfish) and the lab's simulator
//   implement it; the executor and the CLI only see this header (no libcurl here).
// - Every call returns Result/Status; a failure's message names the BMC (its URL) and what
//   was expected and found. Calls never throw and never block past the driver's timeouts.
// - Implementations are safe to use from one thread at a time per object; different `Bmc`
//   objects may be used from different threads at once.
// - No value type here ever holds a credential.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace racksmith::bmc {

enum class PowerState { kUnknown, kOn, kOff, kPoweringOn, kPoweringOff };

/// What the caller wants done to the host's power. The driver picks among the reset
/// types the BMC advertises (e.g. kPowerCycle falls back to ForceOff then On).
enum class ResetType {
  kOn,
  kForceOff,
  kGracefulShutdown,  // falls back to ForceOff after ResetOptions::graceful_timeout_ms
  kForceRestart,
  kGracefulRestart,
  kPowerCycle,
};

enum class BootDevice { kNone, kPxe, kCd, kHdd, kUsb, kBiosSetup, kUefiTarget };
enum class BootMode { kUnchanged, kUefi, kLegacy };

struct BootOverride {
  BootDevice device = BootDevice::kPxe;
  bool persistent = false;  // false: next boot only ("Once"); true: "Continuous"
  BootMode mode = BootMode::kUnchanged;
  std::string uefi_target;  // device path, only for kUefiTarget
};

struct BootSettings {
  std::string enabled;  // Redfish BootSourceOverrideEnabled: Disabled, Once, Continuous
  std::string target;   // Redfish BootSourceOverrideTarget: None, Pxe, Cd, Hdd, ...
  std::string mode;     // UEFI, Legacy or empty when the BMC does not say
  std::vector<std::string> allowed_targets;
};

struct Processor {
  std::string id;
  std::string model;
  std::string manufacturer;
  std::string serial;
  int cores = 0;
  int threads = 0;  // TotalThreads; 0 if the BMC does not say
  std::string health;
};

struct Gpu {
  std::string id;
  std::string model;
  std::string manufacturer;
  std::string serial;
  std::string part_number;
  std::string firmware;
  int64_t memory_mib = 0;
  std::string health;
  std::string source;  // where it was found: "Processors", "PCIeDevices", "Chassis/Devices"
};

struct Drive {
  std::string id;
  std::string model;
  std::string serial;
  int64_t capacity_bytes = 0;
  std::string media_type;  // HDD, SSD
  std::string protocol;    // SAS, SATA, NVMe
  std::string health;
  std::string odata_id;  // for SecureErase
  bool secure_erase = false;
};

struct Nic {
  std::string id;
  std::string mac;
  int speed_mbps = 0;
  std::string link_status;
  std::string ipv4;
};

struct FirmwareComponent {
  std::string id;
  std::string name;
  std::string version;
  bool updateable = false;
  std::string health;
};

struct HardwareReport {
  std::string system_id;
  std::string manufacturer;
  std::string model;
  std::string serial;
  std::string sku;
  std::string uuid;
  std::string bios_version;
  std::string bmc_firmware;
  PowerState power = PowerState::kUnknown;
  std::string health;         // the system's own Status.Health
  std::string health_rollup;  // Status.HealthRollup
  int cpu_count = 0;          // ProcessorSummary.Count (sockets), else counted
  /// Logical CPUs (what the OS and Slurm count): ProcessorSummary.LogicalProcessorCount,
  /// else the processors' TotalThreads summed; 0 when the BMC says neither.
  int logical_cpus = 0;
  std::string cpu_model;
  double memory_gib = 0;  // MemorySummary.TotalSystemMemoryGiB, else summed DIMMs
  std::vector<Processor> cpus;
  std::vector<Gpu> gpus;
  std::vector<Drive> drives;
  std::vector<Nic> nics;
  std::vector<std::string> warnings;  // parts of the tree that could not be read
};

struct LogEntry {
  std::string log;  // which log service, e.g. "SEL", "IML", "EventLog"
  std::string id;
  std::string created;
  std::string severity;
  std::string message;
};

struct VirtualMediaSlot {
  std::string id;
  std::string odata_id;
  std::vector<std::string> media_types;
  std::string image;
  bool inserted = false;
};

/// Progress of a long operation (firmware update, erase), for a progress display.
struct TaskProgress {
  std::string state;  // Redfish TaskState: New, Running, Completed, ...
  int percent = -1;   // -1 when the BMC does not say
  std::string message;
};
using ProgressCallback = std::function<void(const TaskProgress&)>;

/// One task of the BMC's TaskService (a firmware update, an erase, ...).
struct BmcTask {
  std::string id;
  std::string name;
  std::string state;  // Redfish TaskState
  int percent = -1;   // -1 when the BMC does not say
};
/// A TaskState that is not an end: New, Starting, Running, Pending, Suspended, Interrupted,
/// Stopping, Cancelling, Service (Completed, Exception, Killed, Cancelled are ends). An
/// unknown state counts as not ended.
bool IsUnfinishedTaskState(std::string_view state);

struct ResetOptions {
  bool wait = true;                       // wait for the target power state
  int64_t wait_timeout_ms = 300'000;      // Default: 5 min
  int64_t graceful_timeout_ms = 120'000;  // GracefulShutdown before ForceOff. Default: 2 min
  int64_t poll_interval_ms = 2'000;
};

struct FirmwareUpdate {
  std::string image_uri;             // SimpleUpdate(ImageURI) when set
  std::string local_file;            // else pushed to HttpPushUri / MultipartHttpPushUri
  std::vector<std::string> targets;  // optional @odata.id of components
  int64_t timeout_ms = 3'600'000;
};

class Bmc {
 public:
  virtual ~Bmc() = default;

  /// The endpoint in words (e.g. "https://10.1.0.11"), for messages. Never a credential.
  virtual std::string Describe() const = 0;

  virtual Result<PowerState> GetPowerState() = 0;
  /// Resets the host; when options.wait, returns once the target state is reached.
  virtual Status Reset(ResetType type, const ResetOptions& options) = 0;

  virtual Result<BootSettings> GetBoot() = 0;
  virtual Status SetBootOverride(const BootOverride& boot) = 0;

  virtual Result<std::vector<VirtualMediaSlot>> ListVirtualMedia() = 0;
  /// Inserts `image_url` into the first CD/DVD slot (or the slot with id `slot`).
  virtual Status InsertMedia(const std::string& image_url, const std::string& slot) = 0;
  virtual Status EjectMedia(const std::string& slot) = 0;

  virtual Result<std::vector<FirmwareComponent>> ListFirmware() = 0;
  virtual Status UpdateFirmware(const FirmwareUpdate& update, const ProgressCallback& progress) = 0;

  /// The tasks the BMC's TaskService lists, finished ones too; empty when it has none.
  virtual Result<std::vector<BmcTask>> ListTasks() = 0;

  virtual Result<HardwareReport> GetHardware() = 0;
  virtual Result<std::vector<LogEntry>> GetLogEntries(int max_entries) = 0;

  /// Runs the Drive.SecureErase action of `drive_odata_id` and waits for its task.
  virtual Status SecureEraseDrive(const std::string& drive_odata_id,
                                  const ProgressCallback& progress) = 0;

  /// Ends the session (if any). Safe to call twice; later calls log in again.
  virtual Status Close() = 0;
};

const char* PowerStateName(PowerState s);  // "On", "Off", "PoweringOn", ...
PowerState ParsePowerState(const std::string& redfish_value);
const char* ResetTypeName(ResetType t);    // "On", "ForceOff", "PowerCycle", ...
const char* BootDeviceName(BootDevice d);  // Redfish names: "Pxe", "Cd", "Hdd", ...
/// Parses a user's word ("pxe", "cd", "hdd", "usb", "bios", "uefi") case-insensitively.
Result<BootDevice> ParseBootDevice(const std::string& word);

}  // namespace racksmith::bmc
