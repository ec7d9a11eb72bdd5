#!/usr/bin/python3
"""racksmith lab (test/demo harness): the simulated system tools of a lab node.

Each tool name in lab/tools/TOOLS is a link to this file; argv[0] picks the tool. Facts
(hardware and injected faults) come from the node's facts file ($RACKSMITH_LAB_FACTS,
written by `racksmith lab up` and `racksmith lab fault`); state that playbooks change
(packages, services, mounts) lives under the node's own /var/lib/racksmith-lab
($RACKSMITH_LAB_STATE overrides it, for tests). See docs/lab.md for each tool's sources.
"""
import json
import os
import sys
import time

FACTS = os.environ.get("RACKSMITH_LAB_FACTS", "/usr/local/racksmith-lab/facts.json")
STATE = os.environ.get("RACKSMITH_LAB_STATE", "/var/lib/racksmith-lab")


def load_facts():
    with open(FACTS) as f:
        facts = json.load(f)
    # The driver the node runs is the one installed on it (nvidia-driver-BRANCH at its
    # version, "550.144.03-0ubuntu1" -> "550.144.03"), else the one its image came with.
    try:
        with open(os.path.join(STATE, "packages.json")) as f:
            installed = json.load(f)
    except (OSError, ValueError):
        installed = {}
    for name, version in sorted(installed.items()):
        if name.startswith("nvidia-driver-") and version and version[0].isdigit():
            facts["driver_version"] = version.rstrip("*").split("-")[0]
    return facts


def faults(facts):
    return facts.get("faults", {}) or {}


def visible_gpus(facts):
    """GPUs still on the bus (a gpu-missing fault hides one from every tool)."""
    missing = set(faults(facts).get("gpu_missing", []))
    return [g for g in facts.get("gpus", []) if g["index"] not in missing]


def boot_time():
    """When the node booted: the node's boot_id file is rewritten at each boot."""
    for path in ("/proc/sys/kernel/random/boot_id",):
        try:
            if os.environ.get("RACKSMITH_LAB_NODE"):
                return os.stat(os.path.join(os.environ["RACKSMITH_LAB_NODE"], "boot_id")).st_mtime
            return os.stat(path).st_mtime
        except OSError:
            pass
    return time.time()


def state_path(*parts):
    path = os.path.join(STATE, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def read_json(path, default):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


XID_TEXT = {
    13: "Graphics Engine Exception",
    31: "MMU Fault",
    43: "Reset Channel Verif Error",
    45: "Preemptive Cleanup, due to previous errors -- Most likely to see when running multiple cuda applications and hitting a DBE.",
    48: "An uncorrectable double bit error (DBE) has been detected on GPU",
    63: "Row remapping event",
    64: "Row remapping failure",
    74: "NVLink Error",
    79: "GPU has fallen off the bus.",
    92: "High single-bit ECC error rate",
    94: "Contained ECC error",
    95: "Uncontained ECC error",
}


def dmesg(argv):
    facts = load_facts()
    booted = boot_time()
    lines = [
        (0.0, "Linux version 6.1.0-lab (racksmith lab) #1 SMP PREEMPT_DYNAMIC"),
        (0.0, "Command line: BOOT_IMAGE=/vmlinuz root=/dev/nvme0n1p2 ro quiet"),
        (1.2, "nvidia: module license 'NVIDIA' taints kernel."),
        (1.3, "NVRM: loading NVIDIA UNIX x86_64 Kernel Module  %s" % facts.get("driver_version", "")),
    ]
    gpus = {g["index"]: g for g in facts.get("gpus", [])}
    for x in faults(facts).get("xid", []):
        g = gpus.get(x["gpu"])
        bus = g["pci_bus_id"][4:-2] if g else "0000:00:00"
        t = max(2.0, x.get("at", 0) / 1000.0 - booted)
        text = XID_TEXT.get(x["code"], "")
        lines.append((t, "NVRM: Xid (PCI:%s): %d, pid='<unknown>', name=<unknown>, %s"
                      % (bus, x["code"], text)))
    human = "-T" in argv or "--ctime" in argv
    for t, msg in sorted(lines, key=lambda l: l[0]):
        if human:
            stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(booted + t))
            print("[%s] %s" % (stamp, msg))
        else:
            print("[%12.6f] %s" % (t, msg))
    return 0


