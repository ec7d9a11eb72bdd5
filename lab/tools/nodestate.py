"""racksmith lab: package manager, systemctl and mount of a simulated node (test/demo harness).

Nothing is really installed, started or mounted: each tool records what a playbook asked for
under the node's own /var/lib/racksmith-lab (packages.json, services.json, mounts.json), so
a reimage wipes it with the rest of the node's /var, and tests can read it from outside.
Messages and exit codes follow the real tools (apt-get, dpkg-query, systemctl, mount).
"""
import os
import re
import sys

from labtool import load_facts, read_json, state_path, write_json

PACKAGES = "packages.json"
SERVICES = "services.json"
MOUNTS = "mounts.json"
DISKS = "disks.json"


def packages():
    return read_json(state_path(PACKAGES), {})


def default_version(name, facts):
    if name.startswith(("nvidia-driver", "cuda-drivers", "nvidia-utils")):
        return facts.get("driver_version", "") + "-0ubuntu1"
    if name.startswith("cuda"):
        return facts.get("cuda_version", "") + ".0-1"
    return "1.0-lab1"


def cuda_files(name, version, install):
    """cuda-toolkit-X-Y lays out /usr/local/cuda-X.Y with an nvcc that answers --version in
    nvcc's own format ("Cuda compilation tools, release X.Y, VX.Y.Z")."""
    m = re.match(r"cuda-toolkit-(\d+)-(\d+)$", name)
    if not m:
        return
    release = "%s.%s" % m.groups()
    bindir = "/usr/local/cuda-%s/bin" % release
    nvcc = os.path.join(bindir, "nvcc")
    if not install:
        if os.path.exists(nvcc):
            os.remove(nvcc)
        return
    full = version.split("-")[0] if version and version[0].isdigit() else release + ".131"
    os.makedirs(bindir, exist_ok=True)
    with open(nvcc, "w") as f:
        f.write("#!/bin/sh\n"
                "echo 'nvcc: NVIDIA (R) Cuda compiler driver'\n"
                "echo 'Copyright (c) 2005-2024 NVIDIA Corporation'\n"
                "echo 'Cuda compilation tools, release %s, V%s'\n" % (release, full))
    os.chmod(nvcc, 0o755)


# What installing a package does on the node besides being recorded, where a later task
# relies on it: the system user its maintainer script creates (adduser --system --group) and
# the folders it ships (munge's /etc/munge, owned by munge, is where the munge key goes).
PACKAGE_PAYLOAD = {
    "munge": {"user": "munge",
              "dirs": [("/etc/munge", 0o700), ("/var/lib/munge", 0o711), ("/var/log/munge", 0o700)]},
    "mdadm": {"dirs": [("/etc/mdadm", 0o755)]},
}


def in_node():
    """True inside a lab node's sandbox, whose /etc and /var are the node's own; the tools'
    unit tests run them on the host (RACKSMITH_LAB_NODE empty), where nothing is written."""
    return bool(os.environ.get("RACKSMITH_LAB_NODE"))


def add_system_user(name):
    """Appends NAME to the node's /etc/passwd and /etc/group (and shadow files) with the
    lowest free id from 100, as adduser --system --group does; returns (uid, gid)."""
    def entries(path):
        try:
            with open(path) as f:
                return [line.rstrip("\n").split(":") for line in f if line.strip()]
        except OSError:
            return []
    users, groups = entries("/etc/passwd"), entries("/etc/group")
    for u in users:
        if u[0] == name:
            return int(u[2]), int(u[3])
    taken = {int(u[2]) for u in users if len(u) > 2 and u[2].isdigit()}
    taken |= {int(g[2]) for g in groups if len(g) > 2 and g[2].isdigit()}
    uid = next(i for i in range(100, 1000) if i not in taken)
    lines = [("/etc/passwd", "%s:x:%d:%d::/nonexistent:/usr/sbin/nologin" % (name, uid, uid)),
             ("/etc/group", "%s:x:%d:" % (name, uid))]
    if os.path.exists("/etc/shadow"):
        lines.append(("/etc/shadow", "%s:*:19000:0:99999:7:::" % name))
    if os.path.exists("/etc/gshadow"):
        lines.append(("/etc/gshadow", "%s:!::" % name))
    for path, line in lines:
        if not any(g and g[0] == name for g in entries(path)):
            with open(path, "a") as f:
                f.write(line + "\n")
    return uid, uid


def package_payload(name):
    payload = PACKAGE_PAYLOAD.get(name)
    if not payload or not in_node():
        return
    owner = add_system_user(payload["user"]) if "user" in payload else None
    for path, mode in payload.get("dirs", []):
        if not os.path.isdir(path):
            os.makedirs(path)
            os.chmod(path, mode)
            if owner:
                os.chown(path, *owner)


