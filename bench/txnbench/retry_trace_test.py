#!/usr/bin/env python3
"""txnbench --retry-trace with --jitter-seed (issue 16 "deterministic retry trace"): two runs with
the same seed against the same injected failures write the same trace, elapsed times aside; a
different seed changes the backoffs. The JSON's accounting counts the same retries.
usage: retry_trace_test.py TXNBENCH"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

# The first five inserts fail with an overload error that also aborts the transaction: the
# engine retries each insert twice (client-backpressure.md, jittered backoff), then gives up and
# with_transaction reruns the callback (TransientTransactionError, jittered backoff).
FAIL_POINT = json.dumps({
    "configureFailPoint": "failCommand", "mode": {"times": 5},
    "data": {"failCommands": ["insert"], "errorCode": 112,
             "errorLabels": ["TransientTransactionError", "SystemOverloadedError", "RetryableError"]}})


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def run(txnbench, trace, seed):
    out = subprocess.run([txnbench, "--api", "with_transaction", "--concurrency", "1", "--transactions", "30",
                          "--warmup", "0", "--json", "--jitter-seed", str(seed), "--retry-trace", str(trace),
                          "--fail-point", FAIL_POINT], capture_output=True, text=True, timeout=100)
    if out.returncode != 0:
        fail(f"txnbench exited {out.returncode}: {out.stderr}{out.stdout}")
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    for e in events:
        if e.pop("elapsed_us") < 0:
            fail(f"negative elapsed time in {e}")
    return events, json.loads(out.stdout)


def check_trace(events):
    decisions = [e["decision"] for e in events]
    if decisions.count("retry_command") != 4 or decisions.count("rerun_transaction") != 1:
        fail(f"expected 4 engine retries and 1 rerun, got {decisions}")
    for e in events:
        if e["decision"] in ("retry_command", "rerun_transaction") and e["backoff_us"] <= 0:
            fail(f"a retry without backoff: {e}")
        if e["command"] == "insert" and (e["code"] != 112 or e["codeName"] != "WriteConflict"
                                         or "SystemOverloadedError" not in e["labels"]):
            fail(f"the insert's failure is not the injected one: {e}")


def check_accounting(result):
    attempts = result["accounting"]["attempts"]
    if attempts["overload_retries"] != 4 or attempts["transient_reruns"] != 1:
        fail(f"the accounting's attempts {attempts} are not the trace's")
    time = result["accounting"]["time_us_per_txn"]
    if time["backoff"] <= 0 or time["wire"] <= 0:
        fail(f"the accounting's time {time} has no backoff or no wire time")


def main():
    txnbench = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        first, first_result = run(txnbench, Path(tmp) / "a.jsonl", 7)
        check_trace(first)
        check_accounting(first_result)
        again, _ = run(txnbench, Path(tmp) / "b.jsonl", 7)
        if again != first:
            fail(f"same seed, different traces:\n{first}\n{again}")
        other, _ = run(txnbench, Path(tmp) / "c.jsonl", 8)
        if [e["backoff_us"] for e in other] == [e["backoff_us"] for e in first]:
            fail("another jitter seed chose the same backoffs")
    print(f"PASS: {len(first)} retry events replayed exactly")


main()
