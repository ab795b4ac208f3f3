#!/bin/sh
# gen.sh regenerates the Go code for pingauthz.proto with the system protoc
# and the generator versions pinned in go.mod's tool block.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
cd "$here"
go build -o "$bin/" google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc
protoc \
	--plugin=protoc-gen-go="$bin/protoc-gen-go" \
	--plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" \
	--proto_path="$here" \
	--go_out="$here" --go_opt=paths=source_relative \
	--go-grpc_out="$here" --go-grpc_opt=paths=source_relative \
	pingauthz.proto
