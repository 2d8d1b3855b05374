#!/usr/bin/env bash
# run-unit.sh - runs each unit-test binary, then prints one summary line
# "N passed, N failed" over all of them. Exits non-zero on any failure.
set -u
pass=0
fail=0
for t in "$@"; do
    out=$("$t" 2>&1)
    rc=$?
    printf '%s\n' "$out" | grep -v '^ok ' || true
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -z "$line" ] || [ $rc -ne 0 ]; then
        echo "FAIL: $t exited $rc"
        fail=$((fail + 1))
    fi
    p=$(echo "$line" | awk '{print $1}')
    f=$(echo "$line" | awk '{print $3}')
    pass=$((pass + ${p:-0}))
    fail=$((fail + ${f:-0}))
done
echo "unit: $pass passed, $fail failed"
[ $fail -eq 0 ]
