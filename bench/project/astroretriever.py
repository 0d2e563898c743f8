"""bench/project/astroretriever.py: time AstroRetriever's own per-source loop (Project.run()) on N
sources, each served the same raw ZTF light curve, so bench/project can compare AstroPile to it.

Run (venv and checkout made by bench/project/astroretriever-setup.sh):

    /work/astroretriever/venv/bin/python bench/project/astroretriever.py \
        --src /work/astroretriever/src-checkout \
        --lightcurve fixtures/ztf-lightcurves/ZTF_lightcurve.csv \
        --sources 20 --histograms off

What runs (all AstroRetriever's code, imported from --src; nothing of it is copied here):
  Project(obs_names="ZTF", catalog_kwargs={"default": "test", "filename": <N-row catalog>}) and
  Project.run(), i.e. per source: VirtualZTF.fetch_source() -> VirtualZTF.download_from_observatory()
  (declination/magnitude cuts, ztfquery LCQuery.from_position) -> RawPhotometry (+ HDF5 save) ->
  VirtualZTF.reduce_photometry() (oid/radius/mag cuts, season split, Lightcurve objects, HDF5
  save), then per batch of `source_batch_size` (10) sources Analysis.analyze_sources():
  QualityChecker.check, Finder.process/detect, Properties, histograms, the injection loop
  (Analysis._inject_to_lightcurves is a stub in AstroRetriever at this commit: it returns no
  light curves, so "injections" cost nothing and find nothing; simulator.Simulator is never called
  by Analysis), and the saving of processed/simulated light curves (HDF5) and histograms (netCDF).

The catalog is AstroRetriever's "test" catalog format (object_id, ra, dec, mag, magerr, filter)
with N rows, all at the light curve's median RA/Dec and median magnitude (so its reducer keeps
every oid), written to a temporary RETRIEVER_DATA folder with everything the run saves; the folder
is removed at the end unless --keep.

Shimmed (the minimum to run without PostgreSQL and without the network), all before src.* loads:
  1. sqlalchemy_utils.database_exists -> always True. src/database.py calls it at import time
     on postgresql://localhost:5432/astroretriever (and would create that database otherwise).
     The engine itself is still made by sqlalchemy.create_engine with the psycopg2 dialect
     (psycopg2-binary is installed) and never connects.
  2. sqlalchemy.MetaData.create_all -> no-op while src.* is imported (restored after): src/source.py,
     dataset.py, detection.py and properties.py run Base.metadata.create_all(engine) at import.
  3. src.database.NO_DB_SESSION = True: AstroRetriever's own switch; every SmartSession() then
     yields its NoOpSession (add/commit/rollback do nothing, queries return no rows). So every
     source is "new" (no DB lookup hits), as on a first run against an empty database; DB insert
     and commit costs are not in the figure.
  4. ztfquery.lightcurve.LCQuery.download_data -> pandas.read_csv(--lightcurve). This replaces only
     the HTTP request to IRSA; the real method is `read_csv(StringIO(requests.get(...)))`, so the
     parse of the raw CSV is still timed per source. Dummy ZTF_USERNAME/ZTF_PASSWORD are set so
     VirtualZTF.get_credentials() passes (they go nowhere).
  5. --histograms off only: the project's analysis class is set, through AstroRetriever's own
     ParsProject.analysis_module/analysis_class hook, to a subclass of src.analysis.Analysis
     whose get_all_histograms() returns [] (AstroRetriever has no switch for this), and
     save_histograms=False. Then no histogram is initialised, loaded, filled or saved.
     --histograms on is the stock Analysis (filled, and written as netCDF after every batch).
     (The stock Analysis with only save_histograms=False does not run at this commit:
     analyze_sources still calls _commit_histograms(), which renames the .temp files that were
     never written -> FileNotFoundError. So "filled but not saved" cannot be measured as is.)

Timed: Project.run() only (its _save_config, the per-source loop and the batch analyses), after
imports, catalog creation and Project construction, and after a warm-up run of --warmup sources
in a separate project (first-use costs such as lazy imports inside pandas/astropy/PyTables).
Printed: one JSON object with sources, seconds (wall), s_per_source, histograms, notes, plus
cpu_seconds/cpu_s_per_source (this process's user+sys CPU over the same span: steadier than wall
time when the 2-core machine is shared), breakdown_seconds (wall time inside a few AstroRetriever
methods, by wrappers that only time them) and downloads (calls to the replaced download_data).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", required=True, help="AstroRetriever checkout (folder holding src/)")
    ap.add_argument("--lightcurve", required=True, help="raw ZTF light-curve CSV (IRSA format)")
    ap.add_argument("--sources", type=int, default=20)
    ap.add_argument("--histograms", choices=["off", "on"], default="off")
    ap.add_argument("--num-injections", type=float, default=1.0,
                    help="Analysis num_injections (Poisson mean; AstroRetriever's default is 1)")
    ap.add_argument("--warmup", type=int, default=1, help="sources in an untimed warm-up run")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    args = ap.parse_args()

    src_root = os.path.abspath(args.src)
    lc_path = os.path.abspath(args.lightcurve)
    data_root = tempfile.mkdtemp(prefix="astroretriever-bench-")
    os.environ["RETRIEVER_DATA"] = data_root  # src/database.py reads it at import
    os.environ.setdefault("ZTF_USERNAME", "bench")  # only for VirtualZTF.get_credentials()
    os.environ.setdefault("ZTF_PASSWORD", "bench")
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.path.insert(0, src_root)

    import warnings
    warnings.filterwarnings("ignore")
    import numpy as np
    import pandas as pd
    import sqlalchemy
    import sqlalchemy_utils

    # shims 1 and 2 (see the docstring)
    sqlalchemy_utils.database_exists = lambda *a, **k: True
    real_create_all = sqlalchemy.MetaData.create_all
    sqlalchemy.MetaData.create_all = lambda self, *a, **k: None
    try:
        import src.database
        src.database.NO_DB_SESSION = True  # shim 3
        import src.project
        import src.analysis
        import src.ztf
        import src.dataset
        import src.observatory
    finally:
        sqlalchemy.MetaData.create_all = real_create_all
    assert src.database.DATA_ROOT == data_root

    # shim 4: the IRSA request becomes a read of the local CSV (ztfquery parses with read_csv too)
    import ztfquery.lightcurve
    counts = {"download": 0}

    def download_data(cookies=None, auth=None, **kwargs):
        counts["download"] += 1
        return pd.read_csv(lc_path)

    ztfquery.lightcurve.LCQuery.download_data = staticmethod(download_data)
    # VirtualZTF.get_credentials() is fine with the dummy env; ztfquery's cookie fetch is skipped
    # because download_data (which does it) is replaced.

    # shim 5: histograms off via the analysis_module/analysis_class hook
    class AnalysisNoHistograms(src.analysis.Analysis):
        def get_all_histograms(self):
            return []

    sys.modules["__main__"].AnalysisNoHistograms = AnalysisNoHistograms

    # instrumentation only (wall time spent in a few of its methods; behaviour unchanged)
    spent = {}

    def timed(cls, name, key):
        orig = getattr(cls, name)

        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return orig(*a, **k)
            finally:
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - t0

        setattr(cls, name, wrapper)

    timed(src.ztf.VirtualZTF, "download_from_observatory", "download_from_observatory (CSV parse)")
    timed(src.ztf.VirtualZTF, "reduce_photometry", "reduce_photometry")
    timed(src.observatory.VirtualObservatory, "fetch_source", "fetch_source (download+reduce+save)")
    timed(src.analysis.Analysis, "analyze_sources", "analyze_sources (quality+finder+hist+save)")

    raw = pd.read_csv(lc_path)
    ra, dec, mag = float(raw.ra.median()), float(raw.dec.median()), float(raw.mag.median())

    def make_project(name, n):
        cat_file = os.path.join(data_root, f"catalog_{name}.csv")
        pd.DataFrame({
            "object_id": [f"{name}_{i:06d}" for i in range(n)],
            "ra": [ra] * n, "dec": [dec] * n, "mag": [mag] * n,
            "magerr": [0.1] * n, "filter": ["R"] * n,
        }).to_csv(cat_file, index=False)
        kwargs = dict(
            obs_names="ZTF",
            catalog_kwargs={"default": "test", "filename": cat_file},
            analysis_kwargs={"num_injections": args.num_injections,
                             "save_histograms": args.histograms == "on"},
            verbose=0,
            max_num_total_exceptions=1,
        )
        if args.histograms == "off":
            kwargs.update(analysis_module="__main__", analysis_class="AnalysisNoHistograms")
        return src.project.Project(name=name, **kwargs)

    np.random.seed(1)  # Analysis._get_num_injections draws from a Poisson
    try:
        if args.warmup > 0:
            warm = make_project("warmup", args.warmup)
            warm.run()
            if warm.failures_list:
                raise RuntimeError(warm.failures_list[0]["error"])
        spent.clear()
        counts["download"] = 0

        proj = make_project("bench", args.sources)
        t0, c0 = time.perf_counter(), time.process_time()
        proj.run()
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0

        if proj.failures_list:
            raise RuntimeError(proj.failures_list[0]["error"])
        srcs = list(proj.sources)
        n_lcs = [len(s.reduced_lightcurves) for s in srcs]
        n_epochs = [sum(lc.number for lc in s.reduced_lightcurves) for s in srcs]
        n_det = sum(len(s.detections or []) for s in srcs)
        has_props = sum(1 for s in srcs if s.properties is not None and s.properties.has_data)
        hist_sources = (len(proj.analysis.good_scores.source_names)
                        if args.histograms != "off" else 0)
        files = sum(len(f) for _, _, f in os.walk(proj.output_folder))

        notes = (
            f"AstroRetriever {describe(src_root)} Project.run() on {len(srcs)} sources x the same raw "
            f"ZTF CSV ({len(raw)} rows): {n_lcs[0] if n_lcs else 0} reduced light curves and "
            f"{n_epochs[0] if n_epochs else 0} epochs per source, {n_det} detections in all, "
            f"{has_props} sources with Properties(has_data), {hist_sources} sources in the histograms, "
            f"{files} files written in the project folder. No database (NO_DB_SESSION NoOpSession; "
            "no inserts/commits timed), no network (LCQuery.download_data reads the CSV). "
            "Injection is a stub in AstroRetriever (_inject_to_lightcurves returns nothing; "
            f"num_injections={args.num_injections:g} loops run but inject/find nothing). "
            f"Histograms {args.histograms}: " + {
                "off": "none initialised/filled/saved (Analysis subclass via analysis_module hook).",
                "on": "stock Analysis: filled and saved as netCDF after each batch of 10 sources.",
            }[args.histograms]
            + f" Warm-up run of {args.warmup} source(s) excluded. Includes HDF5 writes of raw, reduced "
            "and processed data (AstroRetriever's defaults)."
        )
        out = {
            "sources": len(srcs),
            "seconds": round(seconds, 4),
            "s_per_source": round(seconds / max(len(srcs), 1), 5),
            "histograms": args.histograms,
            "cpu_seconds": round(cpu, 4),
            "cpu_s_per_source": round(cpu / max(len(srcs), 1), 5),
            "notes": notes,
            "breakdown_seconds": {k: round(v, 4) for k, v in sorted(spent.items())},
            "downloads": counts["download"],
        }
        print(json.dumps(out))
    finally:
        if args.keep:
            print(f"data kept in {data_root}", file=sys.stderr)
        else:
            shutil.rmtree(data_root, ignore_errors=True)


def describe(src_root):
    """Short commit id of the checkout if it is a git work tree, else the folder name."""
    head = os.path.join(src_root, ".git", "HEAD")
    stamp = os.path.join(src_root, "COMMIT")
    if os.path.isfile(stamp):
        return open(stamp).read().strip()[:12]
    if os.path.isfile(head):
        return open(head).read().strip()[-12:]
    return os.path.basename(src_root)


if __name__ == "__main__":
    main()
