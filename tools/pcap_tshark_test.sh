#!/usr/bin/env bash
# mongowire-cli --pcap writes a capture that Wireshark's MongoDB dissector decodes cleanly:
# runs the txn3 script (and one command above 65495 bytes, split into TCP segments) against
# mongowire-testd, decodes the file with tshark (IP and TCP checksums verified) and fails on
# any malformed packet, warning or error mark, or when the commands are not seen as OP_MSG.
#   pcap_tshark_test.sh MONGOWIRE_TESTD MONGOWIRE_CLI
# Exit 77 (skipped) when tshark is not installed.
set -u
testd=$1 cli=$2
command -v tshark >/dev/null || { echo "SKIP: tshark is not installed (Debian package tshark)"; exit 77; }
dir=$(mktemp -d)
"$testd" --port 0 >"$dir/testd.out" 2>&1 &
testd_pid=$!
trap 'kill "$testd_pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  grep -q "listening on" "$dir/testd.out" && break
  sleep 0.1
done
port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$dir/testd.out" | head -1)
[ -n "$port" ] || { echo "FAIL: mongowire-testd did not start: $(cat "$dir/testd.out")"; exit 1; }
uri="mongodb://127.0.0.1:$port/?replicaSet=rs0"
fail() { echo "FAIL: $*"; exit 1; }

"$cli" --uri "$uri" --script txn3 --pcap "$dir/txn3.pcap" || fail "mongowire-cli --script txn3 failed"
big=$(head -c 70000 /dev/zero | tr '\0' x)
"$cli" --uri "$uri" --pcap "$dir/big.pcap" \
  --command "{\"insert\": \"big\", \"documents\": [{\"_id\": 1, \"s\": \"$big\"}]}" >/dev/null ||
  fail "mongowire-cli --command (a 70 kB insert) failed"

decode() {  # decode FILE: the verbose dissection, every checksum verified
  tshark -r "$1" -V -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -d "tcp.port==$port,mongo" 2>"$dir/tshark.err" ||
    fail "tshark cannot read $1: $(cat "$dir/tshark.err")"
}
check_clean() {  # check_clean NAME DECODED
  local marks
  marks=$(grep -E 'Malformed|\[Expert Info \((Warning|Error)|incorrect, should be|Bad checksum|Status: Bad' <<<"$2" | sort | uniq -c)
  [ -z "$marks" ] || fail "$1: tshark marks: $marks"
}

txn3=$(decode "$dir/txn3.pcap")
check_clean txn3 "$txn3"
for command in insert update delete commitTransaction; do
  grep -q "Element: $command\$" <<<"$txn3" || fail "txn3: the MongoDB dissector did not see the $command command"
done
grep -q "Extensible Message Format (2013)" <<<"$txn3" || fail "txn3: no OP_MSG (opcode 2013) decoded"
grep -q "\[SYN\]" <(tshark -r "$dir/txn3.pcap" -d "tcp.port==$port,mongo" 2>/dev/null) || fail "txn3: no TCP handshake"

big_decoded=$(decode "$dir/big.pcap")
check_clean big "$big_decoded"
grep -q "Reassembled TCP Segments" <<<"$big_decoded" || fail "big: the 70 kB frame was not reassembled from TCP segments"
grep -q "Element: insert\$" <<<"$big_decoded" || fail "big: the reassembled insert was not decoded"
echo "PASS: $(grep -c '^Frame ' <<<"$txn3") + $(grep -c '^Frame ' <<<"$big_decoded") packets decoded cleanly by $(tshark --version 2>/dev/null | head -1)"
