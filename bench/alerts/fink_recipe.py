"""The Fink raw-lake recipe (fink_ztf_recovery, without its MPI wrapper): each nightly tarball
streamed with Python's tarfile, every Avro member decoded with fastavro, chunks of 3000 alerts
turned into Arrow (types inferred per chunk, as pandas does for Fink) and written as zstd Parquet
under year=/month=/day= from the tarball's name; one process per core.

usage: fink_recipe.py OUT PROCESSES TARBALL...
"""
import io, os, re, sys, tarfile
from multiprocessing import Pool
import fastavro
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK = 3000

def one(args):
    out, path = args
    y, m, d = re.search(r"ztf_public_(\d{4})(\d{2})(\d{2})", path).groups()
    folder = os.path.join(out, f"year={y}", f"month={m}", f"day={d}")
    os.makedirs(folder, exist_ok=True)
    records, part, n = [], 0, 0
    def flush():
        nonlocal records, part
        if records:
            pq.write_table(pa.Table.from_pylist(records), os.path.join(folder, f"part-{os.getpid()}-{part:05d}.parquet"), compression="zstd")
            part += 1
            records = []
    with tarfile.open(path, mode="r|gz") as t:
        for member in t:
            if not member.isfile() or not member.name.endswith(".avro"):
                continue
            for alert in fastavro.reader(io.BytesIO(t.extractfile(member).read())):
                records.append(alert)
                n += 1
            if len(records) >= CHUNK:
                flush()
    flush()
    return n

if __name__ == "__main__":
    out, processes, tarballs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with Pool(processes) as pool:
        print(sum(pool.map(one, [(out, p) for p in tarballs], chunksize=1)))
