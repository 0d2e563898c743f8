"""Checks `astropile split` outputs.

usage: split_check.py SMALL BIG SEED FRACTIONS
SMALL and BIG are data sets split with SEED (BIG holds SMALL's objects and more). Checks: every
object of SMALL is in the same split in BIG; BIG's split sizes are within 4 sigma of the
binomial expectation; the documented hash, reimplemented here, gives the same assignment; the
`split` dataset of every file agrees with the index files. Prints "ok COUNTS".
"""
import glob
import os
import sys

import h5py
import pyarrow.parquet as pq

small, big, seed, fractions = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
fr = [(k, float(v)) for k, v in (p.split("=") for p in fractions.split(","))]


def assignment(root):
    out = {}
    for name, _ in fr:
        t = pq.read_table(os.path.join(root, "splits", name + ".parquet")).to_pydict()
        for i in t["object_id"]:
            assert i not in out, f"{i} in two splits"
            out[i] = name
    return out


def documented(oid):
    h = 0xCBF29CE484222325
    for b in f"{seed}:{oid}".encode():
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 31
    u = (h >> 11) / 2.0**53
    c = 0.0
    for name, f in fr:
        c += f
        if u < c:
            return name
    return fr[-1][0]


a, b = assignment(small), assignment(big)
moved = [i for i in a if b.get(i) != a[i]]
assert not moved, f"{len(moved)} objects changed split: {moved[:5]}"
n = len(b)
counts = {name: 0 for name, _ in fr}
for v in b.values():
    counts[v] += 1
for name, f in fr:
    sigma = (n * f * (1 - f)) ** 0.5
    assert abs(counts[name] - n * f) <= 4 * sigma + 1, (name, counts[name], n * f)
bad = [i for i in b if documented(i) != b[i]]
assert not bad, f"the documented hash disagrees for {len(bad)} objects"
for path in glob.glob(os.path.join(big, "healpix=*", "*.hdf5")):
    with h5py.File(path, "r") as f:
        assert f.attrs["split_seed"] == str(seed).encode()
        for oid, s in zip(f["object_id"][()], f["split"][()]):
            assert b[int(oid)] == s.decode(), (path, oid)
print("ok", " ".join(f"{k}={v}" for k, v in counts.items()))
