#!/usr/bin/env bash
# bench/project/astroretriever-setup.sh: recreate the AstroRetriever checkout and its venv, from
# scratch, for bench/project/astroretriever.py (which compares AstroPile to AstroRetriever).
#
#   bash bench/project/astroretriever-setup.sh SOURCE [DEST]
#
# SOURCE: a bare git mirror of guynir42/AstroRetriever (e.g. /work/.mirror/guynir42+AstroRetriever/repo)
#         or a git clone URL / path of a normal repository.
# DEST:   where to put src-checkout/ and venv/ (default /work/astroretriever).
# REV:    env var, commit to export (default HEAD; measured at a7a838a, 2023-10-30).
#
# AstroRetriever is not a pip package. Only the packages needed to import src/ and run
# Project.run() with the ZTF observatory and the default Analysis are installed (not the whole
# requirements.txt: no astroquery, pytest, pre-commit, TESS extras...). Versions are pinned to what
# was measured; the direct ones were chosen contemporary with the AstroRetriever commit (numpy 1.x,
# pandas 2.1, xarray 2023.10, SQLAlchemy 2.0.23), the rest is what pip resolved for them.
# psycopg2-binary is there only because src/database.py builds a postgresql:// engine at import
# (the benchmark never connects; see the docstring of astroretriever.py).
set -euo pipefail

SOURCE=${1:?usage: astroretriever-setup.sh MIRROR_OR_URL [DEST]}
DEST=${2:-/work/astroretriever}
REV=${REV:-HEAD}
PY=${PYTHON:-python3}

mkdir -p "$DEST"
rm -rf "$DEST/src-checkout" "$DEST/venv"
mkdir -p "$DEST/src-checkout"

if git --git-dir="$SOURCE" rev-parse --verify -q "$REV^{commit}" >/dev/null 2>&1; then
    GITDIR=$SOURCE                      # a bare mirror (or a .git folder)
else
    TMP=$(mktemp -d)
    trap 'rm -rf "$TMP"' EXIT
    git clone --bare --quiet "$SOURCE" "$TMP/repo.git"
    GITDIR=$TMP/repo.git
fi
COMMIT=$(git --git-dir="$GITDIR" rev-parse "$REV^{commit}")
# tests/DATA/TESS_photometry.h5 (large) may be absent from a mirror; it is not needed here (git may
# still print "invalid object ... TESS_photometry.h5" for it; the export is complete otherwise).
git --git-dir="$GITDIR" archive "$COMMIT" -- . ':!tests/DATA/TESS_photometry.h5' \
    | tar -x -C "$DEST/src-checkout"
echo "$COMMIT" > "$DEST/src-checkout/COMMIT"

"$PY" -m venv "$DEST/venv"
"$DEST/venv/bin/pip" install --quiet --upgrade pip
# direct needs of src/ (imports of project, observatory, ztf, dataset, source, catalog, analysis,
# finder, quality, histogram, simulator, detection, properties, utils, parameters)
"$DEST/venv/bin/pip" install --quiet \
    numpy==1.26.4 pandas==2.1.4 scipy==1.11.4 xarray==2023.10.1 astropy==5.3.4 \
    SQLAlchemy==2.0.23 SQLAlchemy-Utils==0.41.1 psycopg2-binary==2.9.13 \
    PyYAML==6.0.4 GitPython==3.2.1 h5py==3.16.0 tables==3.11.1 netCDF4==1.7.5.1.post1 \
    matplotlib==3.11.2 validators==0.36.0 healpix-alchemy==1.1.1 conesearch-alchemy==1.1.0 \
    ztfquery==1.28.0 requests==2.34.2 python-dateutil==4.0.0 \
    annotated-types==0.8.0 anyio==4.16.0 astropy_healpix==1.1.3 blosc2==4.15.0 \
    certifi==2026.10.19.post1 cffi==2.1.1 cftime==1.6.6.1 charset-normalizer==3.5.3 click==8.5.1 \
    cloudpickle==3.1.3 contourpy==1.3.3 coverage==7.17.5 cryptography==50.0.2 cycler==0.12.1 \
    dask==2026.8.0 fonttools==4.68.0 fsspec==2026.9.0 geopandas==1.1.4 gitdb==4.0.12 \
    greenlet==3.5.6 h11==0.16.0 h2==4.4.1 hpack==4.2.0 httpcore==1.0.9 httpx==0.29.0 \
    hyperframe==6.1.0 idna==3.20 importlib_metadata==10.2.0 iniconfig==2.3.1 kiwisolver==1.5.1 \
    lazy-importer==0.1.0 locket==1.0.0 markdown-it-py==4.3.0 mdurl==0.1.2 mocpy==0.21.0 \
    msgpack==1.2.4 ndindex==1.10.1 numexpr==2.14.2 packaging==26.4 partd==1.4.2 pillow==13.0.0 \
    pluggy==1.7.0 py-cpuinfo==9.0.0 pycparser==3.12 pydantic==2.14.4 pydantic_core==2.50.5 \
    pyerfa==2.0.1.5 Pygments==2.21.0 pyogrio==0.13.0 pyparsing==3.3.3 pyproj==3.7.2 \
    pytest==9.2.0 pytest-cov==5.0.0 pytz==2026.6 rich==15.0.0 shapely==2.2.0 smmap==5.0.3 \
    threadpoolctl==3.8.0 toolz==1.2.0 typing-inspection==0.4.5 typing_extensions==4.16.0 \
    tzdata==2026.6 urllib3==2.8.0 zipp==4.1.2 ztffields==0.6.1

echo "AstroRetriever $COMMIT in $DEST/src-checkout, venv in $DEST/venv"
echo "run: $DEST/venv/bin/python bench/project/astroretriever.py --src $DEST/src-checkout \\"
echo "       --lightcurve $DEST/src-checkout/tests/DATA/ZTF_lightcurve.csv --sources 20 --histograms off"
