#!/usr/bin/env bash
# core/ is pure logic shared by the simulator and zabd: it may include libc
# headers for memory, strings and integers only. No I/O, no clock, no
# randomness, no third-party libraries. This script fails on any violation.
set -u
cd "$(dirname "$0")/.."
bad=0
allowed='^(stdint|stddef|stdbool|string|stdlib|assert|limits|inttypes|stdarg|stdio|errno|ctype)\.h$'
for f in core/*.c core/*.h; do
  [ -e "$f" ] || continue
  while IFS= read -r inc; do
    h=$(sed -E 's/.*[<"]([^>"]+)[>"].*/\1/' <<<"$inc")
    case "$inc" in *'"'*) continue;; esac   # project headers
    if ! grep -Eq "$allowed" <<<"$h"; then
      echo "layout: $f includes <$h>; core/ must not depend on it"; bad=1
    fi
  done < <(grep -E '^\s*#\s*include' "$f")
  if grep -nE '\b(rand|srand|random|time|clock_gettime|gettimeofday|fopen|open|read|write|fsync|socket|printf|fprintf|getenv)\s*\(' "$f" \
       | grep -vE '^\s*[0-9]+:\s*(//|\*)' | grep -vE 'snprintf|vsnprintf' ; then
    echo "layout: $f calls I/O, clock or randomness (above)"; bad=1
  fi
done
[ $bad -eq 0 ] && echo "layout: core/ is pure"
exit $bad
