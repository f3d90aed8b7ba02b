#!/usr/bin/env python3
"""A synthetic agency of N children (issue 9, load and scale): seeds them through the
import API in batches (the way an agency would bring in its spreadsheets), gives a
sample of them (--extras) a placement, a mother and an edit through the API, then times
search by name, the child page and list pages, and reads the server's memory.

    cargo build --release && python3 bench/scale.py --children 1000000

Names are invented from syllables (as in bench/synthetic.py). Prints seeding time and
rate, p50/p95/p99 per request type (server round trip over loopback), and resident
memory (now and peak).
"""
import argparse, json, os, random, re, subprocess, tempfile, time, urllib.request
import demo_server

GIVEN = ["jacob", "hannah", "moshe", "sara", "rivka", "chaim", "leah", "dovid", "esther", "yosef", "miriam",
         "shmuel", "malka", "avraham", "devorah", "maria", "jose", "ana", "juan", "rosa", "luis", "carmen",
         "pedro", "elena", "miguel", "lucia", "jorge", "sofia", "diego", "isabel", "pablo", "marta"]
ENDS = ["", "", "ito", "ita", "el", "a", "ine"]
PARTS = ["wein", "rosen", "fried", "gold", "klein", "schwartz", "teitel", "halber", "grun", "lieber", "kauf",
         "stern", "mar", "gar", "lop", "fer", "rod", "san", "gon", "her", "per", "mor", "cas", "ram"]
MIDS = ["", "", "a", "el", "in", "o", "er", "an", "ol", "ich", "ez"]
TAILS = ["garten", "berg", "man", "stein", "baum", "wald", "witz", "feld", "tinez", "cia", "ez", "ales", "ero",
         "ado", "ino", "iga", "ona"]


def person(rng):
    given = rng.choice(GIVEN) + rng.choice(ENDS)
    family = rng.choice(PARTS) + rng.choice(MIDS) + rng.choice(TAILS)
    return given, family


