#!/usr/bin/python3
"""bench/redfish's Python peer: python3-sushy (Debian) with a pool of 50 threads.

    sushy_pool.py power|inventory BMCS_FILE CA_FILE [THREADS]

One sushy.Sushy per BMC (session auth, TLS verified against CA_FILE), as an operator's script
would use it. `power` reads each system's PowerState; `inventory` reads what racksmith's
`bmc inventory` reports: the system, its processors (CPUs and GPUs), Ethernet interfaces,
storage and drives, the chassis, the manager and the firmware inventory. Prints one line per
failed BMC on stderr and a summary on stdout; exits 1 if any BMC failed.
The password comes from BENCH_BMC_PASSWORD.
"""
import concurrent.futures
import os
import sys

import sushy
from sushy import auth as sushy_auth


def crawl(url, mode, ca_file, password):
    session = sushy_auth.SessionAuth(username="admin", password=password)
    root = sushy.Sushy(url + "/redfish/v1", verify=ca_file, auth=session)
    try:
        system = root.get_system("/redfish/v1/Systems/1")
        if mode == "power":
            return {"power": system.power_state}
        report = {
            "model": system.json.get("Model"),
            "serial": system.serial_number,
            "bios": system.bios_version,
            "power": system.power_state,
            "cpus": [], "gpus": [], "nics": [], "drives": [], "firmware": [],
        }
        for p in system.processors.get_members():
            kind = "gpus" if str(p.processor_type).lower().endswith("gpu") else "cpus"
            report[kind].append((p.identity, p.model))
        for nic in system.ethernet_interfaces.get_members():
            report["nics"].append(nic.mac_address)
        for storage in system.storage.get_members():
            for drive in storage.drives:
                report["drives"].append((drive.identity, drive.serial_number,
                                         drive.capacity_bytes))
        for chassis in root.get_chassis_collection().get_members():
            report["chassis"] = chassis.serial_number
        for manager in root.get_manager_collection().get_members():
            report["bmc_firmware"] = manager.firmware_version
        for fw in root.get_update_service().firmware_inventory.get_members():
            report["firmware"].append((fw.identity, fw.version))
        return report
    finally:
        session.close()  # deletes the Redfish session, as racksmith does


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("power", "inventory"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, bmcs_file, ca_file = sys.argv[1:4]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    password = os.environ["BENCH_BMC_PASSWORD"]
    with open(bmcs_file) as f:
        urls = [line.strip() for line in f if line.strip()]
    failed = 0
    gpus = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        futures = {pool.submit(crawl, u, mode, ca_file, password): u for u in urls}
        for fut in concurrent.futures.as_completed(futures):
            try:
                report = fut.result()
                gpus += len(report.get("gpus", []))
            except Exception as e:  # one line per failed BMC, like the other tools
                failed += 1
                print(f"FAILED {futures[fut]}: {e}", file=sys.stderr)
    print(f"{len(urls) - failed} ok, {failed} failed, {gpus} GPUs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
