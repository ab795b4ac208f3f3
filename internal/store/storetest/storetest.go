// Package storetest gives tests a PostgreSQL database of their own: a new
// schema on the server that PINGAUTHZ_TEST_POSTGRES names, dropped when the
// test ends. Without that variable the tests that need PostgreSQL skip,
// saying how to run them; with PINGAUTHZ_REQUIRE_POSTGRES=1 (CI) they fail.
// It is for tests only.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

const (
	// EnvURL names the PostgreSQL server the tests use, as the URL of a
	// database they may create schemas in, e.g.
	// postgres://pingauthz@127.0.0.1:55432/pingauthz_test?sslmode=disable.
	// .ci/run starts a throwaway server and sets it.
	EnvURL = "PINGAUTHZ_TEST_POSTGRES"
	// EnvRequire, set to 1, makes a missing PostgreSQL fail the tests
	// instead of skipping them.
	EnvRequire = "PINGAUTHZ_REQUIRE_POSTGRES"
)

// NeedPostgres returns the URL of the test server. It skips the test when
// none is configured, or fails it when one is required.
func NeedPostgres(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("%s=1 but %s is not set: start PostgreSQL as .ci/run does", EnvRequire, EnvURL)
		}
		tb.Skipf("PostgreSQL tests skipped: set %s to the URL of a database they may create schemas in, "+
			"e.g. start a throwaway cluster as .ci/run does (initdb, pg_ctl start) and run "+
			"%s='postgres://USER@127.0.0.1:PORT/DB?sslmode=disable' go test ./...", EnvURL, EnvURL)
	}
	return base
}

// PostgresURL returns the URL of a new, empty schema (the URL's
// search_path) on the test server, dropped when the test ends. It skips or
// fails the test as NeedPostgres does.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := NeedPostgres(tb)
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	exec := func(q string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, q)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("storetest: creating a schema on %s: %v", EnvURL, err)
	}
	tb.Cleanup(func() {
		if err := exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("storetest: dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("storetest: %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
