#!/bin/sh
# Compares a pingauthz login with oauth2-proxy's on the same machine, the
# same Ping emulator and the same load program, in alternating rounds:
# oauth2-proxy v7.15.6 runs with PKCE S256, the nonce checked and an
# allowed-group check. It prints logins/s, p50, p99, CPU per login and
# resident memory for each target, and the ratios. oauth2-proxy is built
# into a temporary GOBIN; the project's go.mod is not touched. Flags are
# passed to bench/loadgen (e.g. -rounds 5 -logins 2000).
set -eu
cd "$(dirname "$0")/.."
bin=$(mktemp -d "${TMPDIR:-/tmp}/pingauthz-peer-XXXXXX")
trap 'rm -rf "$bin"' EXIT INT TERM
echo "building oauth2-proxy v7.15.6 and pingauthz into $bin..."
(cd "$bin" && GOBIN="$bin" GOFLAGS=-mod=mod go install github.com/oauth2-proxy/oauth2-proxy/v7@v7.15.6)
go build -o "$bin/" ./cmd/pingauthz ./cmd/pingauthz-plugin ./bench/loadgen
"$bin/loadgen" -cli "$bin/pingauthz" -peer "$bin/oauth2-proxy" "$@"