def pct(times, q):
    times = sorted(times)
    return times[min(len(times) - 1, int(q * len(times)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.environ.get("CARGO_TARGET_DIR", "target") + "/release/amparo")
    ap.add_argument("--children", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--database-url", help="PostgreSQL instead of the embedded SQLite (an empty database; "
                                           "with --data-dir, a later run reuses it)")
    ap.add_argument("--extras", type=int, default=20_000,
                    help="children given a placement, a parent (a person and a relationship) and an edit "
                         "through the API after seeding, so that pages and lists read real histories")
    ap.add_argument("--data-dir", help="keep the seeded database here; a later run on the same directory "
                                       "skips seeding and measures a server that has only served")
    a = ap.parse_args()
    data = a.data_dir or tempfile.mkdtemp(prefix="amparo-scale-")
    os.makedirs(data, exist_ok=True)
    # A finished seeding leaves this mark; a later run on the same place measures again.
    marker = os.path.join(data, "seeded")
    reuse = os.path.exists(marker)
    proc, base = demo_server.start(a.binary, data, a.database_url)
    try:
        token = demo_server.token(a.binary, data, a.database_url)

        def call(method, path, body=None, ctype="application/json", cookie=None, timeout=3600):
            h = {"Authorization": "Bearer " + token} if cookie is None else {"Cookie": cookie}
            if body is not None:
                h["Content-Type"] = ctype
                if isinstance(body, (dict, list)):
                    body = json.dumps(body).encode()
            req = urllib.request.Request(base + path, data=body, method=method, headers=h)
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read(), r.headers

        op = json.loads(call("GET", "/api/v1/operations")[1])["items"][0]["id"]
        rng = random.Random(2026)
        names = []
        started = time.time()
        done = a.children if reuse else 0
        if reuse:
            # The same generator gives the same names the seeding run used.
            for _ in range(5000):
                g, f = person(rng)
                names.append(f"{g} {f}")
                rng.choice('FM'), rng.randrange(2008, 2025), rng.randrange(1, 13), rng.randrange(1, 29)
            print(f"  reusing the database in {data}", flush=True)
        while done < a.children:
            n = min(a.batch, a.children - done)
            rows = ["pulsera,nombre,apellidos,sexo,fecha_nacimiento"]
            for i in range(done, done + n):
                g, f = person(rng)
                if len(names) < 5000:
                    names.append(f"{g} {f}")
                rows.append(f"S{i},{g},{f},{rng.choice('FM')},{rng.randrange(2008, 2025)}-"
                             f"{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}")
            t0 = time.time()
            status, body, _ = call("POST", f"/api/v1/operations/{op}/imports?mode=all_or_nothing",
                                   ("\n".join(rows) + "\n").encode(), ctype="text/csv")
            done += n
            print(f"  {done:>9} children, batch {time.time() - t0:.1f} s ({status})", flush=True)
        seeded = time.time() - started
        if not reuse:
            open(marker, "w").write(f"{a.children}\n")
        # Families, placements and history for a sample of the children: each gets a
        # placement in a facility, a mother (a person and a relationship) and an edit,
        # four writes and a read, from 8 clients at once. Done once per data directory.
        extras_mark = os.path.join(data, "extras")
        enriched = []
        if a.extras and os.path.exists(extras_mark):
            enriched = open(extras_mark).read().split()
        elif a.extras:
            facilities = [f["id"] for f in json.loads(call("GET", "/api/v1/facilities?limit=100")[1])["items"]]
            after, pool = None, []
            while len(pool) < a.extras * 4:
                page = json.loads(call("GET", "/api/v1/children?limit=500" + (f"&after={after}" if after else ""))[1])
                pool += [c["id"] for c in page["items"]]
                after = page["next"]
                if not after:
                    break
            chosen = random.Random(9).sample(pool, min(a.extras, len(pool)))
            basis = {"kind": "protective_order", "issuing_authority": "Juzgado de prueba",
                     "reference": "SCALE-0001", "date": "2026-01-10"}

            def enrich(i_cid):
                i, cid = i_cid
                call("POST", "/api/v1/placements", {
                    "child_id": cid, "facility_id": facilities[i % len(facilities)],
                    "from": "2026-01-10T10:00:00Z", "legal_basis": basis, "authorised_by": "Jueza de prueba"})
                g, f = person(random.Random(i))
                mother = json.loads(call("POST", "/api/v1/persons", {
                    "names": [{"given": g, "family": f}], "sex": "female"})[1])["id"]
                call("POST", "/api/v1/relationships", {"from": mother, "to": cid, "kind": "mother",
                                                       "source": "intake"})
                _, _, h = call("GET", f"/api/v1/children/{cid}")
                req = urllib.request.Request(base + f"/api/v1/children/{cid}", method="PATCH",
                                             data=json.dumps({"languages": ["es", "yi"]}).encode(),
                                             headers={"Authorization": "Bearer " + token, "If-Match": h["ETag"],
                                                      "Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=600).read()
                return cid

            t0 = time.time()
            from concurrent.futures import ThreadPoolExecutor
            with ThreadPoolExecutor(8) as ex:
                enriched = list(ex.map(enrich, enumerate(chosen)))
            print(f"  {len(enriched)} children placed, given a mother and edited in {time.time() - t0:.0f} s "
                  f"({4 * len(enriched) / (time.time() - t0):.0f} writes/s)", flush=True)
            open(extras_mark, "w").write("\n".join(enriched) + "\n")
        status, body, headers = call("POST", "/api/v1/session",
                                     {"username": "caseworker", "password": "demo-caseworker-2026"}, cookie="")
        cookie = headers["Set-Cookie"].split(";")[0]
        first = json.loads(call("GET", "/api/v1/children?limit=1")[1])
        # Lists count up to 10,000 ("total_exact": false past it); offsets use the seeded number.
        total = first["total"] if first["total_exact"] else a.children
        results = {}
        ids = []
        times = []
        for q in rng.sample(names, a.runs):
            t0 = time.perf_counter()
            items = json.loads(call("POST", "/api/v1/children/search", {"q": q})[1])["items"]
            times.append((time.perf_counter() - t0) * 1000)
            ids += [c["id"] for c in items[:2]]
        results["search by name (API)"] = times
        times = []
        for q in rng.sample(GIVEN, min(len(GIVEN), 20)) * 5:
            t0 = time.perf_counter()
            call("POST", "/api/v1/children/search", {"q": q})
            times.append((time.perf_counter() - t0) * 1000)
        results["search, given name only"] = times
        times = []
        for cid in rng.sample(ids, min(a.runs, len(ids))):
            t0 = time.perf_counter()
            call("GET", f"/children/{cid}", cookie=cookie)
            times.append((time.perf_counter() - t0) * 1000)
        results["child page (HTML)"] = times
        if enriched:
            times = []
            for cid in rng.sample(enriched, min(a.runs, len(enriched))):
                t0 = time.perf_counter()
                call("GET", f"/children/{cid}", cookie=cookie)
                times.append((time.perf_counter() - t0) * 1000)
            results["child page, placed + family"] = times
        times = []
        for cid in rng.sample(ids, min(a.runs, len(ids))):
            t0 = time.perf_counter()
            call("GET", f"/api/v1/children/{cid}")
            times.append((time.perf_counter() - t0) * 1000)
        results["child record (API)"] = times
        times = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            call("GET", "/api/v1/children?limit=50")
            times.append((time.perf_counter() - t0) * 1000)
        results["list, first page of 50"] = times
        # Walking the list page by page with the cursor (keyset), from random places.
        times = []
        starts = rng.sample(ids, min(len(ids), max(1, a.runs // 10)))
        for start in starts:
            after = start
            for _ in range(10):
                t0 = time.perf_counter()
                page = json.loads(call("GET", f"/api/v1/children?limit=50&after={after}")[1])
                times.append((time.perf_counter() - t0) * 1000)
                after = page["next"]
                if not after:
                    break
        results["list, next page (cursor)"] = times
        times = []
        for _ in range(min(a.runs, 20)):
            off = rng.randrange(0, max(1, total - 50))
            t0 = time.perf_counter()
            call("GET", f"/api/v1/children?limit=50&offset={off}")
            times.append((time.perf_counter() - t0) * 1000)
        results["list, random offset"] = times
        times = []
        for _ in range(min(a.runs, 50)):
            t0 = time.perf_counter()
            call("GET", "/children", cookie=cookie)
            times.append((time.perf_counter() - t0) * 1000)
        results["search page (HTML)"] = times
        status_text = open(f"/proc/{proc.pid}/status").read()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status_text).group(1)) / 1024
        hwm = int(re.search(r"VmHWM:\s+(\d+)", status_text).group(1)) / 1024
        if a.database_url:
            size = int(subprocess.run(["psql", a.database_url, "-Atc", "SELECT pg_database_size(current_database())"],
                                      capture_output=True, text=True, check=True).stdout) / 2**20
        else:
            size = os.path.getsize(os.path.join(data, "amparo.db")) / 2**20
        if reuse:
            print(f"\nchildren: {total} (database reused); database {size:.0f} MiB")
        else:
            print(f"\nchildren: {total}; seeding {a.children} took {seeded:.0f} s ({a.children / seeded:.0f}/s); "
                  f"database {size:.0f} MiB")
        print(f"{'request':30} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for k, v in results.items():
            print(f"{k:30} {pct(v, .5):8.1f} {pct(v, .95):8.1f} {pct(v, .99):8.1f}")
        print(f"server memory: {rss:.0f} MiB resident now, {hwm:.0f} MiB peak "
              f"({'serving only' if reuse else 'seeding included'})")
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
