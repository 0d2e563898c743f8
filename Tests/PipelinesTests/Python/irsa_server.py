"""A stand-in for IRSA's ZTF light-curve service (nph_light_curves) on 127.0.0.1, for tests and
benchmarks: GET ...?POS=CIRCLE <ra> <dec> <radius_deg>&FORMAT=CSV answers a light-curve CSV.

--fixture FILE   the CSV served for every position (default), or
--synthetic N    a synthetic light curve of N epochs per position (seeded by the position), in
                 the IRSA columns.
--rules FILE     JSON {"missing": [[ra, dec], ...], "garbage": [[ra, dec], ...]}: positions
                 answered 404, or with bytes that are not a light-curve CSV.
--log FILE       one line per request: "<ra> <dec> <status>".
Prints "PORT <n>" on its first line.
"""
import argparse, json, math, random, sys, threading, urllib.parse
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

HEADER = ",oid,expid,hjd,mjd,mag,magerr,catflags,filtercode,ra,dec,chi,sharp,filefracday,field,ccdid,qid,limitmag,magzp,magzprms,clrcoeff,clrcounc,exptime,airmass,programid\n"


def synthetic(ra, dec, n):
    rng = random.Random(f"{ra:.7f}:{dec:.7f}")
    rows = [HEADER]
    base = 18 + 2 * rng.random()
    t = 58200.0
    oid = {"zg": 700000000000001, "zr": 700000000000002}
    for i in range(n):
        t += rng.expovariate(1 / 2.0)
        f = "zg" if i % 2 == 0 else "zr"
        err = 0.02 + 0.02 * rng.random()
        mag = base + rng.gauss(0, err)
        rows.append(f"{i},{oid[f]},{1000 + i},{t + 2400000.5:.6f},{t:.7f},{mag:.7f},{err:.7f},0,{f},{ra:.7f},{dec:.7f},1.0,0.0,0,700,1,1,21.0,26.2,0.01,0,0,30,1.2,1\n")
    return "".join(rows).encode()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--fixture")
    p.add_argument("--synthetic", type=int)
    p.add_argument("--rules")
    p.add_argument("--log")
    a = p.parse_args()
    fixture = open(a.fixture, "rb").read() if a.fixture else None
    rules = json.load(open(a.rules)) if a.rules else {}
    lock = threading.Lock()
    log = open(a.log, "a") if a.log else None

    def near(ra, dec, key):
        return any(abs(ra - r) < 1e-6 and abs(dec - d) < 1e-6 for r, d in rules.get(key, []))

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            status, body = 400, b"bad request: POS=CIRCLE ra dec radius expected\n"
            ra = dec = math.nan
            try:
                parts = q["POS"][0].split()
                assert parts[0] == "CIRCLE" and len(parts) == 4
                ra, dec = float(parts[1]), float(parts[2])
                if near(ra, dec, "missing"):
                    status, body = 404, b"not found\n"
                elif near(ra, dec, "garbage"):
                    status, body = 200, b"\x00\x01 this is not a light curve \xff\n"
                elif a.synthetic:
                    status, body = 200, synthetic(ra, dec, a.synthetic)
                else:
                    status, body = 200, fixture
            except (KeyError, AssertionError, ValueError, IndexError):
                pass
            if log:
                with lock:
                    log.write(f"{ra} {dec} {status}\n")
                    log.flush()
            self.send_response(status)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    s = ThreadingHTTPServer(("127.0.0.1", 0), H)
    s.daemon_threads = True
    print(f"PORT {s.server_address[1]}", flush=True)
    s.serve_forever()


if __name__ == "__main__":
    main()
