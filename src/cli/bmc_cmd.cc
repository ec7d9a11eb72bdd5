// `racksmith bmc ...`: power, inventory, firmware, boot, virtual media and logs through the
// nodes' BMCs (Redfish). Nodes come from the inventory selection, or one --bmc URL.
#include <CLI/CLI.hpp>
#include <memory>
#include <sstream>

#include <spdlog/spdlog.h>

#include "cli/bmc_cmd.h"

namespace racksmith::cli {
namespace {

NodeOutcome Fail(const Error& e) {
  NodeOutcome o;
  o.error = e.message();
  return o;
}

NodeOutcome Done(std::string text, nlohmann::json json) {
  NodeOutcome o;
  o.ok = true;
  o.text = std::move(text);
  o.json = std::move(json);
  return o;
}

// Adds one subcommand whose action resolves the nodes, maybe confirms, then fans out.
void AddBmcVerb(CLI::App* parent, CliContext& ctx, const std::string& name, const std::string& help,
                bool changes, std::shared_ptr<BmcFlags> flags,
                std::function<std::string()> describe_change, std::function<int()> check_flags,
                NodeOperation op) {
  CLI::App* cmd = parent->add_subcommand(name, help);
  AddBmcFlags(cmd, *flags, changes);
  cmd->callback([&ctx, flags, changes, describe_change, check_flags, op] {
    ctx.action = [&ctx, flags, changes, describe_change, check_flags, op] {
      if (check_flags) {
        int rc = check_flags();
        if (rc != kExitOk) return rc;
      }
      std::vector<BmcNode> nodes;
      int rc = kExitOk;
      if (!ResolveBmcNodes(ctx, *flags, &nodes, &rc)) return rc;
      if (changes) {
        rc = ConfirmChange(*flags, nodes, describe_change());
        if (rc != kExitOk) return rc;
      }
      return RunOnBmcs(*flags, nodes, op);
    };
  });
}

void AddPower(CLI::App* bmc_cmd, CliContext& ctx) {
  CLI::App* power = bmc_cmd->add_subcommand("power", "Power state and power actions");
  power->require_subcommand(1);
  AddBmcVerb(power, ctx, "status", "Print each node's power state", false,
             std::make_shared<BmcFlags>(), nullptr, nullptr, [](bmc::Bmc& b, const BmcNode&) {
               auto s = b.GetPowerState();
               if (!s.ok()) return Fail(s.error());
               std::string name = bmc::PowerStateName(*s);
               return Done(name, nlohmann::json{{"power", name}});
             });
  struct Verb {
    const char* name;
    const char* help;
    bmc::ResetType type;
    const char* what;
  };
  const Verb verbs[] = {
      {"on", "Power nodes on (wait until On)", bmc::ResetType::kOn, "power on"},
      {"off", "Shut nodes down gracefully, forcing power off after --grace seconds",
       bmc::ResetType::kGracefulShutdown, "power off"},
      {"cycle", "Power-cycle nodes (PowerCycle, or ForceOff then On)", bmc::ResetType::kPowerCycle,
       "power-cycle"},
      {"reset", "Hard-reset nodes (ForceRestart)", bmc::ResetType::kForceRestart, "reset"},
  };
  for (const Verb& v : verbs) {
    auto flags = std::make_shared<BmcFlags>();
    auto grace = std::make_shared<double>(120);
    auto force = std::make_shared<bool>(false);
    auto no_wait = std::make_shared<bool>(false);
    bmc::ResetType type = v.type;
    std::string what = v.what;
    AddBmcVerb(
        power, ctx, v.name, v.help, true, flags, [what] { return what; }, nullptr,
        [type, grace, force, no_wait](bmc::Bmc& b, const BmcNode&) {
          bmc::ResetOptions o;
          o.wait = !*no_wait;
          o.graceful_timeout_ms = static_cast<int64_t>(*grace * 1000);
          bmc::ResetType t = type;
          if (t == bmc::ResetType::kGracefulShutdown && *force) t = bmc::ResetType::kForceOff;
          Status s = b.Reset(t, o);
          if (!s.ok()) return Fail(s.error());
          auto p = b.GetPowerState();
          std::string state = p.ok() ? bmc::PowerStateName(*p) : "Unknown";
          return Done(std::string("done, power ") + state,
                      nlohmann::json{{"action", bmc::ResetTypeName(t)}, {"power", state}});
        });
    CLI::App* cmd = power->get_subcommand(v.name);
    cmd->add_flag("--no-wait", *no_wait, "Return once the BMC accepted the request");
    if (type == bmc::ResetType::kGracefulShutdown) {
      cmd->add_option("--grace", *grace, "Seconds to wait for a graceful shutdown");
      cmd->add_flag("--force", *force, "ForceOff at once, no graceful shutdown");
    }
  }
}

void AddReads(CLI::App* bmc_cmd, CliContext& ctx) {
  AddBmcVerb(bmc_cmd, ctx, "inventory",
             "Hardware as the BMC reports it: model, serial, CPUs, memory, GPUs, drives, NICs",
             false, std::make_shared<BmcFlags>(), nullptr, nullptr,
             [](bmc::Bmc& b, const BmcNode& node) {
               auto hw = b.GetHardware();
               if (!hw.ok()) return Fail(hw.error());
               std::string text = HardwareText(*hw);
               nlohmann::json json = HardwareJson(*hw);
               if (node.expected) {
                 // Against the profile: a missing GPU or wrong model shows under the node.
                 std::vector<std::string> diffs = HardwareDifferences(*node.expected, *hw);
                 json["differences"] = diffs;
                 if (!diffs.empty()) {
                   if (!text.empty() && text.back() != '\n') text += '\n';
                   text += "differences from " +
                           (node.profile.empty() ? std::string("the inventory")
                                                 : "profile " + node.profile) +
                           ":\n";
                   for (const auto& d : diffs) text += "  " + d + "\n";
                 }
               }
               return Done(text, json);
             });

  CLI::App* fw = bmc_cmd->add_subcommand("firmware", "Firmware inventory");
  fw->require_subcommand(1);
  AddBmcVerb(fw, ctx, "list", "List firmware components and versions", false,
             std::make_shared<BmcFlags>(), nullptr, nullptr, [](bmc::Bmc& b, const BmcNode&) {
               auto list = b.ListFirmware();
               if (!list.ok()) return Fail(list.error());
               std::ostringstream text;
               nlohmann::json j = nlohmann::json::array();
               for (const auto& c : *list) {
                 if (text.tellp() > 0) text << "\n";
                 text << c.id << ": " << (c.version.empty() ? "-" : c.version);
                 if (!c.name.empty() && c.name != c.id) text << " (" << c.name << ")";
                 j.push_back({{"id", c.id},
                              {"name", c.name},
                              {"version", c.version},
                              {"updateable", c.updateable},
                              {"health", c.health}});
               }
               return Done(text.str(), j);
             });

  auto image_uri = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  AddBmcVerb(
      fw, ctx, "update", "Update firmware from an image URL (SimpleUpdate) or a local file", true,
      std::make_shared<BmcFlags>(), [] { return std::string("update the firmware of"); },
      [image_uri, file] {
        if (image_uri->empty() != file->empty()) return static_cast<int>(kExitOk);
        std::cerr << "error: firmware update needs exactly one of --image-uri and --file\n";
        return static_cast<int>(kExitUsage);
      },
      [image_uri, file](bmc::Bmc& b, const BmcNode& node) {
        bmc::FirmwareUpdate u;
        u.image_uri = *image_uri;
        u.local_file = *file;
        std::string name = node.name;
        Status s = b.UpdateFirmware(u, [name](const bmc::TaskProgress& p) {
          spdlog::info("{}: firmware update {}{}", name, p.state,
                       p.percent >= 0 ? " " + std::to_string(p.percent) + "%" : "");
        });
        if (!s.ok()) return Fail(s.error());
        return Done("firmware updated", nlohmann::json{{"updated", true}});
      });
  fw->get_subcommand("update")->add_option("--image-uri", *image_uri,
                                           "Image URL the BMC fetches (http/https/...)");
  fw->get_subcommand("update")->add_option("--file", *file, "Local image pushed to the BMC");

  auto max = std::make_shared<int>(20);
  AddBmcVerb(bmc_cmd, ctx, "log", "Recent event log entries (SEL, IML, EventLog, ...)", false,
             std::make_shared<BmcFlags>(), nullptr, nullptr, [max](bmc::Bmc& b, const BmcNode&) {
               auto entries = b.GetLogEntries(*max);
               if (!entries.ok()) return Fail(entries.error());
               std::ostringstream text;
               nlohmann::json j = nlohmann::json::array();
               for (const auto& e : *entries) {
                 if (text.tellp() > 0) text << "\n";
                 text << e.log << " " << e.id << " " << e.created << " "
                      << (e.severity.empty() ? "-" : e.severity) << " " << e.message;
                 j.push_back({{"log", e.log},
                              {"id", e.id},
                              {"created", e.created},
                              {"severity", e.severity},
                              {"message", e.message}});
               }
               if (entries->empty()) text << "(no entries)";
               return Done(text.str(), j);
             });
  bmc_cmd->get_subcommand("log")
      ->add_option("--max", *max, "Entries per log")
      ->check(CLI::Range(1, 100000));
}

void AddChanges(CLI::App* bmc_cmd, CliContext& ctx) {
  auto device = std::make_shared<std::string>();
  auto persistent = std::make_shared<bool>(false);
  auto mode = std::make_shared<std::string>();
  AddBmcVerb(
      bmc_cmd, ctx, "boot", "Set the boot override (next boot, or --persistent)", true,
      std::make_shared<BmcFlags>(), [device] { return "set boot device " + *device + " on"; },
      nullptr,
      [device, persistent, mode](bmc::Bmc& b, const BmcNode&) {
        bmc::BootOverride o;
        auto dev = bmc::ParseBootDevice(*device);
        if (!dev.ok()) return Fail(dev.error());
        o.device = *dev;
        o.persistent = *persistent;
        o.mode = *mode == "uefi"     ? bmc::BootMode::kUefi
                 : *mode == "legacy" ? bmc::BootMode::kLegacy
                                     : bmc::BootMode::kUnchanged;
        Status s = b.SetBootOverride(o);
        if (!s.ok()) return Fail(s.error());
        std::string text = std::string("boot ") + bmc::BootDeviceName(o.device) +
                           (o.persistent ? " (persistent)" : " (next boot)");
        return Done(text, nlohmann::json{{"device", bmc::BootDeviceName(o.device)},
                                         {"persistent", o.persistent}});
      });
  CLI::App* boot = bmc_cmd->get_subcommand("boot");
  boot->add_option("--device", *device, "pxe, cd, hdd, usb, bios")
      ->required()
      ->check(CLI::IsMember({"pxe", "cd", "hdd", "usb", "bios", "none"}, CLI::ignore_case));
  boot->add_flag("--persistent", *persistent, "Keep the override for every boot");
  boot->add_option("--mode", *mode, "uefi or legacy")->check(CLI::IsMember({"uefi", "legacy"}));

  CLI::App* media = bmc_cmd->add_subcommand("media", "Virtual media (CD/DVD image over HTTP)");
  media->require_subcommand(1);
  auto image = std::make_shared<std::string>();
  auto slot = std::make_shared<std::string>();
  auto insert_flags = std::make_shared<BmcFlags>();
  AddBmcVerb(
      media, ctx, "insert", "Insert an image into the virtual CD/DVD", true, insert_flags,
      [image] { return "insert " + *image + " into"; },
      [image] {
        if (!image->empty()) return static_cast<int>(kExitOk);
        std::cerr << "error: media insert needs --image URL\n";
        return static_cast<int>(kExitUsage);
      },
      [image, slot](bmc::Bmc& b, const BmcNode&) {
        Status s = b.InsertMedia(*image, *slot);
        if (!s.ok()) return Fail(s.error());
        return Done("inserted " + *image, nlohmann::json{{"image", *image}, {"inserted", true}});
      });
  media->get_subcommand("insert")->add_option("--image", *image, "Image URL the BMC fetches");
  media->get_subcommand("insert")->add_option("--slot", *slot, "Virtual media Id (default: CD)");
  AddBmcVerb(
      media, ctx, "eject", "Eject virtual media", true, std::make_shared<BmcFlags>(),
      [] { return std::string("eject virtual media of"); }, nullptr,
      [slot](bmc::Bmc& b, const BmcNode&) {
        Status s = b.EjectMedia(*slot);
        if (!s.ok()) return Fail(s.error());
        return Done("ejected", nlohmann::json{{"inserted", false}});
      });
}

}  // namespace

void AddBmcCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* bmc_cmd = app.add_subcommand(
      "bmc", "Talk to nodes' BMCs over Redfish: power, inventory, firmware, boot, media, log");
  bmc_cmd->require_subcommand(1);
  AddPower(bmc_cmd, ctx);
  AddReads(bmc_cmd, ctx);
  AddChanges(bmc_cmd, ctx);
}

}  // namespace racksmith::cli
