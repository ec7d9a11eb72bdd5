#include "bmc/bmc.h"

#include <algorithm>
#include <cctype>

namespace racksmith::bmc {

const char* PowerStateName(PowerState s) {
  switch (s) {
    case PowerState::kOn:
      return "On";
    case PowerState::kOff:
      return "Off";
    case PowerState::kPoweringOn:
      return "PoweringOn";
    case PowerState::kPoweringOff:
      return "PoweringOff";
    case PowerState::kUnknown:
      break;
  }
  return "Unknown";
}

bool IsUnfinishedTaskState(std::string_view state) {
  return state != "Completed" && state != "Exception" && state != "Killed" &&
         state != "Cancelled";
}

PowerState ParsePowerState(const std::string& v) {
  if (v == "On") return PowerState::kOn;
  if (v == "Off") return PowerState::kOff;
  if (v == "PoweringOn") return PowerState::kPoweringOn;
  if (v == "PoweringOff") return PowerState::kPoweringOff;
  return PowerState::kUnknown;
}

const char* ResetTypeName(ResetType t) {
  switch (t) {
    case ResetType::kOn:
      return "On";
    case ResetType::kForceOff:
      return "ForceOff";
    case ResetType::kGracefulShutdown:
      return "GracefulShutdown";
    case ResetType::kForceRestart:
      return "ForceRestart";
    case ResetType::kGracefulRestart:
      return "GracefulRestart";
    case ResetType::kPowerCycle:
      return "PowerCycle";
  }
  return "?";
}

const char* BootDeviceName(BootDevice d) {
  switch (d) {
    case BootDevice::kNone:
      return "None";
    case BootDevice::kPxe:
      return "Pxe";
    case BootDevice::kCd:
      return "Cd";
    case BootDevice::kHdd:
      return "Hdd";
    case BootDevice::kUsb:
      return "Usb";
    case BootDevice::kBiosSetup:
      return "BiosSetup";
    case BootDevice::kUefiTarget:
      return "UefiTarget";
  }
  return "?";
}

Result<BootDevice> ParseBootDevice(const std::string& word) {
  std::string w = word;
  std::transform(w.begin(), w.end(), w.begin(), [](unsigned char c) { return std::tolower(c); });
  if (w == "pxe" || w == "network") return BootDevice::kPxe;
  if (w == "cd" || w == "dvd" || w == "iso") return BootDevice::kCd;
  if (w == "hdd" || w == "disk") return BootDevice::kHdd;
  if (w == "usb") return BootDevice::kUsb;
  if (w == "bios" || w == "biossetup") return BootDevice::kBiosSetup;
  if (w == "uefi" || w == "uefitarget") return BootDevice::kUefiTarget;
  if (w == "none") return BootDevice::kNone;
  return InvalidInput("boot device: expected one of pxe, cd, hdd, usb, bios, uefi, none; found '" +
                      word + "'");
}

}  // namespace racksmith::bmc
