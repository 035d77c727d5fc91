#!/usr/bin/env python3
"""txnbench --mode both --report --csv --json: the HTML page is well-formed XML with inline SVG
plots and no script, the CSV has its header and per-second rows for both modes, and the JSON
reports the transaction's overhead (one worker: exactly one more round trip, commitTransaction).
usage: report_test.py TXNBENCH"""
import csv
import json
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

CSV_HEADER = ("driver,mode,second_end_s,interval_s,phase,commits,tps,ops,ops_per_s,aborts,retries,"
              "latency_count,p50_us,p99_us,max_us").split(",")
SVG = "{http://www.w3.org/2000/svg}"


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def check_html(path):
    text = path.read_text()
    if re.search(r"<script|javascript:|\son[a-z]+\s*=", text, re.I):
        fail("the report holds a script or an event handler")
    try:
        root = ET.fromstring(text.split("\n", 1)[1])  # after <!DOCTYPE html>
    except ET.ParseError as e:
        fail(f"the report is not well-formed: {e}")
    svgs = list(root.iter(SVG + "svg"))
    if len(svgs) < 6:
        fail(f"{len(svgs)} SVG plots, expected at least 6")
    lines = [p for p in root.iter(SVG + "polyline") if len(p.get("points", "").split()) >= 2]
    if len(lines) < 4:
        fail("the histogram, CDF and throughput plots have no drawn series")
    for title in ("Parameters", "What a transaction costs", "Latency", "Throughput", "Retries", "Round trips and bytes"):
        if not any((h.text or "") == title or (h.text or "").startswith(title) for h in root.iter("h2")):
            fail(f"no section '{title}'")


def check_csv(path):
    with path.open() as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != CSV_HEADER:
        fail(f"CSV header is {rows[:1]}")
    seen = {(r[0], r[1]) for r in rows[1:]}
    if seen != {("mongowire", "txn"), ("mongowire", "plain")}:
        fail(f"CSV runs are {seen}")
    for r in rows[1:]:
        if len(r) != len(CSV_HEADER) or r[4] not in ("warm-up", "measure", "stop"):
            fail(f"bad CSV row {r}")
        [float(v) for v in r[2:4] + r[5:]]
    if sum(int(r[5]) for r in rows[1:] if r[1] == "txn") < 200:
        fail("the per-second commits of the txn run add up to fewer than the measured transactions")


def check_json(text):
    d = json.loads(text)
    if d["mode"] != "txn" or d["plain"]["mode"] != "plain":
        fail("JSON: the txn run is not at the top with the plain run under 'plain'")
    overhead = d["txn_overhead"]["mongowire"]
    for key in ("tps", "p50_us", "p99_us", "mean_us", "round_trips_per_txn", "bytes_per_txn", "client_cpu_us_per_txn"):
        if set(overhead[key]) != {"txn", "plain", "difference", "ratio"}:
            fail(f"JSON: overhead {key} is {overhead[key]}")
    trips = overhead["round_trips_per_txn"]
    if abs(trips["difference"] - 1) > 1e-9 or trips["plain"] != 4:
        fail(f"JSON: one worker, 4 ops: plain 4 round trips, a transaction one more; got {trips}")
    if overhead["bytes_per_txn"]["difference"] <= 0:
        fail("JSON: a transaction sends no more bytes than plain writes")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        report, table = Path(tmp) / "report.html", Path(tmp) / "seconds.csv"
        out = subprocess.run([sys.argv[1], "--mode", "both", "--transactions", "200", "--warmup", "0.2",
                              "--concurrency", "1", "--json", "--report", str(report), "--csv", str(table)],
                             capture_output=True, text=True, timeout=100)
        if out.returncode != 0:
            fail(f"txnbench exited {out.returncode}: {out.stderr}{out.stdout}")
        check_html(report)
        check_csv(table)
        check_json(out.stdout)
    print("PASS: report, CSV and overhead JSON")


main()
