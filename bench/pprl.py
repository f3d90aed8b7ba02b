#!/usr/bin/env python3
"""Privacy-preserving linkage side by side on FEBRL4 (given name, surname, date of
birth only): amparo pprl encode/match against clkhash + anonlink (PyPI), same secret,
same machine. Prints precision, recall, F1, encode and match times, and comparisons
per second.

    pip install clkhash anonlink
    cargo build --release && python3 bench/pprl.py [--threshold 0.6]
"""
import argparse, csv, io, json, os, subprocess, tempfile, time

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../shared/data/linkage")

def score(pairs):
    tp = sum(1 for a, b in pairs if a.split("-")[1] == b.split("-")[1])
    p = tp / max(1, len(pairs)); r = tp / 5000
    return p, r, 2 * p * r / max(1e-9, p + r)

def amparo(binary, threshold, tmp):
    secret = os.path.join(tmp, "secret.txt")
    with open(secret, "w") as f:
        f.write("benchmark secret shared by both agencies\n")
    m = ["--map", "rec_id=id", "--map", "surname=family_name", "--map", "date_of_birth=birth_date"]
    t = time.time()
    for side in "ab":
        subprocess.run([binary, "pprl", "encode", "--secret-file", secret, "--input", f"{D}/febrl4{side}.csv",
                        "--output", f"{tmp}/{side}.clk"] + m, check=True, capture_output=True)
    enc = time.time() - t
    t = time.time()
    out = subprocess.run([binary, "pprl", "match", f"{tmp}/a.clk", f"{tmp}/b.clk", "--output", f"{tmp}/pairs.csv",
                          "--threshold", str(threshold)], check=True, capture_output=True, text=True)
    match = time.time() - t
    pairs = [(r["id_a"], r["id_b"]) for r in csv.DictReader(open(f"{tmp}/pairs.csv"))]
    return pairs, enc, match, out.stderr.strip()

SCHEMA = {
    "version": 3,
    "clkConfig": {"l": 1024, "kdf": {"type": "HKDF", "hash": "SHA256",
        "salt": "SCbL2zHNnmsckfzchsNkZY9XoHk96P/G5nUBrM7ybymlEFsMV6PAeDZCNp3rfNUPCtLDMOGQHG4pCQpfhiHCyA==",
        "info": "c2NoZW1hX2V4YW1wbGU=", "keySize": 64}},
    "features": [
        {"identifier": "rec_id", "ignored": True},
        {"identifier": "given_name", "format": {"type": "string", "encoding": "utf-8"},
         "hashing": {"comparison": {"type": "ngram", "n": 2}, "strategy": {"bitsPerToken": 15}, "hash": {"type": "doubleHash"},
                     "missingValue": {"sentinel": ""}}},
        {"identifier": "surname", "format": {"type": "string", "encoding": "utf-8"},
         "hashing": {"comparison": {"type": "ngram", "n": 2}, "strategy": {"bitsPerToken": 15}, "hash": {"type": "doubleHash"},
                     "missingValue": {"sentinel": ""}}},
        {"identifier": "date_of_birth", "format": {"type": "string", "encoding": "utf-8"},
         "hashing": {"comparison": {"type": "ngram", "n": 1, "positional": True}, "strategy": {"bitsPerToken": 30},
                     "hash": {"type": "doubleHash"}, "missingValue": {"sentinel": ""}}},
    ],
}

def anonlink_run(threshold):
    import anonlink
    from clkhash import clk
    from clkhash.schema import from_json_dict
    schema = from_json_dict(SCHEMA)
    def rows(side):
        with open(f"{D}/febrl4{side}.csv") as f:
            r = list(csv.DictReader(f, skipinitialspace=True))
        return [[x["rec_id"], x["given_name"], x["surname"], x["date_of_birth"]] for x in r]
    a, b = rows("a"), rows("b")
    t = time.time()
    ca = clk.generate_clks(a, schema, "benchmark secret shared by both agencies", validate=False)
    cb = clk.generate_clks(b, schema, "benchmark secret shared by both agencies", validate=False)
    enc = time.time() - t
    t = time.time()
    cand = anonlink.candidate_generation.find_candidate_pairs(
        [ca, cb], anonlink.similarities.dice_coefficient_accelerated, threshold)
    solution = anonlink.solving.greedy_solve(cand)
    match = time.time() - t
    pairs = []
    for group in solution:
        recs = sorted(group)
        if len(recs) == 2:
            (da, ra), (db, rb) = recs
            pairs.append((a[ra][0], b[rb][0]) if da == 0 else (a[rb][0], b[ra][0]))
    return pairs, enc, match

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.environ.get("CARGO_TARGET_DIR", "target") + "/release/amparo")
    ap.add_argument("--threshold", type=float, default=0.6)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pairs, enc, match, said = amparo(a.binary, a.threshold, tmp)
        p, r, f = score(pairs)
        print(f"amparo   P {p:.3f} R {r:.3f} F1 {f:.3f}  encode {enc:.2f} s  match {match:.2f} s  ({said})")
    pairs, enc, match = anonlink_run(a.threshold)
    p, r, f = score(pairs)
    print(f"anonlink P {p:.3f} R {r:.3f} F1 {f:.3f}  encode {enc:.2f} s  match {match:.2f} s "
          f"({25e6 / match / 1e6:.1f} million comparisons per second end to end, one core)")

if __name__ == "__main__":
    main()
