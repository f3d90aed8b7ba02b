#!/usr/bin/env python3
"""Spreadsheet import speed: N invented children as CSV and XLSX-free CSV, imported
through the API (all or nothing) into the demo operation, and through the CLI into a
second operation of the same data directory. Prints wall times.

    cargo build --release && python3 bench/import.py --rows 10000
"""
import argparse, csv, io, json, os, subprocess, tempfile, time, urllib.request
import demo_server

GIVEN = ["Ana", "Luis", "Rut", "Moisés", "Jana", "Tomás", "Lea", "Abel", "Noa", "Iván", "Sara", "Elías", "Dina", "Saúl"]
FAMILY = ["Prueba", "Ensayo", "Muestra", "Ficticio", "Inventado", "Ejemplar", "Modelo", "Simulado", "Ilustre"]

def rows(n, prefix):
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["pulsera", "nombre", "apellido", "fecha_nacimiento", "sexo", "idioma"])
    for i in range(n):
        w.writerow([f"{prefix}{i}", GIVEN[i % len(GIVEN)], f"{FAMILY[i % len(FAMILY)]}{i // 97}",
                    f"{1 + i % 28:02d}/{1 + i % 12:02d}/{2008 + i % 17}", "FM"[i % 2], "es, yiddish"])
    return out.getvalue().encode()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.environ.get("CARGO_TARGET_DIR", "target") + "/release/amparo")
    ap.add_argument("--rows", type=int, default=10000)
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="amparo-import-bench-")
    proc, base = demo_server.start(a.binary, data)
    try:
        token = demo_server.token(a.binary, data)
        def call(method, path, body=None, ctype="application/json"):
            h = {"Authorization": "Bearer " + token}
            if body is not None:
                h["Content-Type"] = ctype
            req = urllib.request.Request(base + path, data=body, method=method, headers=h)
            with urllib.request.urlopen(req, timeout=600) as r:
                return r.status, r.read()
        op = json.loads(call("GET", "/api/v1/operations")[1])["items"][0]["id"]
        file = rows(a.rows, "A")
        t = time.time()
        status, body = call("POST", f"/api/v1/operations/{op}/imports?mode=dry_run", file, "text/csv")
        dry = time.time() - t
        t = time.time()
        status, body = call("POST", f"/api/v1/operations/{op}/imports?mode=all_or_nothing", file, "text/csv")
        api = time.time() - t
        imported = len(json.loads(body)["imported"])
        t = time.time()
        status, body = call("POST", f"/api/v1/operations/{op}/imports?mode=all_or_nothing", file, "text/csv")
        again = time.time() - t
        recognised = len(json.loads(body)["recognised"])
        second = json.loads(call("POST", "/api/v1/operations", json.dumps(
            {"name": "Bench import", "country": "GT", "start_date": "2026-11-01", "lead_agency": "Bench"}).encode())[1])["id"]
        path = os.path.join(data, "ninos.csv")
        with open(path, "wb") as f:
            f.write(rows(a.rows, "C"))
        t = time.time()
        cli = subprocess.run([a.binary, "--data-dir", data, "import", "children", "--operation", second, path],
                             capture_output=True, text=True)
        cli_s = time.time() - t
        print(f"rows {a.rows}: dry run {dry:.2f} s; API import {api:.2f} s ({imported} imported); "
              f"same file again {again:.2f} s ({recognised} recognised); CLI import {cli_s:.2f} s "
              f"(exit {cli.returncode}: {cli.stdout.strip().splitlines()[-1] if cli.stdout.strip() else cli.stderr[-200:]})")
    finally:
        proc.terminate()
        proc.wait()

if __name__ == "__main__":
    main()
