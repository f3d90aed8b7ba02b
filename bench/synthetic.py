#!/usr/bin/env python3
"""Write a synthetic person CSV for the scale benchmark: N records of about N/4
people, with typos, swapped names, missing and approximate dates (invented names).

    python3 bench/synthetic.py 1000000 /tmp/people-1m.csv
    /usr/bin/time -v target/release/amparo link --input /tmp/people-1m.csv --output /tmp/pairs.csv
"""
import random, sys

GIVEN = ["jacob", "hannah", "moshe", "sara", "rivka", "chaim", "leah", "dovid", "esther", "yosef", "miriam",
         "shmuel", "malka", "avraham", "devorah", "yitzchak", "rochel", "mendel", "golda", "baruch", "shifra",
         "pinchas", "chaya", "naftali", "bracha", "zalman", "perel", "eliezer", "faiga", "tzvi"]
FAMILY_PARTS = ["wein", "rosen", "fried", "gold", "klein", "schwartz", "teitel", "halber", "grun", "lieber",
                "kauf", "stern", "hirsch", "feld", "berko", "roth", "silber", "eisen", "hersko", "spitz"]
FAMILY_ENDS = ["garten", "berg", "man", "stein", "baum", "stam", "wald", "witz", "feld", "er", "ovits", "blum"]

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
        g = rng.choice(GIVEN)
        f = rng.choice(FAMILY_PARTS) + rng.choice(FAMILY_ENDS) + (str(rng.randrange(50)) if rng.random() < 0.5 else "")
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

if __name__ == "__main__":
    main()
