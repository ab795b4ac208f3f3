#!/bin/sh
# The flakiness check: runs every test three times while busy loops keep
# every core of the machine loaded. Tests must wait on events, channels or
# an injected clock, so they pass on a loaded machine as on an idle one.
# Arguments are passed to go test (default: -count=3 ./...).
set -eu
cd "$(dirname "$0")/.."
bin=$(mktemp -d "${TMPDIR:-/tmp}/pingauthz-flakes-XXXXXX")
go build -o "$bin/cpuburn" ./bench/cpuburn
"$bin/cpuburn" &
burn=$!
trap 'kill $burn 2>/dev/null; rm -rf "$bin"' EXIT INT TERM
if [ $# -eq 0 ]; then set -- -count=3 ./...; fi
go test "$@"
