#!/usr/bin/env python3
"""Write a synthetic person CSV for the scale benchmark: N records of about N/4
people, with typos, swapped names, missing and approximate dates. Names are invented
from syllables (about 650 given names, 15,000 family names, skewed like real name
frequencies), so that blocks are as uneven as a real registry's.

    python3 bench/synthetic.py 1000000 /tmp/people-1m.csv
    /usr/bin/time -v target/release/amparo link --input /tmp/people-1m.csv --output /tmp/pairs.csv
    python3 bench/synthetic.py --score /tmp/people-1m.csv /tmp/pairs.csv

--score prints precision, recall and F1 of the written pairs against the generator's
truth (records p{N}-{k} with one N are one person; every such pair is a true pair).
"""
import collections, csv, random, sys

GIVEN = ["jacob", "hannah", "moshe", "sara", "rivka", "chaim", "leah", "dovid", "esther", "yosef", "miriam",
         "shmuel", "malka", "avraham", "devorah", "yitzchak", "rochel", "mendel", "golda", "baruch", "shifra",
         "pinchas", "chaya", "naftali", "bracha", "zalman", "perel", "eliezer", "faiga", "tzvi",
         "maria", "jose", "ana", "juan", "rosa", "luis", "carmen", "pedro", "elena", "miguel", "lucia", "jorge",
         "sofia", "diego", "isabel", "pablo", "marta", "andres", "julia", "tomas", "ines", "felipe", "clara",
         "mateo", "alba", "hugo", "nora", "ivan", "paula", "raul", "olga", "simon", "eva", "adrian", "vera"]
GIVEN_ENDS = ["", "", "", "", "ito", "ita", "el", "a", "ine", "iel"]
FAMILY_PARTS = ["wein", "rosen", "fried", "gold", "klein", "schwartz", "teitel", "halber", "grun", "lieber",
                "kauf", "stern", "hirsch", "feld", "berko", "roth", "silber", "eisen", "hersko", "spitz",
                "mar", "gar", "lop", "fer", "rod", "san", "gon", "her", "per", "mor", "cas", "ram", "ort", "val",
                "mend", "bar", "cor", "dom", "esp", "fig"]
FAMILY_MIDS = ["", "", "", "a", "el", "in", "o", "er", "an", "ol", "ich", "ez", "ul", "am", "ir"]
FAMILY_ENDS = ["garten", "berg", "man", "stein", "baum", "stam", "wald", "witz", "feld", "er", "ovits", "blum",
               "tinez", "cia", "ez", "ales", "ero", "ado", "ino", "iga", "ona", "uez", "ela", "ano", "ida"]

def zipf_choice(items, rng, s=1.0):
    # Real name frequencies are skewed: a few names are very common, most are rare.
    weights = [1.0 / (i + 1) ** s for i in range(len(items))]
    return rng.choices(items, weights)[0]

def typo(s, rng):
    if len(s) < 3:
        return s
    i = rng.randrange(len(s) - 1)
    k = rng.random()
    if k < 0.33:
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    if k < 0.66:
        return s[:i] + s[i + 1:]
    return s[:i] + rng.choice("aeioulnrst") + s[i + 1:]

def main():
    n = int(sys.argv[1])
    out = open(sys.argv[2], "w")
    rng = random.Random(2026)
    out.write("id,given_name,family_name,sex,birth_date\n")
    people = max(1, n // 4)
    written = 0
    pid = 0
    while written < n:
        pid += 1
        g = zipf_choice(GIVEN, rng, 0.7) + rng.choice(GIVEN_ENDS)
        f = zipf_choice(FAMILY_PARTS, rng, 0.5) + rng.choice(FAMILY_MIDS) + zipf_choice(FAMILY_ENDS, rng, 0.5)
        sex = rng.choice("fm")
        y, m, d = rng.randrange(1950, 2024), rng.randrange(1, 13), rng.randrange(1, 29)
        for k in range(rng.randrange(1, 8)):
            if written >= n:
                break
            gg, ff = g, f
            if rng.random() < 0.2:
                gg = typo(gg, rng)
            if rng.random() < 0.2:
                ff = typo(ff, rng)
            if rng.random() < 0.05:
                gg, ff = ff, gg
            if rng.random() < 0.1:
                birth = ""
            elif rng.random() < 0.1:
                birth = f"{y}"
            elif rng.random() < 0.05:
                birth = f"{y}{d:02d}{m:02d}" if d <= 12 else f"{y}{m:02d}{d:02d}"
            else:
                birth = f"{y}{m:02d}{d:02d}"
            out.write(f"p{pid}-{k},{gg},{ff},{sex},{birth}\n")
            written += 1

def score(people_csv, pairs_csv):
    persons = collections.Counter(r["id"].split("-")[0] for r in csv.DictReader(open(people_csv)))
    true_pairs = sum(k * (k - 1) // 2 for k in persons.values())
    tp = fp = 0
    for r in csv.DictReader(open(pairs_csv)):
        if r["id_a"].split("-")[0] == r["id_b"].split("-")[0]:
            tp += 1
        else:
            fp += 1
    p = tp / max(1, tp + fp)
    rc = tp / max(1, true_pairs)
    f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
    print(f"precision {p:.4f}  recall {rc:.4f}  F1 {f1:.4f}  ({tp} true, {fp} false of {true_pairs})")

if __name__ == "__main__":
    if sys.argv[1:2] == ["--score"]:
        score(sys.argv[2], sys.argv[3])
    else:
        main()
