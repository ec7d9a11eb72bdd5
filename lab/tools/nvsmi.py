"""racksmith lab: a simulated nvidia-smi (test/demo harness).

Formats follow real output: `-q -x` has the element tree of the captures in
../shared/gpu-tools/nvidia-smi-xml (drivers >= 535 use the newer layout of
a100-sxm4-v12.xml: clocks_event_reasons, gpu_power_readings, module_power_readings; older
drivers the layout of rtx-3090-v12.xml: clocks_throttle_reasons, power_readings);
`--query-gpu` CSV and `-q` text follow NVIDIA's nvidia-smi documentation.
"""
import sys
import time
from xml.sax.saxutils import escape

from labtool import faults, load_facts, visible_gpus

NA = "N/A"


def driver_major(facts):
    try:
        return int(facts.get("driver_version", "0").split(".")[0])
    except ValueError:
        return 0


class Gpu:
    """One GPU's readings, with the node's faults applied."""

    def __init__(self, g, facts):
        f = faults(facts)
        self.g = g
        self.i = g["index"]
        self.ecc_fault = self.i in f.get("ecc", [])
        self.thermal = self.i in f.get("thermal", [])
        self.width = int(f.get("pcie_width", {}).get(str(self.i), 16))
        self.mem_total = int(g["memory_mib"])
        self.reserved = int(g.get("reserved_mib", 0))
        self.used = 1
        self.free = self.mem_total - self.reserved - self.used
        self.temp = (g["temp_slow_c"] + 2) if self.thermal else 31 + self.i % 4
        self.power_draw = g["power_default_w"] * (0.95 if self.thermal else 0.14)
        self.sm_clock = g["max_graphics_mhz"] // (2 if self.thermal else 1)
        self.ecc = bool(g.get("ecc"))
        self.dbe = 2 if self.ecc_fault else 0
        self.sbe = 16 if self.ecc_fault else 0


def csv_fields():
    """--query-gpu fields: name -> (header unit or None, function(Gpu, facts) -> (value, unit))."""
    def mib(v):
        return (str(v), "MiB")

    def w(v):
        return ("%.2f" % v, "W")

    def mhz(v):
        return (str(v), "MHz")

    def ecc_count(x, kind):
        if not x.ecc:
            return ("[N/A]", None)
        return (str(x.dbe if kind == "unc" else x.sbe), None)

    def thr(x, which):
        return ("Active" if x.thermal and which == "thermal" else "Not Active", None)

    f = {
        "index": (None, lambda x, F: (str(x.i), None)),
        "count": (None, lambda x, F: (str(len(visible_gpus(F))), None)),
        "name": (None, lambda x, F: (x.g["name"], None)),
        "gpu_name": (None, lambda x, F: (x.g["name"], None)),
        "uuid": (None, lambda x, F: (x.g["uuid"], None)),
        "gpu_uuid": (None, lambda x, F: (x.g["uuid"], None)),
        "serial": (None, lambda x, F: (x.g["serial"], None)),
        "driver_version": (None, lambda x, F: (F.get("driver_version", ""), None)),
        "vbios_version": (None, lambda x, F: (x.g["vbios"], None)),
        "pci.bus_id": (None, lambda x, F: (x.g["pci_bus_id"], None)),
        "gpu_bus_id": (None, lambda x, F: (x.g["pci_bus_id"], None)),
        "pci.device_id": (None, lambda x, F: ("0x" + x.g["pci_device_id"], None)),
        "pcie.link.gen.current": (None, lambda x, F: (str(x.g["pcie_gen"]), None)),
        "pcie.link.gen.max": (None, lambda x, F: (str(x.g["pcie_gen"]), None)),
        "pcie.link.width.current": (None, lambda x, F: (str(x.width), None)),
        "pcie.link.width.max": (None, lambda x, F: ("16", None)),
        "memory.total": ("MiB", lambda x, F: mib(x.mem_total)),
        "memory.reserved": ("MiB", lambda x, F: mib(x.reserved)),
        "memory.used": ("MiB", lambda x, F: mib(x.used)),
        "memory.free": ("MiB", lambda x, F: mib(x.free)),
        "temperature.gpu": (None, lambda x, F: (str(x.temp), None)),
        "power.draw": ("W", lambda x, F: w(x.power_draw)),
        "power.limit": ("W", lambda x, F: w(x.g["power_default_w"])),
        "power.default_limit": ("W", lambda x, F: w(x.g["power_default_w"])),
        "power.max_limit": ("W", lambda x, F: w(x.g["power_max_w"])),
        "clocks.sm": ("MHz", lambda x, F: mhz(x.sm_clock)),
        "clocks.max.sm": ("MHz", lambda x, F: mhz(x.g["max_graphics_mhz"])),
        "clocks.max.graphics": ("MHz", lambda x, F: mhz(x.g["max_graphics_mhz"])),
        "clocks.max.memory": ("MHz", lambda x, F: mhz(x.g["max_mem_mhz"])),
        "utilization.gpu": ("%", lambda x, F: ("0", "%")),
        "utilization.memory": ("%", lambda x, F: ("0", "%")),
        "persistence_mode": (None, lambda x, F: ("Enabled", None)),
        "compute_mode": (None, lambda x, F: ("Default", None)),
        "pstate": (None, lambda x, F: ("P0", None)),
        "ecc.mode.current": (None, lambda x, F: ("Enabled" if x.ecc else "[N/A]", None)),
        "ecc.errors.corrected.volatile.total": (None, lambda x, F: ecc_count(x, "cor")),
        "ecc.errors.uncorrected.volatile.total": (None, lambda x, F: ecc_count(x, "unc")),
        "ecc.errors.corrected.aggregate.total": (None, lambda x, F: ecc_count(x, "cor")),
        "ecc.errors.uncorrected.aggregate.total": (None, lambda x, F: ecc_count(x, "unc")),
        "clocks_throttle_reasons.hw_thermal_slowdown": (None, lambda x, F: thr(x, "thermal")),
        "clocks_event_reasons.hw_thermal_slowdown": (None, lambda x, F: thr(x, "thermal")),
        "clocks_throttle_reasons.active": (None, lambda x, F: ("0x0000000000000040" if x.thermal else "0x0000000000000000", None)),
        "clocks_event_reasons.active": (None, lambda x, F: ("0x0000000000000040" if x.thermal else "0x0000000000000000", None)),
    }
    return f


