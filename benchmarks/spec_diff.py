"""`bookingkit spec diff` on large specs: the project's openapi.yaml copied until a spec reaches 1.3 MB and 6 MB.

Run: `make bench-diff` (or `.venv/bin/python benchmarks/spec_diff.py [--sizes 1.3 6] [--repeat N]`).

Each copy gets its own path prefix (`/v3/courts/...`), component names (`Court3`) and operationIds, so the big
spec is one sound document, not ten references to the same nodes. NEW is OLD with a few changes in every copy (a
description, a response `maxLength`, a default), so the report has something to say. Timed, best of --repeat:
- in-process: load both files, diff, render the text report (what the command does after Python has started);
- end to end: `bookingkit spec diff OLD NEW` as a subprocess, interpreter start-up included (target: 1.5 s for
  the 1.3 MB pair).
"""

import argparse
import copy
import gc
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_SECONDS = 1.5


def renamed(node: Any, suffix: str) -> Any:
    """Every local component `$ref` pointed at the copy's own component."""
    if isinstance(node, dict):
        out = {key: renamed(value, suffix) for key, value in node.items()}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/") and not ref.startswith("#/components/security"):
            out["$ref"] = ref + suffix
        return out
    if isinstance(node, list):
        return [renamed(value, suffix) for value in node]
    return node


def copied(spec: dict[str, Any], copies: int) -> dict[str, Any]:
    out = {key: value for key, value in spec.items() if key not in ("paths", "components")}
    out["paths"], components = {}, spec.get("components") or {}
    out["components"] = {"securitySchemes": components.get("securitySchemes") or {}}
    for index in range(1, copies + 1):
        suffix = str(index)
        for path, item in spec["paths"].items():
            item = renamed(item, suffix)
            for operation in item.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    operation["operationId"] += suffix
            out["paths"][f"/v{index}{path}"] = item
        for kind, entries in components.items():
            if kind != "securitySchemes":
                for name, entry in entries.items():
                    out["components"].setdefault(kind, {})[name + suffix] = renamed(entry, suffix)
    return out


def changed(spec: dict[str, Any]) -> dict[str, Any]:
    """A few edits per copy, of kinds the report reads: a text, a response bound, a parameter default."""
    spec = copy.deepcopy(spec)
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "summary" in operation:
                operation["summary"] += " (v2)"
                break
        for param in item.get("parameters") or []:
            if isinstance(param, dict) and isinstance(param.get("schema"), dict):
                param["schema"]["default"] = param["schema"].get("default", "x")
    for schema in spec["components"].get("schemas", {}).values():
        for prop in (schema.get("properties") or {}).values():
            if isinstance(prop, dict) and "maxLength" in prop:
                prop["maxLength"] += 1
                break
    return spec


def best(repeat: int, run: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def timed(old: Path, new: Path, repeat: int) -> tuple[float, float]:
    """Best in-process and end-to-end seconds for `spec diff OLD NEW`."""
    from bookingkit.openapi import load
    from bookingkit.spec_diff import diff
    from bookingkit.spec_reports import diff_report

    in_process = best(repeat, lambda: diff_report(diff(load(str(old)), load(str(new))), "text", "a", "b"))
    command = [str(BIN / "bookingkit"), "spec", "diff", str(old), str(new), "--fail-on", "none"]
    return in_process, best(repeat, lambda: subprocess.run(command, check=True, capture_output=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1.3, 6.0], help="spec sizes in MB")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bookingkit.openapi import load
    from bookingkit.spec_diff import diff

    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    one = len(yaml.safe_dump(copied(spec, 1), sort_keys=False, allow_unicode=True).encode())
    print(f"openapi.yaml as one copy: {one / 1e6:.2f} MB; target: {TARGET_SECONDS} s end to end for 1.3 MB")
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-diff-") as folder:
        for size in args.sizes:
            copies = max(1, math.ceil(size * 1e6 / one))
            old_spec = copied(spec, copies)
            old, new = Path(folder) / f"old-{size}.yaml", Path(folder) / f"new-{size}.yaml"
            old.write_text(yaml.safe_dump(old_spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
            new.write_text(yaml.safe_dump(changed(old_spec), sort_keys=False, allow_unicode=True), encoding="utf-8")
            changes = diff(load(str(old)), load(str(new)))
            del old_spec["components"]  # what the timings should not walk: the benchmark's own copies
            gc.collect()
            in_process, end_to_end = timed(old, new, args.repeat)
            megabytes = (old.stat().st_size + new.stat().st_size) / 2e6
            print(
                f"{megabytes:5.2f} MB spec ({copies} copies, {len(old_spec['paths'])} paths), {len(changes)} changes: "
                f"in-process {in_process:.2f} s, end to end {end_to_end:.2f} s"
            )
            failed |= size <= 1.3 and end_to_end > TARGET_SECONDS
    if failed:
        sys.exit(f"slower than {TARGET_SECONDS} s end to end at 1.3 MB")


if __name__ == "__main__":
    main()
