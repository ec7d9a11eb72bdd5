// racksmith/lab (internal): files and processes shared by the lab's CLI side (lab_rack.cc)
// and its supervisor (lab_supervisor.cc).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "lab/lab_rack.h"

namespace racksmith::lab {

namespace fs = std::filesystem;

/// The file's content with trailing newlines and spaces removed; "" if unreadable.
std::string ReadTrimmed(const fs::path& path);
/// The whole content of a /proc file, or "" when it cannot be read (the process is gone).
/// Never throws: libstdc++ streams throw from their iterators when a read fails with ESRCH.
std::string ReadProcFile(const std::string& path);
/// Writes via a temp file and rename(2): readers see the old or the new content.
Status WriteAtomic(const fs::path& path, const std::string& content);
/// pid read from `pid_file` if that process is alive and its command line contains
/// `needle` (so a recycled pid is never taken for ours); else -1.
pid_t RecordedPid(const fs::path& pid_file, const std::string& needle);
/// Runs argv (no shell) and waits; true on exit status 0. Output goes to /dev/null.
bool RunQuiet(const std::vector<std::string>& argv);

nlohmann::json SpecToJson(const LabNodeSpec& n);
LabNodeSpec SpecFromJson(const nlohmann::json& j);
/// DIR/lab.json: {"settings": {...}, "nodes": [...]}.
Result<std::pair<LabSettings, std::vector<LabNodeSpec>>> LoadLabFile(const fs::path& dir);

/// The facts file of a node (hardware from its spec and lab/tools/gpu_models.json, plus
/// "faults"), as the simulated tools read it.
nlohmann::json NodeFacts(const LabNodeSpec& n, const nlohmann::json& gpu_models);
/// lab/tools/gpu_models.json of the source tree.
nlohmann::json GpuModels();
/// Applies one `lab fault` spec to facts["faults"] (and facts["fault_specs"]). Returns the
/// BMC fault it implies ("" for none, "clear" to clear it), or an error for a bad spec.
Result<std::string> ApplyFault(nlohmann::json& facts, const std::string& spec);

inline fs::path NodeDir(const fs::path& dir, const std::string& node) {
  return dir / "nodes" / node;
}
inline fs::path FactsPath(const fs::path& dir, const std::string& node) {
  return NodeDir(dir, node) / "tools" / "facts.json";
}
/// What a node's sshd command line contains (its config path).
inline std::string SshdNeedle(const fs::path& dir, const std::string& node) {
  return (NodeDir(dir, node) / "sshd_config").string();
}

}  // namespace racksmith::lab
