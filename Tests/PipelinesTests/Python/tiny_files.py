"""Writes the same rows twice: as FILES tiny CSVs of ROWS rows each (in folders of 1,000, names
sorted in row order) and as 10 CSVs. Usage: tiny_files.py OUT FILES ROWS"""
import os, sys
import numpy as np

out, files, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(11)
n = files * rows
ra = rng.uniform(0, 360, n)
dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
mag = rng.normal(20, 2, n)
lines = [f"{i},{ra[i]:.7f},{dec[i]:.7f},{mag[i]:.4f}\n" for i in range(n)]
header = "id,ra,dec,mag\n"
for f in range(files):
    d = os.path.join(out, "tiny", f"{f // 1000:04d}")
    if f % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"t_{f:07d}.csv"), "w") as o:
        o.write(header + "".join(lines[f * rows:(f + 1) * rows]))
os.makedirs(os.path.join(out, "big"), exist_ok=True)
per = n // 10
for f in range(10):
    with open(os.path.join(out, "big", f"b_{f:02d}.csv"), "w") as o:
        o.write(header + "".join(lines[f * per:(f + 1) * per]))
print(n)
