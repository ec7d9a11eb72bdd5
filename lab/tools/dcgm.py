"""racksmith lab: a simulated `dcgmi diag` (test/demo harness).

The JSON has the shape of real DCGM 3.1 output (../shared/gpu-tools/dcgm/
dcgmi-diag-r3-8gpu-dcgm3.1.json): {"DCGM GPU Diagnostic": {"test_categories": [{"category",
"tests": [{"name", "results": [{"gpu_ids", "status"}]}]}], "version"}}, statuses
PASS/FAIL/SKIP/WARN; Deployment tests report all GPUs at once ("gpu_ids": "0,1,...") and
per-GPU tests one result per GPU ("gpu_ids": N). A failed result carries "warnings":
[{"warning", "error_id"}] as DCGM 3 does. Which tests run at -r 1/2/3 follows DCGM's
documentation of run levels.
"""
import json
import sys

from labtool import faults, load_facts, visible_gpus

DEPLOYMENT = ["Denylist", "NVML Library", "CUDA Main Library", "Permissions and OS-related Blocks",
              "Persistence Mode", "Environmental Variables", "Page Retirement/Row Remap",
              "Graphics Processes", "Inforom"]


def per_gpu(gpus, check):
    results = []
    for g in gpus:
        problem = check(g)
        r = {"gpu_ids": g["index"], "status": "FAIL" if problem else "PASS"}
        if problem:
            r["warnings"] = [{"warning": problem[1], "error_id": problem[0]}]
        results.append(r)
    return results


def diagnose(facts, level):
    f = faults(facts)
    gpus = visible_gpus(facts)
    ids = ",".join(str(g["index"]) for g in gpus)
    ecc = set(f.get("ecc", []))
    thermal = set(f.get("thermal", []))
    widths = f.get("pcie_width", {})
    xids = {x["gpu"]: x["code"] for x in f.get("xid", [])}

    deployment = []
    for name in DEPLOYMENT:
        r = {"gpu_ids": ids, "status": "PASS"}
        if name == "Page Retirement/Row Remap" and ecc & {g["index"] for g in gpus}:
            bad = sorted(ecc)
            r = {"gpu_ids": ids, "status": "FAIL",
                 "warnings": [{"warning": "GPU %d had uncorrectable memory errors and row remapping "
                               "failed. Drain the GPU and reset it or reboot the node." % bad[0],
                               "error_id": 95}]}
        deployment.append({"name": name, "results": [r]})
    categories = [{"category": "Deployment", "tests": deployment}]
    if level >= 2:
        categories.append({"category": "Integration", "tests": [{"name": "PCIe", "results": per_gpu(
            gpus, lambda g: (3, "GPU %d PCIe link width x%s is below the maximum x16"
                             % (g["index"], widths[str(g["index"])]))
            if str(g["index"]) in widths else None)}]})
        categories.append({"category": "Hardware", "tests": [{"name": "GPU Memory", "results": per_gpu(
            gpus, lambda g: (44, "GPU %d: double-bit ECC error detected during memory test" % g["index"])
            if g["index"] in ecc else None)}]})
    if level >= 3:
        categories[-1]["tests"].append({"name": "Diagnostic", "results": per_gpu(
            gpus, lambda g: (43, "GPU %d: Xid %d seen during the test" % (g["index"], xids[g["index"]]))
            if g["index"] in xids else None)})
        thermal_check = (lambda g: (21, "Clocks for GPU %d were throttled due to thermal violations"
                                    % g["index"]) if g["index"] in thermal else None)
        categories.append({"category": "Stress", "tests": [
            {"name": "Targeted Stress", "results": per_gpu(gpus, thermal_check)},
            {"name": "Targeted Power", "results": per_gpu(gpus, thermal_check)},
            {"name": "Memory Bandwidth", "results": per_gpu(gpus, lambda g: None)}]})
    return {"DCGM GPU Diagnostic": {"test_categories": categories, "version": "3.1.0"}}


def failed(report):
    return any(r["status"] == "FAIL"
               for c in report["DCGM GPU Diagnostic"]["test_categories"]
               for t in c["tests"] for r in t["results"])


def table(report):
    line = "+---------------------------+------------------------------------------------+"
    print("Successfully ran diagnostic for group.")
    print(line)
    print("| %-25s | %-46s |" % ("Diagnostic", "Result"))
    print(line.replace("-", "="))
    print("|-----  Metadata  ----------+------------------------------------------------|")
    print("| %-25s | %-46s |" % ("DCGM Version", report["DCGM GPU Diagnostic"]["version"]))
    for c in report["DCGM GPU Diagnostic"]["test_categories"]:
        print(("|-----  %s  " % c["category"]).ljust(28, "-") + "+" + "-" * 48 + "|")
        for t in c["tests"]:
            statuses = [r["status"] for r in t["results"]]
            overall = "Fail" if "FAIL" in statuses else "Pass"
            print("| %-25s | %-46s |" % (t["name"], overall))
            for r in t["results"]:
                for w in r.get("warnings", []):
                    print("| %-25s | %-46s |" % ("", ("Warning: " + w["warning"])[:46]))
    print(line)


def main(argv):
    if not argv or argv[0] != "diag":
        sys.stderr.write("dcgmi (racksmith lab): only `dcgmi diag -r LEVEL [-j]` is simulated\n")
        return 2
    level = 1
    as_json = False
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("-r", "--run") and i + 1 < len(argv):
            i += 1
            try:
                level = int(argv[i])
            except ValueError:
                sys.stderr.write("Error: Invalid run level '%s'\n" % argv[i])
                return 2
        elif a in ("-j", "--json"):
            as_json = True
        i += 1
    if level not in (1, 2, 3, 4):
        sys.stderr.write("Error: Invalid run level '%d'\n" % level)
        return 2
    report = diagnose(load_facts(), level)
    if as_json:
        print(json.dumps(report, indent=1))
    else:
        table(report)
    return 1 if failed(report) else 0
