#!/usr/bin/env bash
# Every program of the project, given an unreachable server, exits non-zero with a message
# that says why, and does not hang (issue 9: within serverSelectionTimeoutMS + 1 s; the
# bound here is generous because CI machines are shared: it detects hangs, it times nothing).
#   unreachable_programs.sh TXNBENCH EXAMPLE CLI SPEC_RUNNER SPECS_DIR
set -u
uri="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500"
status=0
check() {  # check NAME COMMAND...
  local name=$1; shift
  local out start end rc
  start=$(date +%s%N)
  out=$(timeout 30 "$@" 2>&1); rc=$?
  end=$(date +%s%N)
  local ms=$(( (end - start) / 1000000 ))
  if [ $rc -eq 124 ]; then echo "FAIL $name: still running after 30 s"; status=1; return; fi
  if [ $rc -eq 0 ]; then echo "FAIL $name: exit status 0 with an unreachable server"; status=1; return; fi
  if ! grep -q "127.0.0.1:1" <<<"$out"; then echo "FAIL $name: the message does not name the server: $out"; status=1; return; fi
  if [ $ms -gt 5000 ]; then echo "FAIL $name: took ${ms} ms (serverSelectionTimeoutMS is 500)"; status=1; return; fi
  echo "PASS $name: exit $rc after ${ms} ms"
}
check txnbench "$1" --uri "$uri"
check update-employee-info "$2" "$uri"
check mongowire-cli "$3" --uri "$uri" --script txn3
check mongowire-spec-runner "$4" --uri "$uri" "$5/sessions"
exit $status
