#!/usr/bin/env bash
# Runs each cmocka test binary given as an argument, keeps going after a
# failure, and prints one closing line "N passed, N failed" (binaries).
set -u
pass=0; fail=0; failed=()
for t in "$@"; do
  echo "== $t"
  if "$t"; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$t"); fi
done
for f in "${failed[@]:-}"; do [ -n "$f" ] && echo "FAILED: $f"; done
echo "test binaries: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