def apt_get(argv):
    args = [a for a in argv if not a.startswith("-")]
    if not args:
        sys.stderr.write("E: Invalid operation\n")
        return 100
    op, names = args[0], args[1:]
    if op == "update":
        print("Reading package lists... Done")
        return 0
    if op not in ("install", "remove", "purge"):
        sys.stderr.write("E: Invalid operation %s\n" % op)
        return 100
    facts = load_facts()
    pk = packages()
    print("Reading package lists... Done\nBuilding dependency tree... Done")
    changed = []
    for spec in names:
        name, _, version = spec.partition("=")
        # "=550.127.05*" (a version glob, as apt takes it) installs that upstream version.
        version = version.rstrip("*")
        if op == "install":
            version = version or default_version(name, facts)
            if pk.get(name) == version:
                print("%s is already the newest version (%s)." % (name, version))
                continue
            pk[name] = version
            cuda_files(name, version, True)
            package_payload(name)
            changed.append(name)
            print("Setting up %s (%s) ..." % (name, version))
        elif name in pk:
            del pk[name]
            cuda_files(name, "", False)
            changed.append(name)
            print("Removing %s (%s) ..." % (name, version or "installed"))
        else:
            print("Package '%s' is not installed, so not removed" % name)
    if changed:
        write_json(state_path(PACKAGES), pk)
    verb = "newly installed" if op == "install" else "to remove"
    print("%d upgraded, %d %s, 0 to remove and 0 not upgraded." % (0, len(changed), verb)
          if op == "install" else "0 upgraded, 0 newly installed, %d to remove and 0 not upgraded." % len(changed))
    return 0


def dpkg_query(argv):
    fmt = None
    names = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-f") or a.startswith("--showformat"):
            if "=" in a:
                fmt = a.split("=", 1)[1]
            elif a == "-f" or a == "--showformat":
                i += 1
                fmt = argv[i]
            else:
                fmt = a[2:]
        elif not a.startswith("-"):
            names.append(a)
        i += 1
    pk = packages()
    status = 0
    for name in names or sorted(pk):
        if name not in pk:
            sys.stderr.write("dpkg-query: no packages found matching %s\n" % name)
            status = 1
            continue
        if fmt is None:
            print("%s\t%s" % (name, pk[name]))
        else:
            out = (fmt.replace("${Package}", name).replace("${Version}", pk[name])
                   .replace("${Status}", "install ok installed")
                   .replace("${db:Status-Abbrev}", "ii ").replace("\\n", "\n").replace("\\t", "\t"))
            sys.stdout.write(out)
    return status


def dpkg(argv):
    if argv and argv[0] in ("-l", "--list"):
        pk = packages()
        names = argv[1:] or sorted(pk)
        print("Desired=Unknown/Install/Remove/Purge/Hold\n"
              "| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n"
              "|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n"
              "||/ Name           Version      Architecture Description\n"
              "+++-==============-============-============-=================================")
        status = 0
        for n in names:
            if n in pk:
                print("ii  %-14s %-12s amd64        %s (racksmith lab)" % (n, pk[n], n))
            else:
                sys.stderr.write("dpkg-query: no packages found matching %s\n" % n)
                status = 1
        return status
    if argv and argv[0] in ("-s", "--status"):
        return dpkg_query(["-W", "-f=Package: ${Package}\\nStatus: ${Status}\\nVersion: ${Version}\\n"] + argv[1:])
    sys.stderr.write("dpkg (racksmith lab): only -l and -s are simulated\n")
    return 2


def unit_name(name):
    return name if "." in name else name + ".service"


# Units that come with packages of another name, as the real packages ship them.
PACKAGE_UNITS = {
    "nvidia-persistenced": ("nvidia-driver-", "nvidia-compute-utils-"),
    "nvidia-fabricmanager": ("nvidia-fabricmanager-",),
    "slurmd": ("slurmd", "slurm-wlm"),
    "nvidia-dcgm": ("datacenter-gpu-manager",),
    "docker": ("docker.io", "docker-ce"),
    "node_exporter": ("golang-github-prometheus-node-exporter",),
}


CONTROL_DIR = "/run/racksmith-lab"


def unit_known(unit):
    base = unit.rsplit(".", 1)[0]
    if base in packages():
        return True
    prefixes = PACKAGE_UNITS.get(base, ())
    if any(p.startswith(prefix) for p in packages() for prefix in prefixes):
        return True
    for d in ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"):
        if os.path.exists(os.path.join(d, unit)):
            return True
    return False


