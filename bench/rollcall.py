#!/usr/bin/env python3
"""Roll-call fan-out: 200 watchers on one roll call's server-sent events; how long
a mark takes to reach all of them; and 160 marks from 8 concurrent clients.

    cargo build --release && python3 bench/rollcall.py
"""
import argparse, http.client, json, statistics, tempfile, threading, time, urllib.parse, urllib.request
import demo_server

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/amparo")
    ap.add_argument("--watchers", type=int, default=200)
    ap.add_argument("--marks", type=int, default=30)
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="amparo-rc-")
    proc, base = demo_server.start(a.binary, data)
    host = urllib.parse.urlparse(base)
    try:
        token = demo_server.token(a.binary, data)
        def call(method, path, body=None):
            h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
            req = urllib.request.Request(base + "/api/v1" + path, method=method, headers=h,
                                         data=json.dumps(body).encode() if body is not None else None)
            with urllib.request.urlopen(req) as r:
                return json.loads(r.read() or b"null")
        children = [c["id"] for c in call("GET", "/children?limit=500")["items"]]
        rc = call("POST", "/roll-calls", {"children": children, "label": "bench"})["id"]

        arrivals = {}
        lock = threading.Lock()
        ready = threading.Barrier(a.watchers + 1)
        def watch(n):
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
            conn.request("GET", f"/api/v1/roll-calls/{rc}/events", headers={"Authorization": "Bearer " + token})
            resp = conn.getresponse()
            event = None
            waited = False
            while True:
                line = resp.fp.readline()
                if not line:
                    return
                line = line.decode().rstrip("\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "snapshot" and not waited:
                    waited = True
                    ready.wait()
                elif line.startswith("data:") and event == "mark":
                    m = json.loads(line[5:])
                    with lock:
                        arrivals.setdefault(m.get("child_id"), []).append(time.perf_counter())
                        if m.get("child_id") == "stop":
                            return
        threads = [threading.Thread(target=watch, args=(i,), daemon=True) for i in range(a.watchers)]
        for t in threads: t.start()
        ready.wait()
        sent = {}
        for child in children[:a.marks]:
            sent[child] = time.perf_counter()
            call("POST", f"/roll-calls/{rc}/marks", {"child_id": child, "mark": "present"})
            time.sleep(0.1)
        time.sleep(2)
        lat = []
        missing = 0
        for child, t0 in sent.items():
            got = arrivals.get(child, [])
            missing += a.watchers - len(got)
            lat += [(t - t0) * 1000 for t in got]
        lat.sort()
        q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
        print(f"watchers: {a.watchers}; marks: {a.marks}; deliveries: {len(lat)}; missed: {missing}")
        print(f"mark to watcher latency ms: median {statistics.median(lat):.1f}, p99 {q(0.99):.1f}, max {lat[-1]:.1f}")
        # 160 marks from 8 concurrent clients: none lost.
        rc2 = call("POST", "/roll-calls", {"children": children, "label": "bench 2"})["id"]
        chunks = [children[i::8] for i in range(8)]
        errors = []
        def marker(chunk):
            for c in chunk:
                try:
                    call("POST", f"/roll-calls/{rc2}/marks", {"child_id": c, "mark": "present"})
                except Exception as e:
                    errors.append(str(e))
        t0 = time.perf_counter()
        ts = [threading.Thread(target=marker, args=(c,)) for c in chunks]
        for t in ts: t.start()
        for t in ts: t.join()
        took = time.perf_counter() - t0
        status = call("GET", f"/roll-calls/{rc2}/status")
        print(f"{len(children)} marks from 8 clients in {took:.2f} s; errors {len(errors)}; present {status['counts']['present']} of {status['counts']['expected']}")
    finally:
        proc.terminate()

if __name__ == "__main__":
    main()
