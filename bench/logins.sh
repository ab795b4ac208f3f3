#!/bin/sh
# Measures full logins against the real `pingauthz serve` binary and its
# plugin process: logins per second and p50/p99 latency for sign-ups and
# repeat logins, one at a time and 8 at a time, then the resident memory
# of the server and the plugin. Flags are passed to bench/loadgen
# (e.g. -logins-par 5000). Everything listens on 127.0.0.1.
set -eu
cd "$(dirname "$0")/.."
bin=$(mktemp -d "${TMPDIR:-/tmp}/pingauthz-bench-bin-XXXXXX")
trap 'rm -rf "$bin"' EXIT INT TERM
echo "building into $bin..."
go build -o "$bin/" ./cmd/pingauthz ./cmd/pingauthz-plugin ./bench/loadgen
"$bin/loadgen" -cli "$bin/pingauthz" "$@"
