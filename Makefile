# AstroPile — set-up, build, demo and tests on Debian 12 with Swift 6.3.
#   make demo   installs what is missing, builds (release) and imports the bundled sample data
#   make test   installs what is missing and runs every test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
APT_PACKAGES := libcfitsio-dev libssl-dev pkg-config libchealpix0 time wcslib-dev libhdf5-dev libpng-dev zlib1g-dev libbz2-dev libarchive-dev libavro-dev postgresql libopenmpi-dev openmpi-bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup apt venv build build-release demo test lint bench bench-crossmatch bench-fetch bench-engine bench-stamps bench-spectra bench-alerts bench-project bench-mpi clean

setup: apt venv

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then missing="$$missing python3-venv"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# The venv is rebuilt when requirements.txt changes. .deps/pyarrow points at the wheel's
# headers and libraries (Package.swift links them with an rpath, no LD_LIBRARY_PATH needed).
venv: .deps/venv.stamp

.deps/venv.stamp: requirements.txt
	@mkdir -p .deps
	@[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	@ln -sfn "$$($(VENV)/bin/python -c 'import os, pyarrow; print(os.path.dirname(pyarrow.__file__))')" .deps/pyarrow
	@$(VENV)/bin/python -c 'import pyarrow; pyarrow.create_library_symlinks()'
	@touch $@

build: setup
	swift build

build-release: setup
	swift build -c release

demo: build-release
	rm -rf demo-output && mkdir -p demo-output
	@# Fetch the sample from a local archive server (the test server, on 127.0.0.1), then import it.
	$(VENV)/bin/python Tests/FetchTests/fetch_server.py --root sample > demo-output/server.txt & echo $$! > demo-output/server.pid; \
	for i in $$(seq 50); do grep -q PORT demo-output/server.txt 2>/dev/null && break; sleep 0.1; done; \
	port=$$(awk '/PORT/ {print $$2}' demo-output/server.txt); \
	echo "http://127.0.0.1:$$port/small_sky_source.csv.gz" | .build/release/astropile fetch urls --list - --dest demo-output/raw; \
	status=$$?; kill $$(cat demo-output/server.pid); exit $$status
	.build/release/astropile fetch status demo-output/raw
	.build/release/astropile import --input demo-output/raw/small_sky_source.csv.gz --ra source_ra --dec source_dec \
	  --output demo-output/small_sky_source --highest-order 2 --threshold 3000 \
	  --catalog-name small_sky_source --catalog-type source
	.build/release/astropile info demo-output/small_sky_source
	@# The same import on 2 MPI ranks (Open MPI; as on a cluster with mpirun/srun): the same leaves.
	mpirun --allow-run-as-root --oversubscribe -n 2 .build/release/astropile import --input demo-output/raw/small_sky_source.csv.gz \
	  --ra source_ra --dec source_dec --output demo-output/mpi/small_sky_source --highest-order 2 --threshold 3000 \
	  --catalog-name small_sky_source --catalog-type source --jobs 1
	diff -r demo-output/small_sky_source/dataset demo-output/mpi/small_sky_source/dataset && echo "2 MPI ranks: the same leaves as one process"
	.build/release/astropile margin demo-output/small_sky_source --radius 10arcsec
	.build/release/astropile crossmatch demo-output/small_sky_source demo-output/small_sky_source --radius 10arcsec \
	  --min-radius 1mas --suffixes _a,_b --output demo-output/source_pairs_10arcsec
	.build/release/astropile cone demo-output/small_sky_source --ra 301.5 --dec -59.5 --radius 5arcmin --count
	@# Images: the fixture field's five frames served from 127.0.0.1 as the SDSS archive lays them out,
	@# fetched, cut into aligned 64x64 ugriz stamps (HDF5 + HATS), and drawn as preview PNGs.
	mkdir -p demo-output/archive/dr17/eboss/photoObj/frames/301/2583/2
	cp fixtures/sdss-2583/frame-?-002583-2-0136.fits.bz2 demo-output/archive/dr17/eboss/photoObj/frames/301/2583/2/
	$(VENV)/bin/python Tests/FetchTests/fetch_server.py --root demo-output/archive > demo-output/server.txt & echo $$! > demo-output/server.pid; \
	for i in $$(seq 50); do grep -q PORT demo-output/server.txt 2>/dev/null && break; sleep 0.1; done; \
	port=$$(awk '/PORT/ {print $$2}' demo-output/server.txt); \
	.build/release/astropile fetch sdss-frames --catalog sample/sdss_2583_objects.csv --bands ugriz --dest demo-output/sdss \
	  --base http://127.0.0.1:$$port; \
	status=$$?; kill $$(cat demo-output/server.pid); exit $$status
	cp fixtures/sdss-2583/photoField-002583-2.fits demo-output/sdss/
	.build/release/astropile stamps --catalog sample/sdss_2583_objects.csv --frames demo-output/sdss --bands ugriz --size 64 \
	  --align lanczos3 --format both --output demo-output/sdss_64
	.build/release/astropile info demo-output/sdss_64
	.build/release/astropile show demo-output/sdss_64 --object 1237648720693755000 --png demo-output/stamp.png
	.build/release/astropile show demo-output/sdss_64 --grid 8x8 --png demo-output/preview.png
	@# Spectra: the SDSS spectra fixtures moved onto four of the field's stars, made a spectra data set,
	@# paired with the stamps, split, and one spectrum drawn.
	$(VENV)/bin/python Tests/PipelinesTests/Python/spectra_place.py sample/sdss_2583_objects.csv demo-output/spectra-in \
	  fixtures/sdss-spectra/spec-*.fits
	.build/release/astropile spectra --files 'demo-output/spectra-in/**/spec-*.fits' --output demo-output/sdss_spectra --format both
	.build/release/astropile info demo-output/sdss_spectra
	.build/release/astropile pair demo-output/sdss_64 demo-output/sdss_spectra --radius 1arcsec --output demo-output/sdss_64_x_spectra
	.build/release/astropile split demo-output/sdss_64_x_spectra --fractions train=0.5,val=0.25,test=0.25 --seed 42
	.build/release/astropile info demo-output/sdss_64_x_spectra
	.build/release/astropile show demo-output/sdss_spectra --object 7562816566389397504 --png demo-output/spectrum.png
	@# Alerts: the ZTF alert fixtures packed into nightly tarballs, served from 127.0.0.1 as the ZTF archive
	@# lists them, fetched, ingested into an alert lake, and made into the alert and light-curve catalogs.
	$(VENV)/bin/python Tests/PipelinesTests/Python/alerts_make.py fixtures demo-output/ztf-archive fixtures/ztf-alerts/*.avro
	$(VENV)/bin/python Tests/FetchTests/fetch_server.py --root demo-output/ztf-archive > demo-output/server.txt & echo $$! > demo-output/server.pid; \
	for i in $$(seq 50); do grep -q PORT demo-output/server.txt 2>/dev/null && break; sleep 0.1; done; \
	port=$$(awk '/PORT/ {print $$2}' demo-output/server.txt); \
	.build/release/astropile fetch ztf-alerts --from 2018-01-01 --to 2021-12-31 --dest demo-output/ztf --base http://127.0.0.1:$$port/; \
	status=$$?; kill $$(cat demo-output/server.pid); exit $$status
	.build/release/astropile alerts ingest 'demo-output/ztf/**/ztf_public_*.tar.gz' --output demo-output/ztf_lake
	.build/release/astropile alerts status demo-output/ztf_lake
	.build/release/astropile alerts catalog demo-output/ztf_lake --output demo-output/ztf_alerts
	.build/release/astropile alerts lightcurves demo-output/ztf_lake --output demo-output/ztf_objects
	.build/release/astropile info demo-output/ztf_objects
	@# Projects: three sources whose light curves come from a local stand-in for IRSA's ZTF light-curve
	@# service (serving the shared fixture), fetched, reduced, searched for events and injected into.
	$(VENV)/bin/python Tests/PipelinesTests/Python/irsa_server.py --fixture fixtures/ztf-lightcurves/ZTF_lightcurve.csv \
	  > demo-output/server.txt & echo $$! > demo-output/server.pid; \
	for i in $$(seq 50); do grep -q PORT demo-output/server.txt 2>/dev/null && break; sleep 0.1; done; \
	port=$$(awk '/PORT/ {print $$2}' demo-output/server.txt); \
	.build/release/astropile project init wd_demo --catalog ../sample/project_sources.csv --output demo-output/wd_demo.yaml \
	  --base http://127.0.0.1:$$port/cgi-bin/ZTF/nph_light_curves && \
	sed -i 's/  # name: "NAME"/  name: "name"/' demo-output/wd_demo.yaml && \
	.build/release/astropile project run demo-output/wd_demo.yaml; \
	status=$$?; kill $$(cat demo-output/server.pid); exit $$status
	.build/release/astropile project status demo-output/wd_demo.yaml
	.build/release/astropile project efficiency demo-output/wd_demo.yaml --png demo-output/efficiency.png
	.build/release/astropile project show demo-output/wd_demo.yaml --source wd_0 --png demo-output/lightcurve.png
	@echo "== a project on the alert lake: each object's light curve cut from the lake's light-curve catalog"
	.build/release/astropile project init alerts_demo --catalog ztf_objects.astropile-objects/objects-00000.parquet \
	  --survey ztf-alerts --lake ztf_lake --output demo-output/alerts_demo.yaml
	sed -i 's/  # name: "NAME"/  name: "objectId"/; s/perSource: 10/perSource: 2/' demo-output/alerts_demo.yaml
	.build/release/astropile project run demo-output/alerts_demo.yaml
	.build/release/astropile project status demo-output/alerts_demo.yaml

test: setup lint
	swift build --build-tests
	swift test --skip-build

# No trap on a path data or an option can reach: every precondition/assert/try!/as! in Sources/
# carries an `// invariant:` comment saying why (scripts/lint-invariants.sh); imports go one way
# down the layers (scripts/lint-layers.sh).
lint:
	scripts/lint-invariants.sh
	scripts/lint-conversions.sh
	scripts/lint-layers.sh

bench: build-release
	bench/import/run.sh

bench-crossmatch: build-release
	bench/crossmatch/run.sh

bench-fetch: build-release
	bench/fetch/run.sh

bench-stamps: build-release
	bench/stamps/run.sh

bench-spectra: build-release
	bench/spectra/run.sh

# 100,000 replicated fixture alerts in 20 nightly tar.gz (≈4.7 GB, made once into .bench-alerts/).
bench-alerts: build-release
	bench/alerts/run.sh

bench-project: build-release
	bench/project/run.sh

bench-mpi: build-release
	bench/mpi/run.sh

# Two builds on the same inputs: BEFORE=path/to/astropile (e.g. a release build of an older commit).
bench-engine: build-release
	$(VENV)/bin/python bench/engine/compare.py --before $(BEFORE) --after .build/release/astropile

clean:
	rm -rf .build demo-output
