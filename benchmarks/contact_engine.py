"""Benchmark: the contact engine (快流调) for 1,000 cases over a 2.4-million-person district's 14 days of scans.

Generates the district once with ``bihuan.sim.generate_district`` into a cache directory outside the
repository (default /tmp/bihuan-bench/; reused while its manifest matches), picks the cases (the
outbreak's infections, then seeded random residents up to --cases; each isolated the day after its
first positive sampling) and times ``find_contacts``: close and general contacts with bad rows among
the traced scans for every case (``secondary=False``), and the full default run with secondary
contacts on --secondary-cases cases (every close contact's movements until isolation: in this dense
district a thousand cases have ~600,000 close contacts, and their secondary contacts run to hundreds
of millions of pairs). Each backend runs in a fresh subprocess, so its
peak memory (RSS high-water mark of the process and its children, e.g. Spark's JVM) is its own.

The baseline is a straightforward pandas implementation of the close-contact venue co-presence alone
(load the scans, then per case: merge its scans with the scans at its venues on venue_id, keep
overlaps of the kind's minutes inside the window). It is measured on --pandas-cases cases and scaled
linearly to all of them; the output says so. Its close venue contacts are checked against DuckDB's.

    python benchmarks/contact_engine.py                      # DuckDB, Spark local[2] and pandas
    python benchmarks/contact_engine.py --spark-cases 100    # Spark on the first 100 cases only
    python benchmarks/contact_engine.py --skip-spark --data-dir /var/tmp/bench

Target (issue 4): 1,000 cases against ~100 million scan rows in <= 10 s on DuckDB on a 2-core
machine, and >= 20x the pandas baseline.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from _environment import ROOT, use_the_project_environment

use_the_project_environment()

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from bihuan.protocol import (  # noqa: E402
    CaseFacts,
    ContactCategory,
    ProtocolProfile,
    VenueKind,
    load_profile,
    venue_co_presence_minutes,
)
from bihuan.sim import GENERATOR_VERSION, DistrictManifest, generate_district  # noqa: E402
from bihuan.tracing.engine import CaseExposure, ContactFindings, ContactSources, case_exposure  # noqa: E402

PROFILE = "cn-8th-2021"
START = date(2021, 12, 1)
CASE_SCHEMA = pa.schema(
    [("person_key", pa.int64()), ("window_start", pa.timestamp("us")), ("window_end", pa.timestamp("us"))]
)


# -- the district, generated once ----------------------------------------------------------------


def district_params(args: argparse.Namespace) -> dict[str, Any]:
    """What the cached district must have been generated with."""
    return {"generator_version": GENERATOR_VERSION, "people": args.people, "days": args.days, "seed": args.seed}


def ensure_district(data_dir: Path, params: dict[str, Any]) -> DistrictManifest:
    """The cached district under ``data_dir`` when its manifest matches ``params``, else a new one."""
    folder = data_dir / f"district-{params['people']}p-{params['days']}d-s{params['seed']}"
    manifest = folder / "manifest.json"
    if manifest.exists():
        found = json.loads(manifest.read_text("utf-8"))
        if all(found.get(key) == value for key, value in params.items()) and found.get("start_date") == str(START):
            print(f"district: reusing {folder} ({found['counts']['scans']:,} scan rows)")
            return _manifest(folder, found)
    print(f"district: generating {params['people']:,} people x {params['days']} days into {folder} (once) ...")
    began = time.perf_counter()
    made = generate_district(
        folder, people=params["people"], days=params["days"], seed=params["seed"], start_date=START, progress=True
    )
    print(f"district: {made.counts['scans']:,} scan rows in {time.perf_counter() - began:.0f} s")
    return made


def _manifest(folder: Path, found: dict[str, Any]) -> DistrictManifest:
    return DistrictManifest(
        out_dir=folder,
        seed=found["seed"],
        people=found["people"],
        days=found["days"],
        start_date=date.fromisoformat(found["start_date"]),
        counts=found["counts"],
        cases=found["cases"],
        cases_by_setting=found["cases_by_setting"],
        wall_seconds=found["wall_seconds"],
    )


def sources(district: DistrictManifest) -> ContactSources:
    start = datetime.combine(district.start_date, datetime.min.time())
    period = (start, start + timedelta(days=district.days))
    return ContactSources(district.persons, district.venues, district.scans, period=period)


# -- the cases ----------------------------------------------------------------------------------


def _isolated(sampled: date) -> datetime:
    """A case is isolated the day after its first positive sampling (a closed loop, 闭环)."""
    return datetime.combine(sampled + timedelta(days=1), datetime.min.time())


def pick_cases(district: DistrictManifest, count: int, seed: int, profile: ProtocolProfile) -> list[CaseExposure]:
    """The outbreak's infections, then random residents (seeded) up to ``count``, with the profile's windows."""
    cases: dict[int, CaseExposure] = {}
    for row in pq.read_table(district.infections).to_pylist():
        facts = CaseFacts(
            row["onset_date"],
            row["first_positive_sampling_date"],
            isolated_at=_isolated(row["first_positive_sampling_date"]),
        )
        cases.setdefault(int(row["infectee_key"]), case_exposure(int(row["infectee_key"]), facts, profile))
    keys = pq.read_table(district.persons, columns=["person_key"])["person_key"].to_numpy()
    rng = np.random.default_rng(seed)
    days = district.days
    while len(cases) < count:
        key = int(rng.choice(keys))
        onset = district.start_date + timedelta(days=int(rng.integers(2, days)))
        facts = CaseFacts(onset, onset, isolated_at=_isolated(onset))
        cases.setdefault(key, case_exposure(key, facts, profile))
    return list(cases.values())[:count]


def cases_table(cases: list[CaseExposure]) -> pa.Table:
    return pa.table(
        [[c.person_key for c in cases], [c.start for c in cases], [c.end for c in cases]], schema=CASE_SCHEMA
    )


def cases_from(table: pa.Table) -> list[CaseExposure]:
    return [CaseExposure(r["person_key"], r["window_start"], r["window_end"]) for r in table.to_pylist()]


# -- one backend, in its own process --------------------------------------------------------------


def peak_rss_mib() -> float:
    """Peak RSS of this process plus that of each live descendant (Linux /proc VmHWM), in MiB."""
    pids = [os.getpid(), *_descendants(os.getpid())]
    return sum(_vm_hwm_kib(pid) for pid in pids) / 1024


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _vm_hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_backend(
    backend_name: str, district_dir: Path, cases_file: Path, out_file: Path, check_cases: int, secondary: bool
) -> None:
    """Child process: time find_contacts on one backend; write figures and the checked cases' contacts."""
    from bihuan.tracing.engine import find_contacts

    district = _manifest(district_dir, json.loads((district_dir / "manifest.json").read_text("utf-8")))
    cases = cases_from(pq.read_table(cases_file))
    backend = _backend(backend_name)
    try:
        began, cpu_began = time.perf_counter(), _cpu_seconds()
        found = find_contacts(backend, sources(district), cases, load_profile(PROFILE), secondary=secondary)
        seconds, cpu = time.perf_counter() - began, _cpu_seconds() - cpu_began
        objects = found.contacts  # the Contact objects too, timed apart: the engine hands over Arrow
        object_seconds = time.perf_counter() - began - seconds
        rss = peak_rss_mib()
    finally:
        backend.close()
    checked = {c.person_key for c in cases[:check_cases]}
    pq.write_table(_close_rows(found, checked), out_file.with_suffix(".parquet"))
    counts = Counter(str(c.category) for c in objects)
    figures = {"seconds": seconds, "cpu_seconds": cpu, "object_seconds": object_seconds, "peak_rss_mib": rss}
    figures["cases"] = len(cases)
    figures |= {"by_category": counts, "secondary": secondary}
    out_file.write_text(json.dumps({**figures, "bad_rows": found.bad_rows}), "utf-8")


