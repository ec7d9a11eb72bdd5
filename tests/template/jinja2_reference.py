#!/usr/bin/env python3
"""Reference renderer for the template differential test.

Reads a JSON list of cases {"name", "template", "context", "files"} from argv[1], renders each
with Debian's python3-jinja2 configured as Ansible configures it (trim_blocks=True,
lstrip_blocks=False, keep_trailing_newline=True) with StrictUndefined, and writes
{"name": {"ok": bool, "out": str}} to argv[2]. Filters that are not Jinja2 built-ins are
defined here the way racksmith defines them (docs/templates.md).
"""
import json
import os
import re
import sys
import tempfile

try:
    import jinja2
    import yaml
except ImportError as e:  # pragma: no cover
    sys.stderr.write("python3-jinja2/python3-yaml missing (%s): run scripts/setup.sh\n" % e)
    sys.exit(3)


def to_yaml(value):
    def check(v):
        if isinstance(v, str):
            if any(ord(c) < 0x20 or ord(c) == 0x7F or 0x80 <= ord(c) < 0xA0 for c in v):
                raise ValueError("to_yaml: control characters")
        elif isinstance(v, dict):
            for k, x in v.items():
                if len(k) >= 128:
                    raise ValueError("to_yaml: long key")
                check(k)
                check(x)
        elif isinstance(v, list):
            for x in v:
                check(x)
    check(value)
    return yaml.safe_dump(value, default_flow_style=False, allow_unicode=True, sort_keys=True,
                          width=2**31 - 1)


def regex_replace(value="", pattern="", replacement="", ignorecase=False, multiline=False,
                  count=0):
    flags = (re.I if ignorecase else 0) | (re.M if multiline else 0)
    return re.compile(pattern, flags).sub(replacement, str(value), count=count)


def hostlist(names):
    """Slurm-style compression for names with one numeric suffix (order kept)."""
    runs = []
    for n in names:
        m = re.match(r"^(.*?)(\d+)$", n)
        if not m:
            runs.append([n, None, None, 0])
            continue
        prefix, digits = m.group(1), m.group(2)
        num, width = int(digits), len(digits)
        if runs and runs[-1][1] is not None and runs[-1][0] == prefix and \
                runs[-1][2] + 1 == num and runs[-1][3] == width:
            runs[-1][2] = num
        else:
            runs.append([prefix, num, num, width])
    out, i = [], 0
    fmt = lambda r: "%0*d" % (r[3], r[1]) + ("-%0*d" % (r[3], r[2]) if r[2] > r[1] else "")
    while i < len(runs):
        r = runs[i]
        if r[1] is None:
            out.append(r[0]); i += 1; continue
        group = [r]
        while i + len(group) < len(runs) and runs[i + len(group)][1] is not None and \
                runs[i + len(group)][0] == r[0]:
            group.append(runs[i + len(group)])
        if len(group) == 1 and r[2] == r[1]:
            out.append(r[0] + fmt(r))
        else:
            out.append(r[0] + "[" + ",".join(fmt(g) for g in group) + "]")
        i += len(group)
    return ",".join(out)


def main():
    cases = json.load(open(sys.argv[1], encoding="utf-8"))
    results = {}
    for case in cases:
        with tempfile.TemporaryDirectory() as d:
            for name, text in case.get("files", {}).items():
                with open(os.path.join(d, name), "w", encoding="utf-8", newline="") as f:
                    f.write(text)
            env = jinja2.Environment(loader=jinja2.FileSystemLoader(d), trim_blocks=True,
                                     lstrip_blocks=case.get("lstrip_blocks", False),
                                     keep_trailing_newline=True,
                                     undefined=jinja2.StrictUndefined)
            env.filters.update(to_yaml=to_yaml, regex_replace=regex_replace, hostlist=hostlist)
            try:
                out = env.from_string(case["template"]).render(case["context"])
                results[case["name"]] = {"ok": True, "out": out}
            except Exception as e:  # every failure counts as "errors"
                results[case["name"]] = {"ok": False, "out": "%s: %s" % (type(e).__name__, e)}
    json.dump(results, open(sys.argv[2], "w", encoding="utf-8"))


if __name__ == "__main__":
    main()
