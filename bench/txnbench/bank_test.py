#!/usr/bin/env python3
"""txnbench --workload bank (issue 14): the checker must be able to fail. The same small run
passes untouched, and fails (exit 1, one transfer lost, invariant_ok false) when
--self-test-tamper deletes one committed transfer before the check.
usage: bank_test.py TXNBENCH"""
import json
import subprocess
import sys

ARGS = ["--workload", "bank", "--transactions", "300", "--accounts", "20", "--concurrency", "4",
        "--faults", "0.1", "--json"]


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def run(txnbench, extra):
    out = subprocess.run([txnbench] + ARGS + extra, capture_output=True, text=True, timeout=100)
    try:
        report = json.loads(out.stdout)
    except json.JSONDecodeError:
        fail(f"txnbench {extra} printed no JSON (exit {out.returncode}): {out.stderr}{out.stdout}")
    return out.returncode, report


def main():
    txnbench = sys.argv[1]
    code, clean = run(txnbench, [])
    bank = clean["bank"]
    if code != 0 or not bank["invariant_ok"] or bank["lost"] != 0:
        fail(f"the untouched run should pass: exit {code}, {bank}")
    if clean["committed"] == 0 or bank["injected_faults"] == 0:
        fail(f"the untouched run committed nothing or injected no fault: {clean}")
    code, tampered = run(txnbench, ["--self-test-tamper"])
    bank = tampered["bank"]
    if code != 1:
        fail(f"a deleted committed transfer must make txnbench exit 1, not {code}")
    if bank["invariant_ok"] or bank["lost"] != 1:
        fail(f"the check missed the deleted transfer: {bank}")
    if not any("missing" in p for p in bank["problems"]):
        fail(f"no problem names the missing transfer: {bank['problems']}")
    print(f"ok: clean run passes ({clean['committed']} committed, {bank['injected_faults']} faults); "
          f"tampered run fails: {bank['problems']}")


main()