def query_gpu(facts, gpus, fields_arg, fmt):
    fields = csv_fields()
    names = [n.strip() for n in fields_arg.split(",") if n.strip()]
    for n in names:
        if n not in fields:
            sys.stdout.write('Field "%s" is not a valid field to query.\n\n' % n)
            return 2
    opts = set(fmt.split(","))
    if "csv" not in opts:
        sys.stdout.write('"%s" is not a valid format.\n' % fmt)
        return 2
    if "noheader" not in opts:
        print(", ".join(n + (" [%s]" % fields[n][0] if fields[n][0] and "nounits" not in opts else "")
                        for n in names))
    for x in gpus:
        row = []
        for n in names:
            value, unit = fields[n][1](x, facts)
            row.append(value if (unit is None or "nounits" in opts) else "%s %s" % (value, unit))
        print(", ".join(row))
    return 0


def list_gpus(gpus):
    for x in gpus:
        print("GPU %d: %s (UUID: %s)" % (x.i, x.g["name"], x.g["uuid"]))
    return 0


def topo(facts, gpus):
    n = len(gpus)
    cpus = int(facts.get("cpus", 0)) or 64
    half = max(1, n // 2)
    header = "\t" + "\t".join("GPU%d" % x.i for x in gpus) + "\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID"
    print(header)
    for a_pos, a in enumerate(gpus):
        cells = []
        for b_pos, b in enumerate(gpus):
            if a.i == b.i:
                cells.append(" X ")
            elif facts.get("nvswitch") or a.g.get("nvlink"):
                cells.append("NV12")
            elif a_pos // half == b_pos // half:
                cells.append("NODE")
            else:
                cells.append("SYS")
        numa = a_pos // half if n > 1 else 0
        per = cpus // 2
        affinity = "%d-%d" % (numa * per, numa * per + per - 1)
        print("GPU%d\t" % a.i + "\t".join(cells) + "\t%s\t%d\t\tN/A" % (affinity, numa))
    print("""
Legend:

  X    = Self
  SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes (e.g., QPI/UPI)
  NODE = Connection traversing PCIe as well as the interconnect between PCIe Host Bridges within a NUMA node
  PHB  = Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)
  PXB  = Connection traversing multiple PCIe bridges (without traversing the PCIe Host Bridge)
  PIX  = Connection traversing at most a single PCIe bridge
  NV#  = Connection traversing a bonded set of # NVLinks""")
    return 0


def gpu_tree(x, facts):
    """The <gpu> element as (tag, value-or-children) pairs, in the captures' order."""
    g = x.g
    new = driver_major(facts) >= 535
    v11 = driver_major(facts) < 520
    reason = "clocks_event_reason_" if new else "clocks_throttle_reason_"
    reasons = [(reason + k, ("Active" if (k == "hw_thermal_slowdown" and x.thermal) or
                             (k == "hw_slowdown" and x.thermal) else "Not Active"))
               for k in ("gpu_idle", "applications_clocks_setting", "sw_power_cap", "hw_slowdown",
                         "hw_thermal_slowdown", "hw_power_brake_slowdown", "sync_boost",
                         "sw_thermal_slowdown", "display_clocks_setting")]
    ecc = lambda v: str(v) if x.ecc else NA
    ecc_counts = [("sram_correctable", ecc(0)), ("sram_uncorrectable", ecc(0)),
                  ("dram_correctable", ecc(x.sbe)), ("dram_uncorrectable", ecc(x.dbe))]
    power_limits = [("current_power_limit", "%.2f W" % g["power_default_w"]),
                    ("requested_power_limit", "%.2f W" % g["power_default_w"]),
                    ("default_power_limit", "%.2f W" % g["power_default_w"]),
                    ("min_power_limit", "%.2f W" % g["power_min_w"]),
                    ("max_power_limit", "%.2f W" % g["power_max_w"])]
    t = []
    t.append(("product_name", g["name"]))
    t.append(("product_brand", g.get("brand", "NVIDIA")))
    t.append(("product_architecture", g["architecture"]))
    t.append(("display_mode", "Disabled"))
    t.append(("display_active", "Disabled"))
    t.append(("persistence_mode", "Enabled"))
    if new:
        t.append(("addressing_mode", "None"))
    t.append(("mig_mode", [("current_mig", "Disabled" if x.ecc else NA), ("pending_mig", "Disabled" if x.ecc else NA)]))
    t.append(("mig_devices", "None"))
    t.append(("accounting_mode", "Disabled"))
    t.append(("accounting_mode_buffer_size", "4000"))
    t.append(("driver_model", [("current_dm", NA), ("pending_dm", NA)]))
    t.append(("serial", g["serial"]))
    t.append(("uuid", g["uuid"]))
    t.append(("minor_number", str(g["minor"])))
    t.append(("vbios_version", g["vbios"]))
    t.append(("multigpu_board", "No"))
    t.append(("board_id", "0x%x" % (int(g["pci_bus"], 16) << 8)))
    if not v11:
        t.append(("board_part_number", NA))
    t.append(("gpu_part_number", NA))
    if new:
        t.append(("gpu_fru_part_number", NA))
    t.append(("gpu_module_id", str(g["module_id"])))
    t.append(("inforom_version", [("img_version", NA), ("oem_object", "2.0"),
                                  ("ecc_object", "6.16" if x.ecc else NA), ("pwr_object", NA)]))
    t.append(("gpu_operation_mode", [("current_gom", NA), ("pending_gom", NA)]))
    t.append(("gsp_firmware_version", facts.get("driver_version", NA) if new else NA))
    t.append(("gpu_virtualization_mode", [("virtualization_mode", "None"), ("host_vgpu_mode", NA)]))
    if new:
        t.append(("gpu_reset_status", [("reset_required", "No"), ("drain_and_reset_recommended", "No")]))
    t.append(("ibmnpu", [("relaxed_ordering_mode", NA)]))
    gen = str(g["pcie_gen"])
    pcie_gen = [("max_link_gen", gen), ("current_link_gen", gen)]
    if not v11:
        pcie_gen += [("device_current_link_gen", gen), ("max_device_link_gen", gen),
                     ("max_host_link_gen", gen)]
    pci = [
        ("pci_bus", g["pci_bus"]), ("pci_device", "00"), ("pci_domain", "0000"),
        ("pci_device_id", g["pci_device_id"]), ("pci_bus_id", g["pci_bus_id"]),
        ("pci_sub_system_id", g["pci_sub_system_id"]),
        ("pci_gpu_link_info", [
            ("pcie_gen", pcie_gen),
            ("link_widths", [("max_link_width", "16x"), ("current_link_width", "%dx" % x.width)])]),
        ("pci_bridge_chip", [("bridge_chip_type", NA), ("bridge_chip_fw", NA)]),
        ("replay_counter", "0"), ("replay_rollover_counter", "0"),
        ("tx_util", "0 KB/s"), ("rx_util", "0 KB/s")]
    if not v11:
        pci += [("atomic_caps_inbound", NA), ("atomic_caps_outbound", NA)]
    t.append(("pci", pci))
    t.append(("fan_speed", NA if g.get("pci_class") == "3D controller" else "30 %"))
    t.append(("performance_state", "P0"))
    t.append(("clocks_event_reasons" if new else "clocks_throttle_reasons", reasons))
    t.append(("fb_memory_usage", [("total", "%d MiB" % x.mem_total), ("reserved", "%d MiB" % x.reserved),
                                  ("used", "%d MiB" % x.used), ("free", "%d MiB" % x.free)]))
    t.append(("bar1_memory_usage", [("total", "%d MiB" % g["bar1_mib"]), ("used", "1 MiB"),
                                     ("free", "%d MiB" % (g["bar1_mib"] - 1))]))
    if new:
        t.append(("cc_protected_memory_usage", [("total", "0 MiB"), ("used", "0 MiB"), ("free", "0 MiB")]))
    t.append(("compute_mode", "Default"))
    util = [("gpu_util", "0 %"), ("memory_util", "0 %"), ("encoder_util", "0 %"), ("decoder_util", "0 %")]
    if new:
        util += [("jpeg_util", "0 %"), ("ofa_util", "0 %")]
    t.append(("utilization", util))
    stats = [("session_count", "0"), ("average_fps", "0"), ("average_latency", "0")]
    t.append(("encoder_stats", stats))
    t.append(("fbc_stats", stats))
    t.append(("ecc_mode", [("current_ecc", "Enabled" if x.ecc else NA), ("pending_ecc", "Enabled" if x.ecc else NA)]))
    t.append(("ecc_errors", [("volatile", ecc_counts), ("aggregate", ecc_counts)]))
    t.append(("retired_pages", [
        ("multiple_single_bit_retirement", [("retired_count", NA), ("retired_pagelist", NA)]),
        ("double_bit_retirement", [("retired_count", NA), ("retired_pagelist", NA)]),
        ("pending_blacklist", NA), ("pending_retirement", NA)]))
    if x.ecc and g["architecture"] in ("Ampere", "Hopper"):
        # Row remapping (Ampere and later data-center GPUs), shaped as in a10g.xml.
        t.append(("remapped_rows", [
            ("remapped_row_corr", "0"), ("remapped_row_unc", "1" if x.ecc_fault else "0"),
            ("remapped_row_pending", "No"), ("remapped_row_failure", "Yes" if x.ecc_fault else "No"),
            ("row_remapper_histogram", [("row_remapper_histogram_max", "639 bank(s)"),
                                        ("row_remapper_histogram_high", "0 bank(s)"),
                                        ("row_remapper_histogram_partial", "0 bank(s)"),
                                        ("row_remapper_histogram_low", "0 bank(s)"),
                                        ("row_remapper_histogram_none", "0 bank(s)")])]))
    else:
        t.append(("remapped_rows", NA))
    temps = [("gpu_temp", "%d C" % x.temp)]
    if not v11:
        temps.append(("gpu_temp_tlimit", NA))
    t.append(("temperature", temps + [
        ("gpu_temp_max_threshold", "%d C" % g["temp_shutdown_c"]),
        ("gpu_temp_slow_threshold", "%d C" % g["temp_slow_c"]),
        ("gpu_temp_max_gpu_threshold", "%d C" % g["temp_max_gpu_c"]),
        ("gpu_target_temperature", NA), ("memory_temp", NA), ("gpu_temp_max_mem_threshold", NA)]))
    t.append(("supported_gpu_target_temp", [("gpu_target_temp_min", NA), ("gpu_target_temp_max", NA)]))
    if new:
        t.append(("gpu_power_readings", [("power_state", "P0"), ("power_draw", "%.2f W" % x.power_draw)] + power_limits))
        t.append(("module_power_readings", [("power_state", "P0"), ("power_draw", NA)] +
                  [(k, NA) for k, _ in power_limits]))
    else:
        t.append(("power_readings", [
            ("power_state", "P0"), ("power_management", "Supported"),
            ("power_draw", "%.2f W" % x.power_draw),
            ("power_limit", "%.2f W" % g["power_default_w"]),
            ("default_power_limit", "%.2f W" % g["power_default_w"]),
            ("enforced_power_limit", "%.2f W" % g["power_default_w"]),
            ("min_power_limit", "%.2f W" % g["power_min_w"]),
            ("max_power_limit", "%.2f W" % g["power_max_w"])]))
    clocks = lambda gr, mem: [("graphics_clock", "%d MHz" % gr), ("sm_clock", "%d MHz" % gr),
                              ("mem_clock", "%d MHz" % mem), ("video_clock", "%d MHz" % g["max_video_mhz"])]
    t.append(("clocks", clocks(x.sm_clock, g["max_mem_mhz"])))
    t.append(("applications_clocks", [("graphics_clock", "%d MHz" % g["max_graphics_mhz"]), ("mem_clock", "%d MHz" % g["max_mem_mhz"])]))
    t.append(("default_applications_clocks", [("graphics_clock", "%d MHz" % g["max_graphics_mhz"]), ("mem_clock", "%d MHz" % g["max_mem_mhz"])]))
    if not v11:
        t.append(("deferred_clocks", [("mem_clock", NA)]))
    t.append(("max_clocks", clocks(g["max_graphics_mhz"], g["max_mem_mhz"])))
    t.append(("max_customer_boost_clocks", [("graphics_clock", "%d MHz" % g["max_graphics_mhz"])]))
    t.append(("clock_policy", [("auto_boost", NA), ("auto_boost_default", NA)]))
    t.append(("voltage", [("graphics_volt", "900.000 mV")]))
    if not v11:
        t.append(("fabric", [("state", "Completed" if facts.get("nvswitch") else NA),
                             ("status", "Success" if facts.get("nvswitch") else NA)]))
    t.append(("supported_clocks", [("supported_mem_clock", [("value", "%d MHz" % g["max_mem_mhz"]),
                                                             ("supported_graphics_clock", "%d MHz" % g["max_graphics_mhz"])])]))
    t.append(("processes", []))
    t.append(("accounted_processes", []))
    return t


def xml_out(facts, gpus):
    out = ['<?xml version="1.0" ?>',
           '<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v%d.dtd">' % (11 if driver_major(facts) < 520 else 12),
           "<nvidia_smi_log>",
           "\t<timestamp>%s</timestamp>" % time.strftime("%a %b %e %H:%M:%S %Y"),
           "\t<driver_version>%s</driver_version>" % escape(facts.get("driver_version", "")),
           "\t<cuda_version>%s</cuda_version>" % escape(facts.get("cuda_version", "")),
           "\t<attached_gpus>%d</attached_gpus>" % len(gpus)]

    def emit(items, depth):
        pad = "\t" * depth
        for tag, value in items:
            if isinstance(value, list):
                if value:
                    out.append("%s<%s>" % (pad, tag))
                    emit(value, depth + 1)
                    out.append("%s</%s>" % (pad, tag))
                else:
                    out.append("%s<%s>\n%s</%s>" % (pad, tag, pad, tag))
            else:
                out.append("%s<%s>%s</%s>" % (pad, tag, escape(value), tag))

    for x in gpus:
        out.append('\t<gpu id="%s">' % x.g["pci_bus_id"])
        emit(gpu_tree(x, facts), 2)
        out.append("\t</gpu>")
    out.append("</nvidia_smi_log>")
    print("\n".join(out))
    return 0


LABELS = {"product_name": "Product Name", "uuid": "GPU UUID", "pci": "PCI",
          "pci_bus_id": "Bus Id", "fb_memory_usage": "FB Memory Usage",
          "bar1_memory_usage": "BAR1 Memory Usage", "ecc_errors": "ECC Errors",
          "vbios_version": "VBIOS Version", "gpu_temp": "GPU Current Temp",
          "clocks_event_reasons": "Clocks Event Reasons", "clocks_throttle_reasons": "Clocks Throttle Reasons",
          "mig_mode": "MIG Mode", "dram_uncorrectable": "DRAM Uncorrectable",
          "dram_correctable": "DRAM Correctable", "sram_uncorrectable": "SRAM Uncorrectable",
          "sram_correctable": "SRAM Correctable", "current_link_width": "Current",
          "max_link_width": "Max", "link_widths": "Link Width", "pcie_gen": "PCIe Generation",
          "gpu_power_readings": "GPU Power Readings", "power_readings": "Power Readings"}


def label(tag):
    if tag in LABELS:
        return LABELS[tag]
    for prefix in ("clocks_event_reason_", "clocks_throttle_reason_"):
        if tag.startswith(prefix):
            tag = tag[len(prefix):]
    return " ".join(w.upper() if w in ("hw", "sw", "gpu", "id", "ecc", "mig", "pci", "fb") else w.capitalize()
                    for w in tag.split("_"))


def text_out(facts, gpus):
    print("\n==============NVSMI LOG==============\n")
    print("%-42s: %s" % ("Timestamp", time.strftime("%a %b %e %H:%M:%S %Y")))
    print("%-42s: %s" % ("Driver Version", facts.get("driver_version", "")))
    print("%-42s: %s" % ("CUDA Version", facts.get("cuda_version", "")))
    print()
    print("%-42s: %d" % ("Attached GPUs", len(gpus)))

    def emit(items, depth):
        pad = "    " * depth
        for tag, value in items:
            if isinstance(value, list):
                print(pad + label(tag))
                emit(value, depth + 1)
            else:
                print("%s%-*s: %s" % (pad, 42 - len(pad), label(tag), value))

    for x in gpus:
        print("GPU " + x.g["pci_bus_id"])
        emit(gpu_tree(x, facts), 1)
        print()
    return 0


def main(argv):
    facts = load_facts()
    gpus = [Gpu(g, facts) for g in visible_gpus(facts)]
    if not facts.get("gpus"):
        print("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
              "Make sure that the latest NVIDIA driver is installed and running.")
        return 9
    query = fmt = None
    index = None
    args = list(argv)
    i = 0
    flags = set()
    while i < len(args):
        a = args[i]
        if a.startswith("--query-gpu="):
            query = a.split("=", 1)[1]
        elif a == "--query-gpu" and i + 1 < len(args):
            i += 1
            query = args[i]
        elif a.startswith("--format="):
            fmt = a.split("=", 1)[1]
        elif a == "--format" and i + 1 < len(args):
            i += 1
            fmt = args[i]
        elif a in ("-i", "--id") and i + 1 < len(args):
            i += 1
            index = args[i]
        elif a.startswith("--id="):
            index = a.split("=", 1)[1]
        else:
            flags.add(a)
        i += 1
    if index is not None:
        wanted = [x for x in gpus if str(x.i) == index or x.g["uuid"] == index or x.g["pci_bus_id"] == index]
        if not wanted:
            print("No devices were found")
            return 6
        gpus = wanted
    if query is not None:
        return query_gpu(facts, gpus, query, fmt or "")
    if "-L" in flags or "--list-gpus" in flags:
        return list_gpus(gpus)
    if "topo" in flags and ("-m" in flags or "--matrix" in flags):
        return topo(facts, gpus)
    if "-q" in flags or "--query" in flags:
        if "-x" in flags or "--xml-format" in flags:
            return xml_out(facts, gpus)
        return text_out(facts, gpus)
    if not flags:
        # The summary table, short: the lab prints one line per GPU.
        print(time.strftime("%a %b %e %H:%M:%S %Y"))
        print("NVIDIA-SMI %s    Driver Version: %s    CUDA Version: %s"
              % (facts.get("driver_version", ""), facts.get("driver_version", ""), facts.get("cuda_version", "")))
        for x in gpus:
            print("|   %d  %-28s | %s | %5dMiB / %5dMiB |" % (x.i, x.g["name"][:28], x.g["pci_bus_id"], x.used, x.mem_total))
        return 0
    sys.stderr.write("nvidia-smi (racksmith lab): unsupported arguments: %s\n" % " ".join(argv))
    return 2
