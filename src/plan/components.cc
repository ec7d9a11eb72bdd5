// The components of a node and their content hashes (docs/lifecycle.md, "Components").

#include <string>
#include <string_view>

#include "plan/plan.h"

namespace racksmith::plan {
namespace {

// A canonical serialisation: every field is "key=<length>:value\n", in the order written
// here (fixed by the code, never by a map's iteration), so that two different inputs can
// never serialise alike. "v1" versions the format: changing what a component renders from
// must bump it, which re-applies that component everywhere.
class Canon {
 public:
  explicit Canon(std::string_view component) { Field("component/v1", component); }
  Canon& Field(std::string_view key, std::string_view value) {
    text_.append(key);
    text_ += '=';
    text_.append(std::to_string(value.size()));
    text_ += ':';
    text_.append(value);
    text_ += '\n';
    return *this;
  }
  Canon& Field(std::string_view key, int64_t value) { return Field(key, std::to_string(value)); }
  Canon& List(std::string_view key, const std::vector<std::string>& values) {
    Field(key, static_cast<int64_t>(values.size()));
    for (const std::string& v : values) Field("-", v);
    return *this;
  }
  std::string Hash() const { return Sha256Hex(text_); }

 private:
  std::string text_;
};

void AddHardware(Canon& c, const inventory::Hardware& hw) {
  c.Field("gpus.model", hw.gpus.model).Field("gpus.count", hw.gpus.count);
  c.Field("nvswitch", hw.nvswitch ? 1 : 0).Field("memory_gib", hw.memory_gib);
  c.Field("cpus", hw.cpus).Field("drives", static_cast<int64_t>(hw.drives.size()));
  for (const inventory::Drive& d : hw.drives) {
    c.Field("drive.type", d.type).Field("drive.count", d.count).Field("drive.size_gb", d.size_gb);
  }
}

std::string HardwareVersion(const inventory::Hardware& hw) {
  std::string v;
  if (hw.gpus.count > 0) {
    v = std::to_string(hw.gpus.count) + " x " +
        (hw.gpus.model.empty() ? std::string("GPU") : hw.gpus.model);
  } else {
    v = "no GPUs";
  }
  if (hw.memory_gib > 0) v += ", " + std::to_string(hw.memory_gib) + " GiB";
  if (hw.cpus > 0) v += ", " + std::to_string(hw.cpus) + " CPUs";
  return v;
}

std::string FirmwareComponent(const std::string& key) {
  if (key == "bmc") return "bmc_firmware";
  if (key == "bios") return "bios";
  return "firmware_" + key;
}

}  // namespace

std::vector<DesiredComponent> ComponentsOf(const inventory::Inventory& inventory,
                                           const inventory::Node& node) {
  std::vector<DesiredComponent> out;
  out.reserve(12);

  {
    Canon c("hardware");
    AddHardware(c, node.hardware);
    out.push_back({"hardware", HardwareVersion(node.hardware), c.Hash(), "hardware.gpus", {}});
  }
  // Firmware: the BMC first (a BIOS update may need the newer BMC), then the BIOS, then the
  // rest in name order.
  std::vector<std::string> fw_keys;
  if (node.firmware.count("bmc")) fw_keys.push_back("bmc");
  if (node.firmware.count("bios")) fw_keys.push_back("bios");
  for (const auto& [key, version] : node.firmware) {
    if (key != "bmc" && key != "bios") fw_keys.push_back(key);
  }
  for (const std::string& key : fw_keys) {
    std::string name = FirmwareComponent(key);
    const std::string& version = node.firmware.at(key);
    Canon c(name);
    c.Field("version", version);
    out.push_back({name, version, c.Hash(), "firmware." + key, {}});
  }

  // The image carries the node's identity (hostname, address, SSH user and port), so a
  // change of those reimages. Where the controller keeps its private key (ssh.key) is not
  // part of it: moving a key file must never plan a destructive reimage of every node.
  // Everything installed on top of the image includes its hash.
  std::string image_hash;
  if (!node.image.empty()) {
    Canon c("image");
    c.Field("image", node.image).Field("site", inventory.site).Field("name", node.name);
    c.Field("ip", node.ip).Field("mac", node.mac).Field("ssh.user", node.ssh.user);
    c.Field("ssh.port", node.ssh.port);
    image_hash = c.Hash();
    out.push_back({"image", node.image, image_hash, "image", {}});
  }
  std::vector<std::string> on_image;
  if (!image_hash.empty()) on_image.push_back("image");

  auto software = [&](const std::string& key) {
    const std::string& version = node.software.at(key);
    Canon c(key);
    c.Field("version", version).Field("image", image_hash);
    if (key == "nvidia_driver") {
      c.Field("gpus.model", node.hardware.gpus.model).Field("nvswitch", node.hardware.nvswitch ? 1 : 0);
    }
    out.push_back({key, version, c.Hash(), "software." + key, on_image});
  };
  if (node.software.count("nvidia_driver")) software("nvidia_driver");
  if (node.software.count("cuda")) software("cuda");
  for (const auto& [key, version] : node.software) {
    if (key != "nvidia_driver" && key != "cuda" && key != "slurm") software(key);
  }

  auto slurm_it = node.software.find("slurm");
  if (slurm_it != node.software.end() || !node.slurm.partitions.empty()) {
    std::string version = slurm_it != node.software.end() ? slurm_it->second : "";
    Canon c("slurm");
    c.Field("version", version).Field("image", image_hash).Field("name", node.name);
    c.List("partitions", node.slurm.partitions).List("features", node.slurm.features);
    c.Field("cpus", node.hardware.cpus).Field("memory_gib", node.hardware.memory_gib);
    c.Field("gpus.model", node.hardware.gpus.model).Field("gpus.count", node.hardware.gpus.count);
    out.push_back({"slurm", version, c.Hash(),
                   slurm_it != node.software.end() ? "software.slurm" : "slurm", on_image});
  }
  if (!node.mounts.empty()) {
    Canon c("mounts");
    c.Field("image", image_hash).Field("count", static_cast<int64_t>(node.mounts.size()));
    std::string version;
    for (const inventory::Mount& m : node.mounts) {
      c.Field("name", m.name).Field("type", inventory::MountTypeName(m.type));
      c.Field("source", m.source).Field("target", m.target).List("options", m.options);
      version += (version.empty() ? "" : ",") + m.name;
    }
    out.push_back({"mounts", version, c.Hash(), "mounts", on_image});
  }
  if (!node.burnin.empty()) {
    // Burn-in proves the node as a whole: any other change re-runs it.
    Canon c("burnin");
    c.Field("profile", node.burnin);
    std::vector<std::string> all;
    for (const DesiredComponent& d : out) {
      c.Field(d.name, d.hash);
      all.push_back(d.name);
    }
    out.push_back({"burnin", node.burnin, c.Hash(), "burnin", std::move(all)});
  }
  return out;
}

}  // namespace racksmith::plan