def systemctl(argv):
    args = [a for a in argv if not a.startswith("-")]
    quiet = "-q" in argv or "--quiet" in argv
    if not args:
        sys.stderr.write("systemctl (racksmith lab): a command is needed\n")
        return 1
    op, units = args[0], [unit_name(u) for u in args[1:]]
    sv = read_json(state_path(SERVICES), {})
    recorded = {k: dict(v) for k, v in sv.items()}
    if op == "daemon-reload":
        return 0
    if op in ("reboot", "poweroff"):
        # Asks the lab supervisor (through the node's control folder) to restart or power
        # off this node the way its BMC would; the session drops when it does.
        try:
            with open(os.path.join(CONTROL_DIR, op), "w") as f:
                f.write("requested\n")
        except OSError as e:
            sys.stderr.write("Failed to %s: %s\n" % (op, e))
            return 1
        return 0
    status = 0
    for unit in units:
        s = sv.setdefault(unit, {"active": False, "enabled": False, "restarts": 0})
        if op in ("start", "restart", "reload", "enable", "disable", "stop") and not unit_known(unit):
            verb = {"enable": "enable", "disable": "disable"}.get(op, op)
            sys.stderr.write("Failed to %s %s: Unit %s not found.\n" % (verb, unit, unit))
            del sv[unit]
            status = 5 if op not in ("enable", "disable") else 1
            continue
        if op == "start":
            s["active"] = True
        elif op == "stop":
            s["active"] = False
        elif op in ("restart", "reload", "try-restart"):
            s["active"] = True
            s["restarts"] += 1
        elif op == "enable":
            s["enabled"] = True
            if "--now" in argv:
                s["active"] = True
        elif op == "disable":
            s["enabled"] = False
            if "--now" in argv:
                s["active"] = False
        elif op == "is-active":
            if not quiet:
                print("active" if s["active"] else "inactive")
            status = status or (0 if s["active"] else 3)
        elif op == "is-enabled":
            if not quiet:
                print("enabled" if s["enabled"] else "disabled")
            status = status or (0 if s["enabled"] else 1)
        elif op == "status":
            print("* %s - %s\n     Loaded: loaded (/lib/systemd/system/%s; %s)\n     Active: %s"
                  % (unit, unit, unit, "enabled" if s["enabled"] else "disabled",
                     "active (running)" if s["active"] else "inactive (dead)"))
            status = status or (0 if s["active"] else 3)
        else:
            sys.stderr.write("systemctl (racksmith lab): unsupported command %s\n" % op)
            return 1
    sv = {k: v for k, v in sv.items() if v["active"] or v["enabled"] or v["restarts"]}
    if sv != recorded:  # a query (is-active, is-enabled, status) leaves the node as it was
        write_json(state_path(SERVICES), sv)
    return status


def fstab():
    entries = []
    try:
        with open("/etc/fstab") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and not parts[0].startswith("#"):
                    entries.append({"source": parts[0], "target": parts[1], "type": parts[2],
                                    "options": parts[3] if len(parts) > 3 else "defaults"})
    except OSError:
        pass
    return entries


def mount(argv):
    mounts = read_json(state_path(MOUNTS), [])
    if not argv:
        print("/dev/nvme0n1p2 on / type ext4 (rw,relatime)")
        for m in mounts:
            print("%s on %s type %s (%s)" % (m["source"], m["target"], m["type"], m["options"]))
        return 0
    fstype, options, positional = None, "defaults", []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-t":
            i += 1
            fstype = argv[i]
        elif a == "-o":
            i += 1
            options = argv[i]
        elif a == "-a":
            positional = ["-a"]
        elif not a.startswith("-"):
            positional.append(a)
        i += 1
    if "remount" in options.split(","):
        return remount(mounts, positional, options)
    wanted = []
    if positional == ["-a"]:
        wanted = [e for e in fstab() if e["type"] not in ("swap",) and e["target"] != "/"]
    else:
        if len(positional) == 1:
            e = [x for x in fstab() if positional[0] in (x["target"], x["source"])]
            if not e:
                sys.stderr.write("mount: %s: can't find in /etc/fstab.\n" % positional[0])
                return 1
            wanted = e
        elif len(positional) == 2:
            wanted = [{"source": positional[0], "target": positional[1],
                       "type": fstype or "nfs", "options": options}]
        else:
            sys.stderr.write("mount: bad usage\n")
            return 1
    disks = read_json(state_path(DISKS), {})
    for e in wanted:
        if not os.path.isdir(e["target"]):
            sys.stderr.write("mount: %s: mount point does not exist.\n" % e["target"])
            return 32
        # A device mkfs never formatted holds no file system (mount(8)'s message for it).
        if e["source"].startswith("/dev/") and not disks.get(e["source"], {}).get("fstype"):
            sys.stderr.write("mount: %s: wrong fs type, bad option, bad superblock on %s, missing "
                             "codepage or helper program, or other error.\n" % (e["target"], e["source"]))
            return 32
        if any(m["target"] == e["target"] for m in mounts):
            if positional != ["-a"]:
                sys.stderr.write("mount: %s: %s already mounted on %s.\n" % (e["target"], e["source"], e["target"]))
                return 32
            continue
        mounts.append(e)
    write_json(state_path(MOUNTS), mounts)
    return 0


