#!/usr/bin/env bash
# The main job, end to end, on the embedded S3 server: what `make demo` runs.
set -euo pipefail

BIN="${BIN:-.venv/bin}"
WORK="${WORK:-.demo}"
S3C="$BIN/s3c"

rm -rf "$WORK"
mkdir -p "$WORK/in/reports" "$WORK/out"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "s3c $("$S3C" --version | cut -d' ' -f3): the activities a designer can use"
show "$S3C" descriptors list

step "Start the embedded S3 server (SeaweedFS on 127.0.0.1) with a bucket 'demo'"
"$S3C" local --dir "$WORK/data" --bucket demo >"$WORK/local.out" 2>"$WORK/local.err" &
SERVER=$!
stop_server() {
  if kill -0 "$SERVER" 2>/dev/null; then
    kill -INT "$SERVER" && wait "$SERVER" || true
  fi
}
trap stop_server EXIT
for _ in $(seq 1 240); do
  grep -q '^connection: ' "$WORK/local.out" 2>/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/local.err"; exit 1; }
  sleep 0.25
done
grep -q '^connection: ' "$WORK/local.out" || { echo "server did not start"; cat "$WORK/local.err"; exit 1; }
sed -n 's/^connection: //p' "$WORK/local.out" >"$WORK/connection.json"
cat "$WORK/local.out"
CONN=(-c "$WORK/connection.json")

step "Test the connection"
show "$S3C" connection test "${CONN[@]}" --bucket demo

step "Put a few files (one document per file; the key is folder + file name)"
printf 'Hello from s3-connector!\n' >"$WORK/in/hello.txt"
printf '{"orders": 42, "status": "ok"}\n' >"$WORK/in/reports/summary.json"
head -c 65536 /dev/urandom >"$WORK/in/blob.bin"
show "$S3C" run put_object "${CONN[@]}" -p bucket=demo -p folder=inbox --input "$WORK/in"

step "Put one file encrypted with SSE-C (customer-provided key)"
SSE_KEY=$("$BIN/python" -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
printf 'name,salary\nada,100\n' >"$WORK/payroll.csv"
echo "\$ $S3C run put_object ${CONN[*]} -p bucket=demo -p key=secret/payroll.csv -p sse_c_key=**** --input $WORK/payroll.csv"
"$S3C" run put_object "${CONN[@]}" -p bucket=demo -p key=secret/payroll.csv \
  -p sse_c_key="$SSE_KEY" --input "$WORK/payroll.csv"

step "List them"
show "$S3C" run list_objects "${CONN[@]}" -p bucket=demo

step "Get them back: inline text and JSON, a binary file to disk, the SSE-C object with its key"
show "$S3C" run get_object "${CONN[@]}" -p bucket=demo -p key=inbox/hello.txt
show "$S3C" run get_object "${CONN[@]}" -p bucket=demo -p key=inbox/reports/summary.json
show "$S3C" run get_object "${CONN[@]}" -p bucket=demo -p key=inbox/blob.bin --output "$WORK/out/"
cmp "$WORK/in/blob.bin" "$WORK/out/inbox/blob.bin" && echo "blob.bin came back byte-identical"
echo "\$ $S3C run get_object ${CONN[*]} -p bucket=demo -p key=secret/payroll.csv -p sse_c_key=****"
"$S3C" run get_object "${CONN[@]}" -p bucket=demo -p key=secret/payroll.csv -p sse_c_key="$SSE_KEY"

step "Without its key, the SSE-C object is refused (exit code 2)"
set +e
show "$S3C" run get_object "${CONN[@]}" -p bucket=demo -p key=secret/payroll.csv
code=$?
set -e
[ "$code" -eq 2 ] || { echo "expected exit code 2, got $code"; exit 1; }

step "Stop the server"
stop_server
cat "$WORK/local.err"
trap - EXIT
echo "demo finished"