# ---- lspci --------------------------------------------------------------------------

HOST_DEVICES = [
    ("00:00.0", "Host bridge", "Intel Corporation Device 09a2 (rev 04)", None),
    ("00:1f.0", "ISA bridge", "Intel Corporation C620 Series Chipset Family LPC Controller (rev 09)", None),
    ("01:00.0", "Ethernet controller", "Mellanox Technologies MT2892 Family [ConnectX-6 Dx]", None),
    ("02:00.0", "Non-Volatile memory controller", "Samsung Electronics Co Ltd NVMe SSD Controller PM173X", None),
]
PCIE_SPEED = {3: "8GT/s", 4: "16GT/s", 5: "32GT/s"}


def lspci(argv):
    facts = load_facts()
    widths = faults(facts).get("pcie_width", {})
    devices = []
    for bus, cls, name, _ in HOST_DEVICES:
        devices.append({"slot": bus, "class": cls, "name": name, "vendor": "", "gpu": None})
    for g in visible_gpus(facts):
        devices.append({"slot": g["pci_bus"].lower() + ":00.0", "class": g.get("pci_class", "3D controller"),
                        "name": "NVIDIA Corporation " + g.get("lspci_name", g["name"]) + " (rev a1)",
                        "vendor": "10de", "gpu": g})
    devices.sort(key=lambda d: d["slot"])
    verbose = sum(a.count("v") for a in argv if a.startswith("-v"))
    numeric = "-nn" in argv or "-n" in argv
    only_vendor = None
    only_slot = None
    for i, a in enumerate(argv):
        if a == "-d" and i + 1 < len(argv):
            only_vendor = argv[i + 1].split(":")[0].lower()
        if a == "-s" and i + 1 < len(argv):
            only_slot = argv[i + 1].lower()
    for d in devices:
        if only_vendor and d["vendor"] != only_vendor:
            continue
        if only_slot and not d["slot"].endswith(only_slot):
            continue
        line = "%s %s: %s" % (d["slot"], d["class"], d["name"])
        g = d["gpu"]
        if numeric and g:
            dev = g["pci_device_id"][:4].lower()
            line = "%s %s [0302]: NVIDIA Corporation %s [10de:%s] (rev a1)" % (
                d["slot"], d["class"], g.get("lspci_name", g["name"]), dev)
        print(line)
        if verbose and g:
            gen = int(g.get("pcie_gen", 4))
            width = int(widths.get(str(g["index"]), 16))
            print("\tSubsystem: NVIDIA Corporation Device %s" % g["pci_sub_system_id"][:4].lower())
            print("\tControl: I/O- Mem+ BusMaster+ SpecCycle- MemWINV- VGASnoop- ParErr+ Stepping- SERR+ FastB2B- DisINTx+")
            print("\tCapabilities: [78] Express (v2) Endpoint, MSI 00")
            print("\t\tLnkCap:\tPort #0, Speed %s, Width x16, ASPM not supported" % PCIE_SPEED.get(gen, "16GT/s"))
            print("\t\tLnkSta:\tSpeed %s (ok), Width x%d (%s)" % (
                PCIE_SPEED.get(gen, "16GT/s"), width, "ok" if width == 16 else "downgraded"))
            print("\tKernel driver in use: nvidia")
            print("\tKernel modules: nvidiafb, nouveau, nvidia_drm, nvidia")
            print()
    return 0


# ---- dmidecode ----------------------------------------------------------------------

