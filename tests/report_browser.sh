#!/bin/sh
# Opens a generated HTML report in headless Chromium and checks what a
# reader sees after the page's script ran: the interactive diagram with a
# lane per server, arrows (or count strips), the violation line and the
# violation's client operations outlined; no script error on the console;
# then saves a screenshot. Then the same for the summary page over many
# seeds (zablab runs --report). Installs nothing: Chromium comes from the
# Makefile's Debian package list.
#
# usage: tests/report_browser.sh [OUT_DIR]   (default build/report-browser)
# Prints one "N passed, N failed" line; exits 0 when nothing failed.
set -u
OUT=${1:-build/report-browser}
BIN=${TEST_REPORT_BIN:-build/tests/test_report}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

CHROME=""
for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then CHROME=$c; break; fi
done
if [ -z "$CHROME" ]; then bad "chromium is not installed"; finish; fi
if [ ! -x "$BIN" ]; then bad "$BIN missing (make all first)"; finish; fi

rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
if "$BIN" write "$OUT" >/dev/null; then ok "report written"; else bad "report not written"; finish; fi
PAGE="file://$(cd "$OUT" && pwd)/index.html"
PROFILE=$(mktemp -d)
trap 'rm -rf "$PROFILE"' EXIT
chrome() {
    timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$PROFILE" --enable-logging=stderr --v=0 "$@" 2>>"$OUT/chromium.log"
}
chrome --dump-dom "$PAGE" >"$OUT/dom.html"
[ -s "$OUT/dom.html" ] && ok "DOM dumped" || bad "no DOM from chromium"

# The part of the DOM the script drew: the interactive SVG (#st).
awk 'BEGIN{RS="</svg>"} /<svg id="st"/ {sub(/.*<svg id="st"/, "<svg id=\"st\""); print; exit}' \
    "$OUT/dom.html" >"$OUT/st.svg"
servers=$(grep -o '"n":[0-9]*' "$OUT/index.html" | head -1 | cut -d: -f2)
count() { grep -o "$1" "$2" | wc -l | tr -d ' '; }

grep -q 'data-rendered="1"' "$OUT/dom.html" && ok "script ran to the end" || bad "script did not finish"
[ -s "$OUT/st.svg" ] && ok "interactive diagram drawn" || bad "no interactive diagram (#st)"
lanes=$(count '<g class="lane[^"]*" data-node="' "$OUT/st.svg")
[ "${servers:-0}" -gt 0 ] && [ "$lanes" -eq "$servers" ] && ok "a lane per server ($lanes)" \
    || bad "lanes: $lanes for ${servers:-?} servers"