def _cpu_seconds() -> float:
    """CPU time of this process so far (user + system, all threads): the work, whatever else the machine runs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _backend(name: str) -> Any:
    if name == "duckdb":
        from bihuan.tracing.backends import DuckDBBackend

        return DuckDBBackend(threads=2)
    from bihuan.tracing.backends_spark import SparkBackend

    return SparkBackend("local[2]", config={"spark.driver.memory": "12g", "spark.sql.shuffle.partitions": "8"})


def _close_rows(found: ContactFindings, cases: set[int]) -> pa.Table:
    """The checked cases' close contacts: (case_key, contact_key, household, venues)."""
    rows = [c for c in found.contacts if c.case_key in cases and c.category is ContactCategory.CLOSE_CONTACT]
    return pa.table(
        {
            "case_key": pa.array([c.case_key for c in rows], pa.int64()),
            "contact_key": pa.array([c.contact_key for c in rows], pa.int64()),
            "household": pa.array(["household" in c.reasons for c in rows], pa.bool_()),
            "venues": pa.array([[r for r in c.reasons if r.startswith("venue:")] for c in rows], pa.list_(pa.string())),
        }
    )


def timed_backend(
    name: str, district: DistrictManifest, cases: list[CaseExposure], work: Path, check: int, *, secondary: bool
) -> dict[str, Any]:
    """Run one backend in a fresh subprocess of this script; its figures."""
    run_name = f"{name}-{len(cases)}-{'secondary' if secondary else 'close'}"
    cases_file, out_file = work / f"{run_name}-cases.parquet", work / f"{run_name}.json"
    pq.write_table(cases_table(cases), cases_file)
    arguments = [name, str(district.out_dir), str(cases_file), str(out_file), str(check), str(int(secondary))]
    command = [sys.executable, __file__, "--child", *arguments]
    subprocess.run(command, check=True)
    figures = json.loads(out_file.read_text("utf-8"))
    figures["close"] = pq.read_table(out_file.with_suffix(".parquet"))
    return figures


