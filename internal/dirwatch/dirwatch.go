// Package dirwatch reports changes under a directory tree, debounced: a
// burst of file events becomes one notification once the tree has been
// quiet for a while. It watches every directory of the tree with fsnotify,
// including directories created later and the hidden entries of a
// Kubernetes ConfigMap volume, whose update swaps the "..data" symlink.
//
// It does not say what changed and does not read the files; the receiver
// re-reads the tree. It does not follow a watched directory that is itself
// replaced by a symlink swap of the directory's own path.
package dirwatch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/go-hclog"
)

// DefaultDebounce is how long the tree must stay quiet before a change is
// reported.
const DefaultDebounce = 300 * time.Millisecond

// Options configure New. Every field is optional.
type Options struct {
	// Debounce is the quiet period; zero means DefaultDebounce.
	Debounce time.Duration
	// After starts the quiet-period timer; nil means time.After. Tests
	// inject it to decide when a burst ends.
	After func(time.Duration) <-chan time.Time
	// Logger gets watch errors; nil discards.
	Logger hclog.Logger
}

// Watcher watches a directory tree. Changes delivers one value per quiet
// period that followed file events; a value not yet received absorbs later
// ones.
type Watcher struct {
	dir     string
	o       Options
	fw      *fsnotify.Watcher
	changes chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

// New starts watching dir and every directory below it.
func New(dir string, o Options) (*Watcher, error) {
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("dirwatch: %w", err)
	}
	w := &Watcher{dir: dir, o: o, fw: fw, changes: make(chan struct{}, 1), done: make(chan struct{})}
	if err := w.addTree(dir); err != nil {
		_ = fw.Close()
		return nil, err
	}
	w.wg.Add(1)
	go w.loop()
	return w, nil
}

// Changes delivers a value after each debounced burst of changes.
func (w *Watcher) Changes() <-chan struct{} { return w.changes }

// Close stops watching. Changes is not closed.
func (w *Watcher) Close() error {
	var err error
	w.once.Do(func() {
		close(w.done)
		err = w.fw.Close()
		w.wg.Wait()
	})
	return err
}

// addTree watches root and the directories below it (symlinked directories
// are watched where they point, e.g. a ConfigMap's "..data").
func (w *Watcher) addTree(root string) error {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != root && errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		if d.IsDir() {
			return w.fw.Add(p)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if fi, err := os.Stat(p); err == nil && fi.IsDir() {
				return w.fw.Add(p)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("dirwatch: %s: %w", root, err)
	}
	return nil
}

func (w *Watcher) loop() {
	defer w.wg.Done()
	var quiet <-chan time.Time
	for {
		select {
		case <-w.done:
			return
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					if err := w.addTree(ev.Name); err != nil {
						w.o.Logger.Warn("a new directory is not watched", "dir", ev.Name, "error", err)
					}
				}
			}
			quiet = w.o.After(w.o.Debounce)
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			w.o.Logger.Warn("watching the policy directory", "dir", w.dir, "error", err)
			// Events may have been lost (queue overflow): report a change.
			quiet = w.o.After(w.o.Debounce)
		case <-quiet:
			quiet = nil
			select {
			case w.changes <- struct{}{}:
			default:
			}
		}
	}
}
