package plugin

//go:generate sh proto/gen.sh