# -- the pandas baseline --------------------------------------------------------------------------


def pandas_baseline(
    district: DistrictManifest, cases: list[CaseExposure], profile: ProtocolProfile
) -> tuple[float, float, set[tuple[int, int, int]]]:
    """Close-contact venue co-presence the straightforward pandas way: (load s, per-case s, (case, contact, venue))."""
    import pandas as pd

    began = time.perf_counter()
    scans = pd.read_parquet(district.scans, columns=["person_key", "venue_id", "time_in", "time_out"])
    venues = pd.read_parquet(district.venues, columns=["venue_id", "kind"])
    minutes = {str(kind): venue_co_presence_minutes(kind, profile) for kind in VenueKind}
    venues["minutes"] = venues["kind"].map(minutes).fillna(profile.tracing.venues.default_minutes)
    scans["venue_id"] = scans["venue_id"].astype("int32")
    loaded = time.perf_counter() - began
    found: set[tuple[int, int, int]] = set()
    began = time.perf_counter()
    for case in cases:
        own = scans[(scans.person_key == case.person_key) & (scans.time_out > case.start) & (scans.time_in < case.end)]
        nearby = scans[scans.venue_id.isin(own.venue_id.unique())]
        pairs = own.merge(nearby, on="venue_id", suffixes=("_case", "")).merge(venues, on="venue_id")
        start = pairs[["time_in_case", "time_in"]].max(axis=1)
        end = pairs[["time_out_case", "time_out"]].min(axis=1)
        close = (pairs.person_key != case.person_key) & (end - start >= pd.to_timedelta(pairs.minutes, unit="min"))
        close &= (end > case.start) & (start < case.end)
        hits = pairs[close]
        found.update(zip([case.person_key] * len(hits), hits.person_key.tolist(), hits.venue_id.tolist(), strict=True))
    return loaded, time.perf_counter() - began, found


def check_agreement(duck_close: pa.Table, pandas_found: set[tuple[int, int, int]]) -> str:
    """pandas' close venue contacts are DuckDB's close contacts at those venues, and DuckDB's close
    contacts outside the household are all found by pandas."""
    rows = duck_close.to_pylist()
    by_pair = {(r["case_key"], r["contact_key"]): set(r["venues"]) for r in rows}
    missing = [t for t in pandas_found if f"venue:{t[2]}" not in by_pair.get((t[0], t[1]), set())]
    pandas_pairs = {(case, contact) for case, contact, _ in pandas_found}
    extra = [r for r in rows if not r["household"] and (r["case_key"], r["contact_key"]) not in pandas_pairs]
    verdict = "agree" if not missing and not extra else "DISAGREE"
    return (
        f"sanity: pandas and DuckDB {verdict} on close venue contacts: {len(pandas_found):,} pandas "
        f"(case, contact, venue) found by DuckDB but {len(missing)}; "
        f"DuckDB close contacts outside households not in pandas: {len(extra)}"
    )


