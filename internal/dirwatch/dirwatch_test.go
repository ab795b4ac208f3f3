package dirwatch

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// timers hands out the watcher's quiet-period timers to the test, which
// fires them: the test, not the clock, decides when a burst is over.
type timers chan chan time.Time

func (ts timers) after(time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	ts <- c
	return c
}

const wait = 30 * time.Second

func start(t *testing.T, dir string) (*Watcher, timers) {
	t.Helper()
	ts := make(timers, 1000)
	w, err := New(dir, Options{After: ts.after})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w, ts
}

// settle fires the newest quiet-period timer until the watcher reports the
// change; a timer superseded by a later event does nothing when fired.
func settle(t *testing.T, w *Watcher, ts timers) {
	t.Helper()
	var current chan time.Time
	select {
	case current = <-ts:
	case <-time.After(wait):
		t.Fatal("no file event seen")
	}
	for {
		for more := true; more; {
			select {
			case c := <-ts:
				current = c
			default:
				more = false
			}
		}
		current <- time.Now()
		select {
		case <-w.Changes():
			return
		case c := <-ts:
			current = c
		case <-time.After(wait):
			t.Fatal("no change reported")
		}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBurstIsOneChange(t *testing.T) {
	dir := t.TempDir()
	w, ts := start(t, dir)
	for i := range 10 {
		write(t, filepath.Join(dir, "p.rego"), string(rune('a'+i)))
	}
	// Every event restarts the quiet period; timers it replaced do nothing.
	var all []chan time.Time
	all = append(all, <-ts)
	for len(ts) > 0 {
		all = append(all, <-ts)
	}
	for _, c := range all[:len(all)-1] {
		c <- time.Now()
	}
	if len(w.Changes()) != 0 {
		t.Fatal("a superseded timer reported a change")
	}
	all[len(all)-1] <- time.Now()
	settleRest := func() {
		select {
		case <-w.Changes():
		case c := <-ts: // events of the burst still arriving
			ts <- c
			settle(t, w, ts)
		case <-time.After(wait):
			t.Fatal("no change reported")
		}
	}
	settleRest()
}

func TestConfigMapSwap(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "..2030_01_01", "extend.rego"), "v1")
	mustSymlink(t, "..2030_01_01", filepath.Join(dir, "..data"))
	mustSymlink(t, filepath.Join("..data", "extend.rego"), filepath.Join(dir, "extend.rego"))
	w, ts := start(t, dir)

	// What the kubelet does: a new timestamped directory, a temporary
	// symlink renamed over ..data, the old directory removed.
	write(t, filepath.Join(dir, "..2030_01_02", "extend.rego"), "v2")
	mustSymlink(t, "..2030_01_02", filepath.Join(dir, "..data_tmp"))
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "..2030_01_01")); err != nil {
		t.Fatal(err)
	}
	settle(t, w, ts)
	if b, err := os.ReadFile(filepath.Join(dir, "extend.rego")); err != nil || string(b) != "v2" {
		t.Fatalf("extend.rego = %q, %v", b, err)
	}
}

func TestFilesAddedLater(t *testing.T) {
	dir := t.TempDir()
	w, ts := start(t, dir)
	write(t, filepath.Join(dir, "new.rego"), "x")
	settle(t, w, ts)
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	settle(t, w, ts) // the new directory is watched before its timer starts
	write(t, filepath.Join(dir, "sub", "deep.rego"), "y")
	settle(t, w, ts)
}

func TestMissingDirectory(t *testing.T) {
	if _, err := New(filepath.Join(t.TempDir(), "absent"), Options{}); err == nil {
		t.Fatal("watching a missing directory succeeded")
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