def dmidecode(argv):
    facts = load_facts()
    system = facts.get("system", {})
    keys = {
        "system-manufacturer": system.get("manufacturer", ""),
        "system-product-name": system.get("product", ""),
        "system-serial-number": system.get("serial", ""),
        "system-uuid": system.get("uuid", ""),
        "bios-version": facts.get("bios_version", ""),
        "bios-vendor": "Racksmith Lab",
    }
    if "-s" in argv:
        key = argv[argv.index("-s") + 1] if argv.index("-s") + 1 < len(argv) else ""
        if key not in keys:
            sys.stderr.write("Invalid string keyword: %s\n" % key)
            return 2
        print(keys[key])
        return 0
    types = []
    for i, a in enumerate(argv):
        if a in ("-t", "--type") and i + 1 < len(argv):
            types += argv[i + 1].split(",")
    print("# dmidecode 3.4\nGetting SMBIOS data from sysfs.\nSMBIOS 3.3.0 present.\n")
    if not types or "bios" in types or "0" in types:
        print("Handle 0x0000, DMI type 0, 26 bytes\nBIOS Information")
        print("\tVendor: %s\n\tVersion: %s\n\tRelease Date: 01/01/2024" % (keys["bios-vendor"], keys["bios-version"]))
        print()
    if not types or "system" in types or "1" in types:
        print("Handle 0x0001, DMI type 1, 27 bytes\nSystem Information")
        print("\tManufacturer: %s" % keys["system-manufacturer"])
        print("\tProduct Name: %s" % keys["system-product-name"])
        print("\tVersion: 1.0")
        print("\tSerial Number: %s" % keys["system-serial-number"])
        print("\tUUID: %s" % keys["system-uuid"])
        print("\tWake-up Type: Power Switch")
        print("\tSKU Number: %s" % facts.get("node", ""))
        print("\tFamily: Lab")
        print()
    if not types or "memory" in types or "17" in types:
        total = int(facts.get("memory_gib", 0))
        dimms = 16 if total >= 256 else 8
        for i in range(dimms if total else 0):
            print("Handle 0x%04X, DMI type 17, 92 bytes\nMemory Device" % (0x1100 + i))
            print("\tSize: %d GB\n\tForm Factor: DIMM\n\tLocator: DIMM_%c%d\n\tType: DDR4\n\tSpeed: 3200 MT/s"
                  % (total // dimms, "ABCDEFGH"[i % 8], i // 8))
            print()
    return 0


def initramfs(argv):
    """update-initramfs -u [-k KERNEL] / dracut -f: says what it would write (nothing to boot)."""
    kernel = os.uname().release
    if "-k" in argv and argv.index("-k") + 1 < len(argv) and argv[argv.index("-k") + 1] != "all":
        kernel = argv[argv.index("-k") + 1]
    if os.path.basename(sys.argv[0]) == "update-initramfs":
        print("update-initramfs: Generating /boot/initrd.img-%s" % kernel)
    return 0


def main():
    tool = os.path.basename(sys.argv[0])
    argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
    if tool == "nvidia-smi":
        import nvsmi
        return nvsmi.main(argv)
    if tool == "dcgmi":
        import dcgm
        return dcgm.main(argv)
    if tool in ("apt-get", "apt", "dpkg-query", "dpkg", "systemctl", "mount", "umount", "mountpoint"):
        import nodestate
        return nodestate.main(tool, argv)
    if tool in ("blkid", "mdadm") or tool.startswith("mkfs."):
        import nodestate
        if tool == "blkid":
            return nodestate.blkid(argv)
        if tool == "mdadm":
            return nodestate.mdadm(argv)
        return nodestate.mkfs(tool, argv)
    tools = {"lspci": lspci, "dmidecode": dmidecode, "dmesg": dmesg,
             "update-initramfs": initramfs, "dracut": initramfs}
    if tool in tools:
        return tools[tool](argv)
    sys.stderr.write("labtool: unknown tool %s\n" % tool)
    return 127


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(141)
