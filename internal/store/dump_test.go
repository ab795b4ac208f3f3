package store

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"
)

// TestExportImport moves a directory between every pair of engines: the
// copy exports the same dump, its users keep their ids, groups and
// sessions, and a login state consumed before the move stays consumed.
func TestExportImport(t *testing.T) {
	engine := map[string]func(t *testing.T) *testEngine{
		"sqlite":   func(*testing.T) *testEngine { return sqliteTest },
		"postgres": func(t *testing.T) *testEngine { return postgresTest(t) },
	}
	for _, from := range []string{"sqlite", "postgres"} {
		for _, to := range []string{"sqlite", "postgres"} {
			t.Run(from+" to "+to, func(t *testing.T) { testExportImport(t, engine[from](t), engine[to](t)) })
		}
	}
}

func testExportImport(t *testing.T, from, to *testEngine) {
	ctx := context.Background()
	src := from.open(t)
	fixture(t, src)
	must(t, src.AddCompany(ctx, "c3", "Empty"))
	must(t, src.WhitelistAdd(ctx, "c1", "@acme.com", false))
	must(t, src.WhitelistAdd(ctx, "c1", "boss@acme.com", true))
	aliceID := existingAlice(t, src) // an SSO and an admin membership
	id := alice()
	id.Groups = []string{"Ops", "Elsewhere"}
	_, token, err := src.Login(ctx, sso.LoginState{ID: "used", Expires: time.Now().Add(time.Hour)}, id,
		&sso.Decision{Allow: true, Reasons: []string{"role:kept"}}, time.Hour)
	must(t, err)
	signUp(t, src, "bob", "c2")

	dump, err := src.Export(ctx, true)
	must(t, err)
	// Through JSON, as the admin command moves it.
	raw, err := json.Marshal(dump)
	must(t, err)
	var read Dump
	must(t, json.Unmarshal(raw, &read))

	dst := to.open(t)
	must(t, dst.Import(ctx, &read))
	again, err := dst.Export(ctx, true)
	must(t, err)
	if !reflect.DeepEqual(again, dump) {
		t.Errorf("the copy exports\n%+v\nwant\n%+v", again, dump)
	}
	a, err := dst.SessionAccount(ctx, token)
	must(t, err)
	if a.ID != aliceID || !reflect.DeepEqual(a.Groups, []string{"ML Team", "Ops"}) ||
		!reflect.DeepEqual(a.PingGroups, id.Groups) || !reflect.DeepEqual(a.Reasons, []string{"role:kept"}) {
		t.Errorf("session on the copy: %+v", a)
	}
	if _, _, err := dst.Login(ctx, sso.LoginState{ID: "used", Expires: time.Now().Add(time.Hour)}, alice(),
		&sso.Decision{Allow: true}, time.Hour); err != sso.ErrReplayed {
		t.Errorf("a state consumed before the move: %v, want sso.ErrReplayed", err)
	}
	src1, err := src.Snapshot(ctx)
	must(t, err)
	dst1, err := dst.Snapshot(ctx)
	must(t, err)
	if !reflect.DeepEqual(src1, dst1) {
		t.Errorf("snapshots differ:\n%+v\n%+v", src1, dst1)
	}

	// Into a directory that is not empty: refused, nothing changes.
	before := dump2(t, dst)
	if err := dst.Import(ctx, &read); err == nil || !strings.Contains(err.Error(), "already holds a directory") {
		t.Errorf("import into a full directory: %v", err)
	}
	if after := dump2(t, dst); after != before {
		t.Error("a refused import changed the database")
	}

	noSessions, err := src.Export(ctx, false)
	must(t, err)
	if noSessions.Sessions != nil || len(noSessions.Users) != 2 {
		t.Errorf("export without sessions: %d sessions, %d users", len(noSessions.Sessions), len(noSessions.Users))
	}
}

// TestImportFailureChangesNothing imports a dump that breaks half-way.
func TestImportFailureChangesNothing(t *testing.T) { eachEngine(t, testImportFailureChangesNothing) }

func testImportFailureChangesNothing(t *testing.T, e *testEngine) {
	ctx := context.Background()
	s := e.open(t)
	before := dump2(t, s)
	for _, d := range []*Dump{
		{Format: "other"},
		{Format: DumpFormat, Companies: []DumpCompany{{"c1", "Acme"}}, Groups: []DumpGroup{{"c1", "G"}},
			Users: []DumpUser{{ID: "u1", Issuer: "i", UserID: "u", Company: "nope", Role: "user"}}},
		{Format: DumpFormat, Companies: []DumpCompany{{"c1", "Acme"}},
			Memberships: []DumpMembership{{User: "u1", Company: "c1", Group: "missing", Source: "sso"}}},
	} {
		if err := s.Import(ctx, d); err == nil || !strings.HasPrefix(err.Error(), "store: import") {
			t.Errorf("import of a broken dump: %v, want a store: import error", err)
		}
		if after := dump2(t, s); after != before {
			t.Errorf("a failed import changed the database")
		}
	}
}

// dump2 is dump without the directory version, which a transaction that
// changed nothing else may leave alone or not.
func dump2(t testing.TB, s *Store) string {
	t.Helper()
	var out []string
	skip := false
	for _, l := range strings.SplitAfter(dump(t, s), "\n") {
		if strings.HasPrefix(l, "table ") {
			skip = l == "table directory_version\n"
		}
		if !skip {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}
