#!/usr/bin/env python3
"""amparo link and Splink 5 (DuckDB) side by side on the public linkage sets, names +
sex + birth date only, same machine. Splink settings follow its own FEBRL and
historical-people examples: NameComparison for names, DateOfBirthComparison for the
birth date, exact sex; blocking on first name, surname and birth date; u by random
sampling, m by EM on two blocking rules; predictions at the same threshold. Each tool
runs three times per set (--repeat) and its median wall time is printed.

    pip install splink pandas && cargo build --release && python3 bench/splink_side_by_side.py
"""
import argparse, csv, os, statistics, subprocess, sys, tempfile, time, logging
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import linkage  # noqa: E402  (truth sets and paths)

D = linkage.D

def score(found, truth):
    tp = len(found & truth)
    p = tp / len(found) if found else 0.0
    r = tp / len(truth) if truth else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)

def read(path, idcol, cols):
    import pandas as pd
    df = pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    out = pd.DataFrame({"unique_id": df[idcol].str.strip()})
    for dst, src in cols.items():
        out[dst] = df[src].str.strip().replace("", None) if src in df else None
    return out

def splink_run(frames, link_type, threshold):
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI
    logging.getLogger("splink").setLevel(logging.WARNING)
    db = DuckDBAPI()
    dfs = [db.register(f) for f in frames]
    comparisons = [
        cl.NameComparison("first_name"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y%m%d"),
    ]
    if "sex" in frames[0] and frames[0]["sex"].notna().any():
        comparisons.append(cl.ExactMatch("sex"))
    settings = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on("first_name"), block_on("surname"), block_on("dob")],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(dfs if len(dfs) > 1 else dfs[0], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname"))
    pred = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    return {tuple(sorted((str(a), str(b)))) for a, b in zip(pred["unique_id_l"], pred["unique_id_r"])}

def normalise_dob(frame):
    # FEBRL dates are YYYYMMDD already; historical_50k's are YYYY-MM-DD.
    frame["dob"] = frame["dob"].str.replace("-", "", regex=False) if frame["dob"] is not None else None
    return frame

def timed(repeat, run):
    """The median wall time of `repeat` runs, and the last run's result."""
    times, result = [], None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.environ.get("CARGO_TARGET_DIR", "target") + "/release/amparo")
    ap.add_argument("--threshold", type=float, default=0.5)
    # Each tool runs this many times per set and its median time is printed: on a VM a
    # single run of a fraction of a second moves by half (first touches of memory).
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    febrl_cols = {"first_name": "given_name", "surname": "surname", "dob": "date_of_birth"}
    hist_cols = {"first_name": "first_name", "surname": "surname", "dob": "dob", "sex": "gender"}
    febrl = ["--map", "rec_id=id", "--map", "surname=family_name", "--map", "date_of_birth=birth_date"]
    hist = ["--map", "unique_id=id", "--map", "first_name=given_name", "--map", "surname=family_name",
            "--map", "dob=birth_date", "--map", "gender=sex"]
    sets = [
        ("FEBRL4", ["--input", f"{D}/febrl4a.csv", "--against", f"{D}/febrl4b.csv"] + febrl, linkage.truth_febrl4,
         lambda: [read(f"{D}/febrl4a.csv", "rec_id", febrl_cols), read(f"{D}/febrl4b.csv", "rec_id", febrl_cols)], "link_only"),
        ("FEBRL3", ["--input", f"{D}/febrl3.csv"] + febrl,
         lambda: linkage.truth_groups(f"{D}/febrl3.csv", "rec_id", lambda r: r["rec_id"].split("-")[1]),
         lambda: [read(f"{D}/febrl3.csv", "rec_id", febrl_cols)], "dedupe_only"),
        ("historical_50k", ["--input", f"{D}/historical_50k.csv"] + hist,
         lambda: linkage.truth_groups(f"{D}/historical_50k.csv", "unique_id", lambda r: r["cluster"]),
         lambda: [read(f"{D}/historical_50k.csv", "unique_id", hist_cols)], "dedupe_only"),
    ]
    print(f"{'set':15} {'tool':7} {'precision':>9} {'recall':>7} {'F1':>7} {'seconds':>8}")
    for name, args, truth_f, frames_f, link_type in sets:
        truth = truth_f()
        out = tempfile.mktemp(suffix=".csv")
        secs, _ = timed(a.repeat, lambda: subprocess.run(
            [a.binary, "link", "--output", out, "--threshold", str(a.threshold)] + args,
            check=True, stderr=subprocess.DEVNULL))
        found = {tuple(sorted((r["id_a"], r["id_b"]))) for r in csv.DictReader(open(out))}
        p, r, f = score(found, truth)
        print(f"{name:15} {'amparo':7} {p:9.4f} {r:7.4f} {f:7.4f} {secs:8.2f}", flush=True)
        secs, found = timed(a.repeat, lambda: splink_run(
            [normalise_dob(x) for x in frames_f()], link_type, a.threshold))
        p, r, f = score(found, truth)
        print(f"{name:15} {'splink':7} {p:9.4f} {r:7.4f} {f:7.4f} {secs:8.2f}", flush=True)

if __name__ == "__main__":
    main()
