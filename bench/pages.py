#!/usr/bin/env python3
"""Page render times with N children: starts the release binary on the demo,
adds children through the intake API until there are N, then times each page.

    cargo build --release && python3 bench/pages.py --children 10000

Prints p50/p95/max server round-trip in ms over loopback (includes HTTP overhead).
"""
import argparse, json, tempfile, threading, time, urllib.request
import demo_server

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/amparo")
    ap.add_argument("--children", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--threads", type=int, default=8)
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="amparo-bench-")
    proc, base = demo_server.start(a.binary, data)
    try:
        token = demo_server.token(a.binary, data)
        def call(method, path, body=None, headers=None, cookie=None):
            h = {"Authorization": "Bearer " + token} if cookie is None else {"Cookie": cookie}
            h.update(headers or {})
            data_b = None
            if body is not None:
                data_b = json.dumps(body).encode()
                h["Content-Type"] = "application/json"
            req = urllib.request.Request(base + path, data=data_b, method=method, headers=h)
            with urllib.request.urlopen(req) as r:
                return r.status, r.read(), r.headers
        ops = json.loads(call("GET", "/api/v1/operations")[1])["items"]
        op = ops[0]["id"]
        total = json.loads(call("GET", "/api/v1/children?limit=0")[1])["total"]
        todo = list(range(total, a.children))
        started = time.time()
        lock = threading.Lock()
        def worker():
            while True:
                with lock:
                    if not todo:
                        return
                    i = todo.pop()
                call("POST", "/api/v1/intake", {"operation_id": op, "wristband": f"b{i}", "given": f"Given{i % 397}",
                     "family": f"Family{i % 211}", "sex": ["female", "male"][i % 2], "birth": str(2008 + i % 17),
                     "languages": "yi, es"})
        threads = [threading.Thread(target=worker) for _ in range(a.threads)]
        for t in threads: t.start()
        for t in threads: t.join()
        seeded = time.time() - started
        status, body, headers = call("POST", "/api/v1/session", {"username": "caseworker", "password": "demo-caseworker-2026"}, cookie="")
        cookie = headers["Set-Cookie"].split(";")[0]
        child = json.loads(call("GET", "/api/v1/children?limit=1")[1])["items"][0]["id"]
        facility = json.loads(call("GET", "/api/v1/facilities?limit=1")[1])["items"][0]["id"]
        household = json.loads(call("GET", "/api/v1/households?limit=1")[1])["items"][0]["id"]
        pages = {"dashboard /": "/", "search page": "/children", "child page": f"/children/{child}",
                 "family graph": f"/households/{household}", "roster (100 children)": f"/facilities/{facility}/roster",
                 "intake": "/intake"}
        print(f"children: {a.children}; seeding {len(range(total, a.children))} took {seeded:.1f} s")
        print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for name, path in pages.items():
            times = []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                call("GET", path, cookie=cookie)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
            print(f"{name:28} {p(0.5):8.1f} {p(0.95):8.1f} {times[-1]:8.1f}")
    finally:
        proc.terminate()

if __name__ == "__main__":
    main()