arrows=$(count 'class="arrow' "$OUT/st.svg")
strips=$(count 'class="agg' "$OUT/st.svg")
[ $((arrows + strips)) -gt 0 ] && ok "messages drawn ($arrows arrows, $strips count strips)" || bad "no messages drawn"
[ "$(count 'class="st st' "$OUT/st.svg")" -gt 0 ] && ok "state bands" || bad "no state bands"
grep -q '<g class="violation"><line' "$OUT/st.svg" && ok "violation line in view" || bad "violation not shown"
[ "$(count 'class="op os[0-9] viol"' "$OUT/st.svg")" -ge 1 ] && ok "violation ops outlined" \
    || bad "violation ops not outlined"
grep -q 'class="lane lane-hot"' "$OUT/st.svg" && ok "violation servers marked" || bad "violation servers not marked"
grep -q 'id="st-range">[0-9]' "$OUT/dom.html" && ok "time range shown" || bad "no time range"
if grep -E 'Uncaught|SyntaxError|TypeError|ReferenceError' "$OUT/chromium.log" >/dev/null; then
    bad "script errors on the console (see $OUT/chromium.log)"
else
    ok "no script errors"
fi
if grep -E 'http://|https://|<link' "$OUT/index.html" >/dev/null; then bad "page references the outside"; else ok "self-contained"; fi

# Zoomed in to 4 ms before the violation (the page takes its view from the
# address): the count strips give way to individual arrows.
vt=$(grep -o '"viol":{"t":[0-9]*' "$OUT/index.html" | grep -o '[0-9]*$')
if [ -n "$vt" ] && [ "$vt" -gt 4000 ]; then
    chrome --dump-dom "$PAGE#view=$((vt - 4000))-$vt" >"$OUT/dom-zoom.html"
    awk 'BEGIN{RS="</svg>"} /<svg id="st"/ {sub(/.*<svg id="st"/, "<svg id=\"st\""); print; exit}' \
        "$OUT/dom-zoom.html" >"$OUT/st-zoom.svg"
    za=$(count 'class="arrow' "$OUT/st-zoom.svg")
    zs=$(count 'class="agg' "$OUT/st-zoom.svg")
    [ "$za" -gt 0 ] && [ "$zs" -eq 0 ] && ok "zoomed in: $za arrows, no count strips" \
        || bad "zoomed in: $za arrows, $zs count strips"
    grep -q '<title>[A-Z]* *s[0-9] → s[0-9]' "$OUT/st-zoom.svg" && ok "arrows carry their message fields" \
        || bad "arrows have no hover text"
else
    bad "no violation time in the page data"
fi

chrome --screenshot="$OUT/screenshot.png" --window-size=1400,900 "$PAGE" >/dev/null
size=$(wc -c <"$OUT/screenshot.png" 2>/dev/null || echo 0)
[ "$size" -gt 20000 ] && ok "screenshot $OUT/screenshot.png ($size bytes)" || bad "no screenshot"

# Client lanes (tests/data/report/clients.jsonl: 2 simulated clients, 11
# exchanges, 5 session bands), seen in the window 1.25s-2.7s.
if "$BIN" write-clients "$OUT/clients" >/dev/null; then
    CPAGE="file://$(cd "$OUT/clients" && pwd)/index.html"
    chrome --dump-dom "$CPAGE#view=1250000-2700000" >"$OUT/clients-dom.html"
    awk 'BEGIN{RS="</svg>"} /<svg id="st"/ {sub(/.*<svg id="st"/, "<svg id=\"st\""); print; exit}' \
        "$OUT/clients-dom.html" >"$OUT/clients-st.svg"
    cl=$(count '<g class="lane client-lane" data-client="' "$OUT/clients-st.svg")
    [ "$cl" -eq 2 ] && ok "a lane per client ($cl)" || bad "client lanes: $cl, want 2"
    rq=$(count 'class="arrow mc5 creq"' "$OUT/clients-st.svg")
    rp=$(count 'class="arrow mc5 crep"' "$OUT/clients-st.svg")
    [ "$rq" -ge 8 ] && [ "$rp" -ge 7 ] && ok "client request/answer arrows ($rq/$rp)" \
        || bad "client arrows: $rq requests, $rp answers"
    cs=$(count '<rect class="cs cs' "$OUT/clients-st.svg")
    [ "$cs" -eq 5 ] && ok "client session bands ($cs)" || bad "client session bands: $cs, want 5"
    grep -q 'getData  c1 ↔ s1' "$OUT/clients-st.svg" && ok "client arrows carry their fields" \
        || bad "client arrows have no hover text"
    chrome --screenshot="$OUT/clients-screenshot.png" --window-size=1400,700 "$CPAGE#view=1250000-2700000" >/dev/null
else
    bad "client report not written"
fi

# The summary page over many seeds (zablab runs --report): a database of
# known runs (tests/test_runs_report.c: alpha 10 runs, 2 fail + 1 error;
# beta 5 runs, 1 fail) rendered and read back from the browser's DOM.
RUNS_BIN=${TEST_RUNS_REPORT_BIN:-build/tests/test_runs_report}
if [ -x "$RUNS_BIN" ] && "$RUNS_BIN" write "$OUT/runs" >/dev/null; then
    ok "runs page written"
    RPAGE="file://$(cd "$OUT/runs" && pwd)/index.html"
    chrome --dump-dom "$RPAGE" >"$OUT/runs-dom.html"
    grep -q 'data-rendered="1"' "$OUT/runs-dom.html" && ok "runs page: script ran" || bad "runs page: script did not finish"
    rows=$(count '<tr class="sc-row' "$OUT/runs-dom.html")
    [ "$rows" -eq 2 ] && ok "runs page: a row per scenario ($rows)" || bad "runs page: $rows scenario rows, want 2"
    grep -q 'data-total="runs">15<' "$OUT/runs-dom.html" && ok "runs page: 15 runs counted" || bad "runs page: total runs"
    fails=$(count '<tr class="failure"' "$OUT/runs-dom.html")
    [ "$fails" -eq 4 ] && ok "runs page: 4 failing runs listed" || bad "runs page: $fails failing runs listed, want 4"
    grep -q '>zablab replay scenarios/alpha.scn --seed 3</code>' "$OUT/runs-dom.html" \
        && ok "runs page: replay command" || bad "runs page: no replay command"
    [ "$(count '<svg class="dist"' "$OUT/runs-dom.html")" -ge 4 ] && ok "runs page: metric distributions drawn" \
        || bad "runs page: metric distributions missing"
    if grep -E 'http://|https://|<link|src=' "$OUT/runs/index.html" >/dev/null; then
        bad "runs page references the outside"
    else
        ok "runs page self-contained"
    fi
    if grep -E 'Uncaught|SyntaxError|TypeError|ReferenceError' "$OUT/chromium.log" >/dev/null; then
        bad "script errors on the console (see $OUT/chromium.log)"
    else
        ok "runs page: no script errors"
    fi
    chrome --screenshot="$OUT/runs-screenshot.png" --window-size=1400,1200 "$RPAGE" >/dev/null
    size=$(wc -c <"$OUT/runs-screenshot.png" 2>/dev/null || echo 0)
    [ "$size" -gt 20000 ] && ok "runs screenshot $OUT/runs-screenshot.png ($size bytes)" || bad "no runs screenshot"
else
    bad "runs page not written ($RUNS_BIN)"
fi
finish
