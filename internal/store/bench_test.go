package store

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/procfs"
	"github.com/pingauthz/pingauthz/sso"
)

// BenchmarkLogin measures what the server asks of the store for one login,
// as the host does it: FindUser, then Login with the decision, which consumes
// the state, applies the decision and starts a session. "repeat" logs an
// existing user in with unchanged groups; "signup" signs a new user up each
// time; "sync" logs an existing user in whose decided groups change at every
// login (one added, one removed). The company has 20 groups; a decision
// syncs 3. It runs on SQLite and, when configured, PostgreSQL.
func BenchmarkLogin(b *testing.B) {
	for _, e := range []*testEngine{sqliteTest, nil} {
		if e == nil {
			e = postgresTest(b)
		}
		b.Run(e.name, func(b *testing.B) { benchLogins(b, e) })
	}
}

func benchLogins(b *testing.B, e *testEngine) {
	decision := func(g string) *sso.Decision {
		return &sso.Decision{Allow: true, Signup: true, Company: "c1", Role: ptr("user"), SyncGroups: true,
			Groups: []string{"ML Team", "Ops", g}, Reasons: []string{"signup:whitelist_domain"}}
	}
	b.Run("repeat", func(b *testing.B) {
		s := benchStore(b, e)
		id, d := alice(), decision("G07")
		benchLogin(b, s, id, d, "first")
		i := 0
		cpu := startCPU(b)
		for b.Loop() {
			benchLogin(b, s, id, d, strconv.Itoa(i))
			i++
		}
		cpu.report(b)
	})
	b.Run("signup", func(b *testing.B) {
		s := benchStore(b, e)
		d := decision("G07")
		i := 0
		cpu := startCPU(b)
		for b.Loop() {
			id := &sso.Identity{Issuer: issuer, UserID: "sub-" + strconv.Itoa(i), Email: fmt.Sprintf("u%d@acme.com", i), Name: "U"}
			benchLogin(b, s, id, d, strconv.Itoa(i))
			i++
		}
		cpu.report(b)
	})
	b.Run("sync", func(b *testing.B) {
		s := benchStore(b, e)
		id := alice()
		decisions := make([]*sso.Decision, 20)
		for i := range decisions {
			decisions[i] = decision(fmt.Sprintf("G%02d", i))
		}
		benchLogin(b, s, id, decisions[0], "first")
		i := 0
		cpu := startCPU(b)
		for b.Loop() {
			benchLogin(b, s, id, decisions[i%len(decisions)], strconv.Itoa(i))
			i++
		}
		cpu.report(b)
	})
}

func benchStore(b *testing.B, e *testEngine) *Store {
	s := e.open(b)
	fixture(b, s)
	for i := range 20 {
		must(b, s.AddGroup(context.Background(), "c1", fmt.Sprintf("G%02d", i)))
	}
	return s
}

func benchLogin(b *testing.B, s *Store, id *sso.Identity, d *sso.Decision, state string) {
	ctx := context.Background()
	if _, err := s.FindUser(ctx, id.Issuer, id.UserID); err != nil && err != sso.ErrNotFound {
		b.Fatal(err)
	}
	st := sso.LoginState{ID: "state-" + state, Expires: time.Now().Add(time.Hour)}
	if _, _, err := s.Login(ctx, st, id, d, time.Hour); err != nil {
		b.Fatal(err)
	}
}

// cpuClock reads the CPU time (user and system) of the whole process, so a
// benchmark reports CPU per operation beside the wall time ns/op. It counts
// every goroutine of the process, including the garbage collector's, and
// not the database server's.
type cpuClock struct{ start time.Duration }

func startCPU(b *testing.B) cpuClock { return cpuClock{procfs.SelfCPUTime()} }

// report adds cpu-ns/op.
func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(procfs.SelfCPUTime()-c.start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkIdleCheck measures one check for directory changes on an idle
// SQLite directory of 100,000 groups: "watch" is what Watch does every
// DefaultWatchInterval (PRAGMA data_version, nothing changed), "snapshot"
// what the server did every 5 s before Watch (read the whole directory and
// compare it with the last one). PostgreSQL's idle watch waits on its
// socket and does no work at all.
func BenchmarkIdleCheck(b *testing.B) {
	ctx := context.Background()
	s := sqliteTest.open(b)
	d := &Dump{Format: DumpFormat, Companies: []DumpCompany{{"c1", "Acme"}}}
	for i := range 100_000 {
		d.Groups = append(d.Groups, DumpGroup{"c1", fmt.Sprintf("Group %06d", i)})
	}
	must(b, s.Import(ctx, d))
	b.Run("watch", func(b *testing.B) {
		c, err := s.r.Conn(ctx)
		must(b, err)
		defer c.Close()
		w := &watcher{s: s, changed: func(int64) {}}
		dv := int64(-1)
		must(b, w.sqliteCheck(ctx, c, &dv))
		cpu := startCPU(b)
		for b.Loop() {
			must(b, w.sqliteCheck(ctx, c, &dv))
		}
		cpu.report(b)
	})
	b.Run("snapshot", func(b *testing.B) {
		last, err := s.Snapshot(ctx)
		must(b, err)
		cpu := startCPU(b)
		for b.Loop() {
			d, err := s.Snapshot(ctx)
			must(b, err)
			if !reflect.DeepEqual(d, last) {
				b.Fatal("the directory changed")
			}
		}
		cpu.report(b)
	})
}
