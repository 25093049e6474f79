#!/usr/bin/env bash
# Runs every libFuzzer target of a build for a while, each from a copy of its
# seed corpus, and fails if any of them finds a crash.
#   usage: fuzz/run.sh BUILD_DIR SECONDS [RUNS]
# BUILD_DIR is relative to the repository root or absolute; targets are
# BUILD_DIR/fuzz/fuzz_<name>, corpora fuzz/corpus/<name>/. Crash inputs are
# kept in BUILD_DIR/fuzz/artifacts/<name>/.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="${1:?usage: run.sh BUILD_DIR SECONDS [RUNS]}"
seconds="${2:?usage: run.sh BUILD_DIR SECONDS [RUNS]}"
runs="${3:-2000000}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac

shopt -s nullglob
targets=("$build"/fuzz/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
  echo "no fuzz targets in $build/fuzz (configure with -DSLUICE_FUZZ=ON and build them)" >&2
  exit 2
fi

status=0
for bin in "${targets[@]}"; do
  [ -x "$bin" ] && [ -f "$bin" ] || continue
  name="$(basename "$bin")"
  short="${name#fuzz_}"
  work="$(mktemp -d)"
  if [ -d "$here/corpus/$short" ]; then cp -r "$here/corpus/$short/." "$work/"; fi
  artifacts="$build/fuzz/artifacts/$short"
  mkdir -p "$artifacts"
  log="$build/fuzz/$name.log"
  "$bin" "$work" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -runs="$runs" \
    -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  execs="$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')"
  if [ $rc -eq 0 ]; then
    echo "$name: ok (${execs:-?} runs, ${seconds}s budget)"
  else
    echo "$name: FAILED (exit $rc), see $log and $artifacts/"
    status=1
  fi
  rm -rf "$work"
done
exit $status
