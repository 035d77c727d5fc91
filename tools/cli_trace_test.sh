#!/usr/bin/env bash
# mongowire-cli --trace prints every frame with its transaction fields explained (each with its
# spec section), and never the password of the connection string.
#   cli_trace_test.sh MONGOWIRE_TESTD MONGOWIRE_CLI
set -u
testd=$1 cli=$2
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
start_testd() {  # start_testd NAME [OPTIONS...]: sets $port (not in a subshell: $pids must keep the pid)
  local name=$1; shift
  "$testd" --port 0 "$@" >"$dir/$name.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q "listening on" "$dir/$name.out" && break
    sleep 0.1
  done
  port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$dir/$name.out" | head -1)
}
expect() {  # expect FILE TEXT
  grep -qF -- "$2" "$1" || fail "$(basename "$1"): no '$2' in the trace"
}

start_testd plain
[ -n "$port" ] || fail "mongowire-testd did not start"
"$cli" --trace --uri "mongodb://127.0.0.1:$port/?replicaSet=rs0" --script txn3 >"$dir/txn3.txt" || fail "txn3 failed"
expect "$dir/txn3.txt" "opCode        2013 (OP_MSG)"
expect "$dir/txn3.txt" "- startTransaction = true"
expect "$dir/txn3.txt" 'transactions.md "Behavior of the startTransaction field"'
expect "$dir/txn3.txt" 'transactions.md "Behavior of the autocommit field"'
expect "$dir/txn3.txt" 'transactions.md "Transactions Wire Protocol"'
expect "$dir/txn3.txt" 'transactions.md "Behavior of the readConcern field"'
expect "$dir/txn3.txt" 'driver-sessions.md "Sending the session ID to the server on all commands"'
expect "$dir/txn3.txt" "- commitTransaction = 1"
expect "$dir/txn3.txt" 'transactions.md "Behavior of the writeConcern field"'
expect "$dir/txn3.txt" 'driver-sessions.md "Receiving the current cluster time"'
expect "$dir/txn3.txt" 'identifier "documents"'
"$cli" --trace --uri "mongodb://127.0.0.1:$port/?replicaSet=rs0" --script abort >"$dir/abort.txt" || fail "abort failed"
expect "$dir/abort.txt" 'transactions.md "abortTransaction"'

secret='pw-3xq!secret'
start_testd auth --auth --user "ada:$secret"
[ -n "$port" ] || fail "mongowire-testd --auth did not start"
"$cli" --trace --uri "mongodb://ada:$secret@127.0.0.1:$port/?replicaSet=rs0" --script ping >"$dir/auth.txt" 2>&1
expect "$dir/auth.txt" "mongodb://ada:****@127.0.0.1:$port/"
if grep -qF -- "$secret" "$dir/auth.txt"; then fail "the password appears in the trace"; fi
echo "PASS: $(grep -c '^>>> sent' "$dir/txn3.txt") frames sent in txn3, annotated; the password is masked"
