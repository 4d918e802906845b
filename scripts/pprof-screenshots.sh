#!/usr/bin/env bash
# Regenerates the README's pictures of pprof's web UI on `gotimer-lab leak`'s live endpoint:
#   docs/pprof-graph.png   the graph (/ui/graph; /ui/ in Go 1.19's pprof)
#   docs/pprof-source.png  the source view (/ui/source): the Rust line that keeps creating timers
# It runs the leak, starts `go tool pprof -http` from the repository root (so the source view finds
# lab/src/leak.rs), and has headless Chromium take the screenshots. Needs Go, graphviz (`dot`) and
# Chromium. Run it from anywhere:
#   scripts/pprof-screenshots.sh
# Settings: GO=/path/to/go (default: `go` on PATH, else /usr/lib/go-1.19/bin/go), CHROMIUM (default
# chromium), OUT (default docs), LEAK_SECONDS (how long the leak runs before pprof fetches; default 5).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-$(command -v go || echo /usr/lib/go-1.19/bin/go)}
CHROMIUM=${CHROMIUM:-chromium}
OUT=${OUT:-docs}
LEAK_SECONDS=${LEAK_SECONDS:-5}
export GOTOOLCHAIN=local

die() { echo "pprof-screenshots: $*" >&2; exit 1; }
"$GO" version >/dev/null 2>&1 || die "no Go at $GO (set GO=/path/to/go)"
command -v dot >/dev/null || die "no graphviz: pprof's graph needs dot (apt-get install graphviz)"
command -v "$CHROMIUM" >/dev/null || die "no $CHROMIUM (apt-get install chromium, or set CHROMIUM)"
command -v curl >/dev/null || die "no curl"

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Waits up to $2 seconds for a line matching the regex $3 in file $1, and prints the first one.
wait_for_line() {
    local file=$1 seconds=$2 pattern=$3 line
    for _ in $(seq $((seconds * 10))); do
        if line=$(grep -m1 -E "$pattern" "$file" 2>/dev/null); then
            echo "$line"
            return 0
        fi
        sleep 0.1
    done
    echo "pprof-screenshots: nothing matching '$pattern' in $file after ${seconds}s:" >&2
    cat "$file" >&2
    return 1
}

cargo build --release -p gotimer-lab
# The leak runs long enough for pprof and the browser; the script stops it when done.
target/release/gotimer-lab --out "$work/lab" leak --seconds 600 --pprof 127.0.0.1:0 --no-go \
    >"$work/leak.log" 2>&1 &
pids+=($!)
url=$(wait_for_line "$work/leak.log" 60 '^serving http://' | sed -E 's|^serving (http://[^/]*)/.*|\1/debug/pprof/timers|')
sleep "$LEAK_SECONDS" # the leak's count grows; the picture shows a few seconds' worth

# pprof's own binary (Go 1.25+ build it on first use), run directly so that stopping it stops pprof.
# `-http=127.0.0.1:` lets pprof pick a free port; it prints the address it serves.
pprof=$("$GO" tool -n pprof)
HOME="$work" PPROF_TMPDIR="$work/pprof" XDG_CONFIG_HOME="$work/config" \
    "$pprof" -http=127.0.0.1: -no_browser "$url" >"$work/pprof.log" 2>&1 &
pids+=($!)
ui=$(wait_for_line "$work/pprof.log" 60 '^Serving web UI on ' | sed 's/^Serving web UI on //')
for _ in $(seq 100); do curl -sf -o /dev/null "$ui/ui/top" && break; sleep 0.1; done

# Go 1.19's pprof draws the graph at /ui/ and has no /ui/graph; newer ones moved it there.
graph=$ui/ui/graph
[ "$(curl -s -o /dev/null -w '%{http_code}' "$graph")" = 404 ] && graph=$ui/ui/

shoot() { # URL FILE WIDTH,HEIGHT
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --hide-scrollbars --user-data-dir="$work/chromium" --window-size="$3" \
        --virtual-time-budget=3000 --screenshot="$2" "$1" >"$work/chromium.log" 2>&1 \
        || { cat "$work/chromium.log" >&2; die "chromium failed on $1"; }
    [ -s "$2" ] || die "no screenshot of $1"
    echo "$2: $1"
}
mkdir -p "$OUT"
shoot "$graph" "$OUT/pprof-graph.png" 1000,560
shoot "$ui/ui/source" "$OUT/pprof-source.png" 1000,560

if grep -v -E '^(Fetching profile over HTTP from |Saved profile in |Serving web UI on )' "$work/pprof.log" | grep -q .; then
    cat "$work/pprof.log" >&2
    die "pprof logged more than its progress lines"
fi
echo "pprof: $("$GO" version)"
grep -E '^leaking: ' "$work/leak.log"