# -- the run ------------------------------------------------------------------------------------


def report(name: str, figures: dict[str, Any], target: str = "") -> None:
    counts = figures["by_category"]
    described = ", ".join(f"{n:,} {k}" for k, n in sorted(counts.items()))
    scope = "with secondary contacts" if figures["secondary"] else "close + general, no secondary"
    print(
        f"{name} ({scope}): {figures['seconds']:.2f} s for {figures['cases']:,} cases{target}; "
        f"CPU {figures['cpu_seconds']:.1f} s{' (the Python driver only)' if 'spark' in name else ''}; "
        f"peak RSS {figures['peak_rss_mib']:,.0f} MiB; "
        f"Contact objects +{figures['object_seconds']:.2f} s"
    )
    print(f"    found {described}; bad rows {figures['bad_rows']}")


def run(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir).resolve()
    if data_dir == ROOT or ROOT in data_dir.parents:
        raise SystemExit(f"--data-dir must be outside the repository ({ROOT}); got {data_dir}")
    profile = load_profile(PROFILE)
    district = ensure_district(data_dir, district_params(args))
    cases = pick_cases(district, args.cases, args.seed, profile)
    scans = district.counts["scans"]
    size = f"{district.people:,} people, {district.days} days, {scans:,} scan rows, {len(cases):,} cases"
    print(f"Contact engine benchmark — {size}")
    check = min(args.pandas_cases, len(cases))
    with tempfile.TemporaryDirectory(prefix="bench-", dir=data_dir) as folder:
        work = Path(folder)
        duck = timed_backend("duckdb", district, cases, work, check, secondary=False)
        verdict = "met" if duck["seconds"] <= 10 else "NOT met"
        report("duckdb", duck, f" [target <= 10 s: {verdict}]")
        if args.secondary_cases:
            chosen = cases[: args.secondary_cases]
            report("duckdb", timed_backend("duckdb", district, chosen, work, 0, secondary=True))
        if not args.skip_spark:
            spark_cases = cases[: args.spark_cases] if args.spark_cases else cases
            spark = timed_backend("spark", district, spark_cases, work, 0, secondary=False)
            note = (
                ""
                if len(spark_cases) == len(cases)
                else f", ONLY the first {len(spark_cases):,} of {len(cases):,} cases"
            )
            report(f"spark local[2]{note}", spark)
    loaded, per_cases, found = pandas_baseline(district, cases[:check], profile)
    scaled = loaded + per_cases * len(cases) / check
    print(f"pandas baseline: load {loaded:.1f} s + {per_cases:.1f} s for {check} cases, measured")
    print(f"pandas baseline scaled linearly to {len(cases):,} cases: {scaled:.0f} s (close venue co-presence only)")
    ratio = scaled / duck["seconds"]
    print(f"ratio pandas / duckdb: {ratio:.0f}x [target >= 20x: {'met' if ratio >= 20 else 'NOT met'}]")
    print(check_agreement(duck["close"], found) + f" (first {check} cases)")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        name, district_dir, cases_file, out_file, check, secondary = sys.argv[2:8]
        run_backend(name, Path(district_dir), Path(cases_file), Path(out_file), int(check), secondary == "1")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--data-dir", default="/tmp/bihuan-bench", help="cache of generated districts (outside the repo)"
    )
    parser.add_argument("--people", type=int, default=2_400_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=20211220)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--spark-cases", type=int, default=0, help="run Spark on only the first N cases (0: all)")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument(
        "--secondary-cases", type=int, default=10, help="also time the full run with secondary contacts on N cases"
    )
    parser.add_argument("--pandas-cases", type=int, default=20, help="cases the pandas baseline is measured on")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
