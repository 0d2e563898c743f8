"""Helpers the benchmark scripts share."""
import subprocess, sys, time


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns (seconds, peak RSS MiB, stdout). Exit 3 (done,
    some inputs rejected) counts as success."""
    t = time.time()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    wall = time.time() - t
    if p.returncode not in (0, 3):
        sys.exit(f"{cmd[:3]} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    rss = 0
    for line in p.stderr.splitlines():
        if "Maximum resident set size" in line:
            rss = int(line.split(":")[1]) / 1024
    return wall, rss, p.stdout
