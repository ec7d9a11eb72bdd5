#!/usr/bin/python3
"""Prints the element paths of an nvidia-smi XML document (one per line, sorted, unique),
leaving out what depends on the GPU's moment rather than its model and driver: the children
of <mig_devices> and <remapped_rows> (MIG mode: a capture with MIG on has instances and no
row-remapper details) and of <processes> (what runs on it at the time)."""
import sys
import xml.etree.ElementTree as ET

paths = set()


def walk(e, prefix):
    for c in e:
        p = prefix + "/" + c.tag
        if prefix.endswith(("/mig_devices", "/remapped_rows", "/processes")):
            continue
        paths.add(p)
        walk(c, p)


walk(ET.parse(sys.argv[1]).getroot(), "")
print("\n".join(sorted(paths)))
