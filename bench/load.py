#!/usr/bin/env python3
"""Throughput under load (issue 9): authenticated reads and writes per second with the
audit chain on, at 10 and 200 concurrent connections, on SQLite and PostgreSQL, with
the error rate; and the floor: the same reads straight against the database.

    apt-get install wrk && cargo build --release && python3 bench/load.py [--seconds 10]

Each backend gets a fresh demo (160 children) plus --extra children added through the
API first. Reads: GET /api/v1/children/{id} over the children, round robin (each read is
an audited read: one audit-chain entry per request). Writes: POST /api/v1/children, a
new child per request (record, first version, search keys and audit entry in one
transaction). The floor: SELECT data FROM records WHERE id = ? for the same ids, two
processes on SQLite (python sqlite3), pgbench on PostgreSQL with the same connection
counts (at most 64: the server's default limit is 100 connections, amparo holds some).
"""
import argparse, json, os, re, subprocess, tempfile, time, urllib.request, multiprocessing, random, sqlite3
import demo_server

READ_LUA = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local n = 0
wrk.headers["Authorization"] = "Bearer %(token)s"
request = function()
  n = n + 1
  return wrk.format("GET", "/api/v1/children/" .. ids[(n %% #ids) + 1])
end
"""

WRITE_LUA = """
local n = 0
local tid = tostring(math.random(1, 1000000000))
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = '{"operation_id":"%(op)s","names":[{"given":"Carga","family":"Prueba ' .. tid .. '-' .. n .. '"}],"sex":"female"}'
  return wrk.format("POST", "/api/v1/children", nil, body)
end
"""


def wrk(base, script, clients, seconds):
    threads = min(clients, 2)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--latency",
                          "-s", script, base], capture_output=True, text=True).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(bad.group(1)) if bad else 0) + (sum(int(x) for x in errs.groups()) if errs else 0)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    return rate, total, failed, p99ms


def sqlite_floor_worker(args):
    path, ids, seconds = args
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    n = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(100):
            conn.execute("SELECT data FROM records WHERE id = ?", (ids[n % len(ids)],)).fetchone()
            n += 1
    return n


def sqlite_floor(path, ids, seconds):
    with multiprocessing.Pool(2) as pool:
        counts = pool.map(sqlite_floor_worker, [(path, ids, seconds)] * 2)
    return sum(counts) / seconds


def pg_floor(url, ids, clients, seconds):
    db = url.rsplit("/", 1)[1]
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qc",
                    "DROP TABLE IF EXISTS bench_ids; CREATE TABLE bench_ids (n INT PRIMARY KEY, id TEXT)"],
                   check=True)
    values = ",".join(f"({i},'{x}')" for i, x in enumerate(ids))
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qc",
                    f"INSERT INTO bench_ids VALUES {values}"], check=True)
    script = tempfile.mktemp(suffix=".sql")
    with open(script, "w") as f:
        f.write(f"\\set k random(0, {len(ids) - 1})\n"
                "SELECT r.data FROM records r WHERE r.id = (SELECT id FROM bench_ids WHERE n = :k);\n")
    # PostgreSQL's default max_connections is 100: more clients than that are refused.
    clients = min(clients, 64)
    out = subprocess.run(["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-f", script, "-c", str(clients),
                          "-j", "2", "-T", str(seconds), "-M", "prepared", db], capture_output=True, text=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.environ.get("CARGO_TARGET_DIR", "target") + "/release/amparo")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--extra", type=int, default=2000, help="children added before measuring")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    a = ap.parse_args()
    rows = []
    for backend in a.backends.split(","):
        data = tempfile.mkdtemp(prefix="amparo-load-")
        url = None
        if backend == "postgres":
            db = f"amparo_load_{os.getpid()}"
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                            f"DROP DATABASE IF EXISTS {db}; "], check=True)
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                            f"CREATE DATABASE {db}"], check=True)
            url = f"{a.postgres}/{db}"
        proc, base = demo_server.start(a.binary, data, url)
        try:
            global_args = demo_server.args(data, url)
            token = demo_server.token(a.binary, data, url)

            def call(method, path, body=None):
                req = urllib.request.Request(base + path, method=method,
                                             data=json.dumps(body).encode() if body is not None else None,
                                             headers={"Authorization": "Bearer " + token,
                                                      "Content-Type": "application/json"})
                with urllib.request.urlopen(req) as r:
                    return json.loads(r.read() or b"null")

            op = call("GET", "/api/v1/operations")["items"][0]["id"]
            for i in range(a.extra):
                call("POST", "/api/v1/children", {"operation_id": op, "names": [{"given": "Semilla", "family": f"Carga {i}"}],
                                                   "sex": "male"})
            ids = []
            while True:
                page = call("GET", f"/api/v1/children?limit=100&offset={len(ids)}")
                ids += [c["id"] for c in page["items"]]
                if not page["items"] or len(ids) >= page["total"]:
                    break
            random.Random(1).shuffle(ids)
            tmp = tempfile.mkdtemp()
            with open(f"{tmp}/ids", "w") as f:
                f.write("\n".join(ids) + "\n")
            with open(f"{tmp}/read.lua", "w") as f:
                f.write(READ_LUA % {"ids": f"{tmp}/ids", "token": token})
            with open(f"{tmp}/write.lua", "w") as f:
                f.write(WRITE_LUA % {"token": token, "op": op})
            for clients in (10, 200):
                r = wrk(base, f"{tmp}/read.lua", clients, a.seconds)
                rows.append((backend, "read", clients, len(ids)) + r)
                print(rows[-1], flush=True)
                w = wrk(base, f"{tmp}/write.lua", clients, a.seconds)
                rows.append((backend, "write", clients, len(ids)) + w)
                print(rows[-1], flush=True)
            verify = subprocess.run([a.binary] + global_args + ["audit", "verify"], capture_output=True, text=True)
            print(f"{backend}: audit verify exit {verify.returncode}: {verify.stdout.strip()}", flush=True)
            for clients in (10, 200):
                if backend == "sqlite":
                    floor = sqlite_floor(os.path.join(data, "amparo.db"), ids, a.seconds)
                else:
                    floor = pg_floor(url, ids, clients, a.seconds)
                rows.append((backend, "floor read", clients, len(ids), floor, 0, 0, float("nan")))
                print(rows[-1], flush=True)
        finally:
            proc.terminate()
            proc.wait()
            if url:
                subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                                f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)"])
    print(f"\n{'backend':9} {'what':10} {'clients':>7} {'children':>8} {'per s':>9} {'requests':>9} {'errors':>6} {'p99 ms':>7}")
    for b, what, c, n, rate, total, failed, p99 in rows:
        print(f"{b:9} {what:10} {c:7} {n:8} {rate:9.0f} {total:9} {failed:6} {p99:7.1f}")


if __name__ == "__main__":
    main()
