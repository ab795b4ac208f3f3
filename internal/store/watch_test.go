package store

import (
	"context"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"
)

// watchTest runs a Watch on a store of its own over db, with a tick the
// test sends; its versions arrive on versions, its errors on errs.
type watchTest struct {
	tick     chan time.Time
	versions chan int64
	errs     chan error
	listens  chan uint32 // the listening backend's process id
}

func startWatch(t *testing.T, s *Store, since int64) *watchTest {
	t.Helper()
	w := &watchTest{tick: make(chan time.Time), versions: make(chan int64, 16), errs: make(chan error, 16), listens: make(chan uint32, 16)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Watch(ctx, since, WatchOptions{
			tick:     w.tick,
			OnError:  func(err error) { w.errs <- err },
			onListen: func(pid uint32) { w.listens <- pid },
		}, func(v int64) { w.versions <- v })
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return w
}

// next waits for the watch's next version, sending ticks meanwhile when
// tick is set.
func (w *watchTest) next(t *testing.T, tick bool) int64 {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		var ticks chan time.Time
		if tick {
			ticks = w.tick
		}
		select {
		case v := <-w.versions:
			return v
		case ticks <- time.Now():
		case err := <-w.errs:
			t.Logf("watch: %v", err)
		case <-timeout:
			t.Fatal("the watch saw no change within 30 s")
		}
	}
}

// TestWatch checks that a directory change made through another Store (as
// by another process) reaches a Watch, that user and session changes do
// not, and that a change made before the watch started counts.
func TestWatch(t *testing.T) { eachEngine(t, testWatch) }

func testWatch(t *testing.T, e *testEngine) {
	ctx := context.Background()
	db := e.newDB(t)
	watched, other := e.openAt(t, db), e.openAt(t, db)
	fixture(t, other)
	_, since, err := watched.VersionedSnapshot(ctx)
	must(t, err)
	must(t, other.AddGroup(ctx, "c1", "Before the watch"))

	w := startWatch(t, watched, since)
	pg := e.name == "postgres"
	if pg {
		<-w.listens
	}
	v := w.next(t, !pg)
	if v != since+1 {
		t.Errorf("first version %d, want %d: the change made before the watch", v, since+1)
	}
	steps := []struct {
		name      string
		directory bool // the step changes the directory
		op        func() error
	}{
		{"add group", true, func() error { return other.AddGroup(ctx, "c1", "New") }},
		{"sign-up and session", false, func() error {
			_, _, err := other.Login(ctx, sso.LoginState{ID: "s1", Expires: time.Now().Add(time.Hour)}, alice(),
				&sso.Decision{Allow: true, Signup: true, Company: "c1", SyncGroups: true, Groups: []string{"New"}}, time.Hour)
			return err
		}},
		{"whitelist add", true, func() error { return other.WhitelistAdd(ctx, "c2", "@other.org", false) }},
		{"change through the watched store", true, func() error { return watched.AddCompany(ctx, "c3", "Third") }},
		{"remove group", true, func() error { return other.RemoveGroup(ctx, "c1", "New") }},
	}
	for _, st := range steps {
		must(t, st.op())
		if !st.directory {
			continue
		}
		got := w.next(t, !pg)
		want, err := other.DirectoryVersion(ctx)
		must(t, err)
		if got != v+1 || got != want {
			// The version moves by one per directory change: no
			// call came for the steps that changed no directory.
			t.Errorf("%s: version %d, want %d (the stored one: %d)", st.name, got, v+1, want)
		}
		v = got
	}
}

// TestWatchPostgresReconnects drops the listening connection: the watch
// polls, sees a change made meanwhile, listens again and is notified again.
func TestWatchPostgresReconnects(t *testing.T) {
	e := postgresTest(t)
	ctx := context.Background()
	db := e.newDB(t)
	watched, other := e.openAt(t, db), e.openAt(t, db)
	fixture(t, other)
	_, since, err := watched.VersionedSnapshot(ctx)
	must(t, err)
	w := startWatch(t, watched, since)
	pid := <-w.listens

	// End the watch's connection from the server side.
	_, err = other.w.ExecContext(ctx, "SELECT pg_terminate_backend($1)", int64(pid))
	must(t, err)
	select {
	case err := <-w.errs:
		t.Logf("the watch reported: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the watch did not notice its connection ended")
	}
	must(t, other.AddGroup(ctx, "c1", "While deaf"))
	// The next tick polls, then listens again.
	select {
	case w.tick <- time.Now():
	case <-time.After(30 * time.Second):
		t.Fatal("the watch took no tick")
	}
	if v := <-w.versions; v != since+1 {
		t.Errorf("polled version %d, want %d", v, since+1)
	}
	<-w.listens
	must(t, other.AddGroup(ctx, "c1", "Heard again"))
	if v := w.next(t, false); v != since+2 {
		t.Errorf("version %d after listening again, want %d", v, since+2)
	}
}