def remount(mounts, positional, options):
    """mount -o remount[,OPTS] DIR: the mounted file system keeps its source and type and
    takes the options of its fstab line (then OPTS), as mount(8) merges them."""
    target = positional[-1].rstrip("/") if len(positional) == 1 else None
    recorded = [m for m in mounts if target and m["target"].rstrip("/") == target]
    if not recorded:
        sys.stderr.write("mount: %s: mount point not mounted or bad option.\n" % (target or ""))
        return 32
    line = [e for e in fstab() if e["target"].rstrip("/") == target]
    extra = [o for o in options.split(",") if o != "remount"]
    base = line[0]["options"].split(",") if line else recorded[0]["options"].split(",")
    recorded[0]["options"] = ",".join(base + [o for o in extra if o not in base])
    write_json(state_path(MOUNTS), mounts)
    return 0


def umount(argv):
    mounts = read_json(state_path(MOUNTS), [])
    targets = [a for a in argv if not a.startswith("-")]
    status = 0
    for t in targets:
        left = [m for m in mounts if t not in (m["target"], m["source"])]
        if len(left) == len(mounts):
            sys.stderr.write("umount: %s: not mounted.\n" % t)
            status = 32
        mounts = left
    write_json(state_path(MOUNTS), mounts)
    return status


def mountpoint(argv):
    quiet = "-q" in argv
    targets = [a for a in argv if not a.startswith("-")]
    if not targets:
        return 1
    t = targets[0].rstrip("/") or "/"
    mounted = t == "/" or any(m["target"].rstrip("/") == t for m in read_json(state_path(MOUNTS), []))
    if not quiet:
        print("%s is %sa mountpoint" % (t, "" if mounted else "not "))
    return 0 if mounted else 32


def main(tool, argv):
    return {"apt-get": apt_get, "apt": apt_get, "dpkg-query": dpkg_query, "dpkg": dpkg,
            "systemctl": systemctl, "mount": mount, "umount": umount,
            "mountpoint": mountpoint}[tool](argv)


# ---- Block devices: blkid, mkfs.*, mdadm (recorded in disks.json; the node's /dev is the
# sandbox's own minimal one, so nothing here could ever touch a real disk) ----------------


def blkid(argv):
    """blkid DEV: `DEV: LABEL="l" UUID="u" TYPE="t"` for a device mkfs formatted, else exit 2."""
    disks = read_json(state_path(DISKS), {})
    devs = [a for a in argv if not a.startswith("-")]
    status = 2
    for dev in devs:
        d = disks.get(dev, {})
        if d.get("fstype"):
            print('%s: LABEL="%s" UUID="%s" TYPE="%s"' % (dev, d.get("label", ""), d["uuid"], d["fstype"]))
            status = 0
    return status


def mkfs(tool, argv):
    fstype = tool.split(".", 1)[1]
    label, dev, i = "", None, 0
    while i < len(argv):
        if argv[i] == "-L" and i + 1 < len(argv):
            label = argv[i + 1]
            i += 2
            continue
        if not argv[i].startswith("-"):
            dev = argv[i]
        i += 1
    if dev is None:
        sys.stderr.write("%s: no device specified\n" % tool)
        return 1
    disks = read_json(state_path(DISKS), {})
    import uuid
    # An array stays an array (its members are kept) with a file system on it.
    disks.setdefault(dev, {}).update({"fstype": fstype, "label": label, "uuid": str(uuid.uuid4())})
    write_json(state_path(DISKS), disks)
    return 0


def mdadm(argv):
    disks = read_json(state_path(DISKS), {})
    if "--create" in argv:
        dev = argv[argv.index("--create") + 1]
        disks[dev] = {"raid": [a for a in argv[argv.index("--create") + 2:] if a.startswith("/dev/")]}
        write_json(state_path(DISKS), disks)
        print("mdadm: array %s started." % dev)
        return 0
    if "--detail" in argv:
        devs = [a for a in argv if a.startswith("/dev/")]
        for dev in devs:
            if dev not in disks:
                sys.stderr.write("mdadm: cannot open %s: No such file or directory\n" % dev)
                return 1
            print("ARRAY %s metadata=1.2 name=%s UUID=00000000:00000000:00000000:00000000"
                  % (dev, os.path.basename(dev)))
        return 0
    sys.stderr.write("mdadm (racksmith lab): only --create and --detail\n")
    return 1
