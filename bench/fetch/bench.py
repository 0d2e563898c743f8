"""Bulk fetch benchmark: AstroPile vs aria2c vs wget on the same files from the same local server.

Shapes (defaults as the issue asks): 2,000 files of 256 KiB and 4 files of 256 MiB.
Runs:
  clean   nginx on 127.0.0.1 serves the tree (a real archive server);
  faulty  Tests/FetchTests/fetch_server.py with --chaos SEED:RATE (drops mid-body, short bodies,
          500/503/429 with Retry-After, ignored Range, slow answers on RATE of the requests).
Each tool downloads every file into its own folder; afterwards every file is compared with the
source (SHA-256) and counted ok / corrupt / missing. Wall times and ratios are printed; peak RSS
from GNU time.

  aria2c -x16 -s10 -j16 (the issue's flags)
  wget   -x -nH -i list (one connection, sequential; --tries/--retry-on-http-error in the faulty run)
  astropile fetch urls --list (--jobs 16, like aria2c -j16)
"""
import argparse, hashlib, os, shutil, signal, socket, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ASTROPILE = os.path.join(ROOT, ".build/release/astropile")
SERVER = os.path.join(ROOT, "Tests/FetchTests/fetch_server.py")


def make_tree(root, small, small_size, large, large_size):
    files = []
    for i in range(large):
        p = f"large/L{i:02d}.bin"
        files.append(p)
        os.makedirs(os.path.join(root, "large"), exist_ok=True)
        with open(os.path.join(root, p), "wb") as f:
            for k in range(large_size >> 20):
                f.write(os.urandom(1 << 20))
    for i in range(small):
        p = f"small/d{i % 50:02d}/s{i:05d}.bin"
        files.append(p)
        os.makedirs(os.path.dirname(os.path.join(root, p)), exist_ok=True)
        with open(os.path.join(root, p), "wb") as f:
            f.write(os.urandom(small_size))
    return files


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_nginx(root, work):
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 2; daemon off; pid {work}/nginx.pid; error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp; fastcgi_temp_path {work}/tmp;
  uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
  server {{ listen 127.0.0.1:{port}; root {root}; }}
}}""")
    os.makedirs(os.path.join(work, "tmp"), exist_ok=True)
    p = subprocess.Popen(["nginx", "-c", conf, "-p", work], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return p, port


def start_fault_server(root, chaos):
    p = subprocess.Popen([sys.executable, SERVER, "--root", root, "--chaos", chaos], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    assert line.startswith("PORT "), line
    return p, int(line.split()[1])


def timed(cmd, env=None):
    """Runs cmd under GNU time; returns (seconds, peak RSS GiB, exit status)."""
    rss_file = tempfile.mktemp()
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, env=env)
    dt = time.perf_counter() - t0
    try:
        rss = int(open(rss_file).read().strip().splitlines()[-1]) / (1 << 20)
    except Exception:
        rss = float("nan")
    os.unlink(rss_file)
    return dt, rss, r.returncode, r.stderr.decode(errors="replace")[-400:]


def check(files, sums, dest):
    ok = corrupt = missing = 0
    for p in files:
        q = os.path.join(dest, p)
        if not os.path.exists(q):
            missing += 1
        elif os.path.getsize(q) != sums[p][0] or digest(q) != sums[p][1]:
            corrupt += 1
        else:
            ok += 1
    return ok, corrupt, missing


def run_tools(files, sums, base, work, faulty, tools):
    results = {}
    listfile = os.path.join(work, "urls.txt")
    with open(listfile, "w") as f:
        f.write("".join(f"{base}/{p}\n" for p in files))
    ariafile = os.path.join(work, "aria.txt")
    for name in tools:
        dest = os.path.join(work, "out-" + name)
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        if name == "astropile":
            cmd = [ASTROPILE, "fetch", "urls", "--list", listfile, "--dest", dest, "--jobs", "16", "--quiet"]
            if faulty:
                cmd += ["--retries", "20", "--retry-wait", "0.05", "--max-retry-wait", "2", "--timeout", "10"]
        elif name == "aria2c":
            with open(ariafile, "w") as f:
                for p in files:
                    f.write(f"{base}/{p}\n  dir={os.path.join(dest, os.path.dirname(p))}\n  out={os.path.basename(p)}\n")
            cmd = ["aria2c", "-x16", "-s10", "-j16", "-i", ariafile, "--console-log-level=error", "--summary-interval=0",
                   "--auto-file-renaming=false", "--allow-overwrite=true"]
            if faulty:
                cmd += ["--max-tries=20", "--retry-wait=1"]
        elif name == "wget":
            cmd = ["wget", "-q", "-x", "-nH", "-P", dest, "-i", listfile]
            if faulty:
                cmd += ["--tries=20", "--waitretry=1", "--retry-on-http-error=429,500,502,503,504", "-c", "--read-timeout=10"]
        dt, rss, code, err = timed(cmd)
        ok, corrupt, missing = check(files, sums, dest)
        results[name] = (dt, rss, code, ok, corrupt, missing)
        print(f"    {name:10s} {dt:8.2f} s  {rss:5.2f} GiB  exit {code}  ok {ok}  corrupt {corrupt}  missing {missing}"
              + (f"  [{err.strip().splitlines()[-1][:120]}]" if code and err.strip() else ""), flush=True)
        shutil.rmtree(dest, ignore_errors=True)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=2000)
    ap.add_argument("--small-size", type=int, default=256 << 10)
    ap.add_argument("--large", type=int, default=4)
    ap.add_argument("--large-size", type=int, default=256 << 20)
    ap.add_argument("--chaos", default="7:0.05", help="SEED:RATE for the faulty run")
    ap.add_argument("--tools", default="astropile,aria2c,wget")
    ap.add_argument("--skip-faulty", action="store_true")
    ap.add_argument("--skip-clean", action="store_true")
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    if not os.path.exists(ASTROPILE):
        sys.exit("build first: make build-release")
    tools = args.tools.split(",")
    work = args.work or tempfile.mkdtemp(prefix="astropile-bench-fetch-")
    os.chmod(work, 0o755)  # nginx workers run as an unprivileged user
    root = os.path.join(work, "www")
    print(f"work folder {work}", flush=True)
    shapes = {
        f"{args.small} x {args.small_size >> 10} KiB": make_tree(os.path.join(root, "a"), args.small, args.small_size, 0, 0),
        f"{args.large} x {args.large_size >> 20} MiB": make_tree(os.path.join(root, "b"), 0, 0, args.large, args.large_size),
    }
    prefixes = dict(zip(shapes, ["a", "b"]))
    sums = {}
    for shape, files in shapes.items():
        for p in files:
            q = os.path.join(root, prefixes[shape], p)
            sums[p] = (os.path.getsize(q), digest(q))
    runs = ([] if args.skip_clean else [("clean (nginx)", False)]) + \
        ([] if args.skip_faulty else [(f"faulty (fetch_server.py --chaos {args.chaos})", True)])
    table = []
    for label, faulty in runs:
        for shape, files in shapes.items():
            if not files:
                continue
            sub = os.path.join(root, prefixes[shape])
            if faulty:
                server, port = start_fault_server(sub, args.chaos)
            else:
                os.makedirs(os.path.join(work, "nginx"), exist_ok=True)
                server, port = start_nginx(sub, os.path.join(work, "nginx"))
            print(f"{label}, {shape}:", flush=True)
            try:
                res = run_tools(files, sums, f"http://127.0.0.1:{port}", work, faulty, tools)
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait()
            table.append((label, shape, res))
    print("\nsummary (wall time; ratio = tool time / AstroPile time; corrupt/missing files)")
    for label, shape, res in table:
        a = res.get("astropile")
        line = f"  {label:45s} {shape:18s}"
        for name, (dt, rss, code, ok, corrupt, missing) in res.items():
            ratio = f" ({dt / a[0]:.2f}x)" if a and name != "astropile" else ""
            line += f" | {name} {dt:.2f} s{ratio} {corrupt}c/{missing}m"
        print(line)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
