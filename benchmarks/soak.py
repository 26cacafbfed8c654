"""Memory under a long run of ordinary requests whose state stays bounded: RSS growth per 10,000 requests.

Run: `make bench-soak` (or `.venv/bin/python benchmarks/soak.py [--rounds N] [--seconds S]`). The mock (memory
store) gets `soak.lua`'s mix: bookings of a bounded pool re-versioned with a new participant e-mail each time,
deleted and re-created, lists with a 4 KB filter (journal entries are cut), reads, 404s and 400s. After a
warm-up round, the resident memory should stop growing: the growth per 10,000 requests is printed per round.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from loadgen import COURT, free_port, mock_command, need_wrk, serving

SCRIPT = Path(__file__).resolve().parent / "soak.lua"


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=5, help="length of a round")
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    folder = Path(tempfile.mkdtemp(prefix="bookingkit-soak-"))
    with serving(mock_command(port), f"{base}/api/v1/courts/{COURT}", folder / "mock.log") as process:
        previous, growth = rss_mb(process.pid), []
        print(f"start: {previous:.1f} MB")
        for round_number in range(1, args.rounds + 1):
            output = subprocess.run(
                [need_wrk(), "-t2", "-c16", f"-d{args.seconds}s", "-s", str(SCRIPT), base, "--", str(round_number)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            result = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
            now = rss_mb(process.pid)
            per_10k = (now - previous) / result["requests"] * 10_000
            if round_number > 1:
                growth.append(per_10k)
            print(
                f"round {round_number}: {result['requests']:>7,} requests, RSS {now:.1f} MB "
                f"({per_10k:+.2f} MB per 10,000 requests), statuses {result['statuses']}"
            )
            if set(result["statuses"]) - {"200", "400", "404", "409"}:
                print("unexpected statuses", file=sys.stderr)
                return 1
            previous = now
    average = sum(growth) / len(growth) if growth else 0.0
    print(f"after the warm-up round: {average:+.3f} MB per 10,000 requests on average")
    return 0


if __name__ == "__main__":
    sys.exit(main())
