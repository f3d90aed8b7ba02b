#!/usr/bin/env python3
"""Precision, recall, F1 and wall time of `amparo link` on the public linkage sets
(names, sex where present, and birth date only).

    cargo build --release && python3 bench/linkage.py [--threshold 0.5]
"""
import argparse, collections, csv, itertools, os, subprocess, tempfile, time

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "linkage")

def truth_febrl4():
    ids_a = [r[0].strip() for r in list(csv.reader(open(f"{D}/febrl4a.csv")))[1:]]
    ids_b = set(r[0].strip() for r in list(csv.reader(open(f"{D}/febrl4b.csv")))[1:])
    t = set()
    for x in ids_a:
        y = f"rec-{x.split('-')[1]}-dup-0"
        if y in ids_b:
            t.add(tuple(sorted((x, y))))
    return t

def truth_groups(path, idcol, key):
    g = collections.defaultdict(list)
    for r in csv.DictReader(open(path), skipinitialspace=True):
        g[key(r)].append(r[idcol].strip())
    return {p for v in g.values() for p in itertools.combinations(sorted(v), 2)}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/amparo")
    ap.add_argument("--threshold", type=float, default=0.5)
    a = ap.parse_args()
    febrl = ["--map", "rec_id=id", "--map", "surname=family_name", "--map", "date_of_birth=birth_date"]
    hist = ["--map", "unique_id=id", "--map", "first_name=given_name", "--map", "surname=family_name",
            "--map", "dob=birth_date", "--map", "gender=sex"]
    sets = [
        ("FEBRL4 (A vs B)", ["--input", f"{D}/febrl4a.csv", "--against", f"{D}/febrl4b.csv"] + febrl, truth_febrl4),
        ("FEBRL3 (dedupe)", ["--input", f"{D}/febrl3.csv"] + febrl,
         lambda: truth_groups(f"{D}/febrl3.csv", "rec_id", lambda r: r["rec_id"].split("-")[1])),
        ("historical_50k", ["--input", f"{D}/historical_50k.csv"] + hist,
         lambda: truth_groups(f"{D}/historical_50k.csv", "unique_id", lambda r: r["cluster"])),
    ]
    print(f"{'set':18} {'precision':>9} {'recall':>7} {'F1':>7} {'seconds':>8}")
    for name, args, truth in sets:
        out = tempfile.mktemp(suffix=".csv")
        t0 = time.perf_counter()
        subprocess.run([a.binary, "link", "--output", out, "--threshold", str(a.threshold)] + args,
                       check=True, stderr=subprocess.DEVNULL)
        secs = time.perf_counter() - t0
        found = {tuple(sorted((r["id_a"], r["id_b"]))) for r in csv.DictReader(open(out))}
        t = truth()
        tp = len(found & t)
        p = tp / len(found) if found else 0.0
        r = tp / len(t) if t else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        print(f"{name:18} {p:9.4f} {r:7.4f} {f:7.4f} {secs:8.2f}")

if __name__ == "__main__":
    main()
