package policybundle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/download"
	"github.com/open-policy-agent/opa/v1/keys"
	"github.com/open-policy-agent/opa/v1/plugins"
	"github.com/open-policy-agent/opa/v1/plugins/rest"

	"github.com/pingauthz/pingauthz/internal/decisionlog"
)

// Defaults of RemoteOptions.
const (
	DefaultMinDelay = 60 * time.Second
	DefaultMaxDelay = 120 * time.Second
)

// RemoteOptions configure a Remote. URL is required.
type RemoteOptions struct {
	// URL is the bundle's http(s) URL.
	URL string
	// Verification is the signature check (Verification); nil accepts
	// unsigned bundles.
	Verification *bundle.VerificationConfig
	// CacheDir keeps the last good bundle and its ETag; "" keeps nothing.
	CacheDir string
	// SizeLimitBytes bounds each file of the bundle; zero means
	// DefaultSizeLimitBytes.
	SizeLimitBytes int64
	// MinDelay and MaxDelay bound the wait between polls (whole seconds;
	// MaxDelay also caps the backoff after a failure). Zero means the
	// defaults. Manual turns polling off: the caller calls Poll.
	MinDelay, MaxDelay time.Duration
	Manual             bool
	// Logger gets the downloader's log; nil discards.
	Logger hclog.Logger
}

// Remote polls a bundle URL with OPA's downloader.
type Remote struct {
	o      RemoteOptions
	d      *download.Downloader
	log    hclog.Logger
	mu     sync.Mutex
	handle func(context.Context, *Update) error
}

// Update is a newly downloaded bundle.
type Update struct {
	Bundle *Bundle
	ETag   string
	raw    []byte
}

// NewRemote prepares polling; Start begins it.
func NewRemote(o RemoteOptions) (*Remote, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("policybundle: %q is not an http(s) URL", o.URL)
	}
	if o.SizeLimitBytes <= 0 {
		o.SizeLimitBytes = DefaultSizeLimitBytes
	}
	if o.MinDelay <= 0 && o.MaxDelay <= 0 {
		o.MinDelay, o.MaxDelay = DefaultMinDelay, DefaultMaxDelay
	}
	log := o.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	// OPA's REST client joins its URL and the path with "/".
	base, file := o.URL, ""
	if i := strings.LastIndex(u.Path, "/"); i >= 0 {
		base = u.Scheme + "://" + u.Host + u.Path[:i]
		file = u.Path[i+1:]
		if u.RawQuery != "" {
			file += "?" + u.RawQuery
		}
	}
	rawCfg, err := json.Marshal(map[string]any{"url": base})
	if err != nil {
		return nil, err
	}
	client, err := rest.New(rawCfg, map[string]*keys.Config{}, rest.Logger(decisionlog.OPALogger(log)))
	if err != nil {
		return nil, fmt.Errorf("policybundle: %w", err)
	}
	trigger := plugins.TriggerPeriodic
	if o.Manual {
		trigger = plugins.TriggerManual
	}
	minS, maxS := int64(o.MinDelay/time.Second), int64(o.MaxDelay/time.Second)
	cfg := download.Config{Trigger: &trigger, Polling: download.PollingConfig{MinDelaySeconds: &minS, MaxDelaySeconds: &maxS}}
	if err := cfg.ValidateAndInjectDefaults(); err != nil {
		return nil, fmt.Errorf("policybundle: %w", err)
	}
	r := &Remote{o: o, log: log}
	r.d = download.New(cfg, client, file).
		WithCallback(r.callback).
		WithBundleVerificationConfig(o.Verification).
		WithSizeLimitBytes(o.SizeLimitBytes).
		WithBundlePersistence(true).
		WithBundleParserOpts(ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
	return r, nil
}

// Start polls in the background and calls handle for every new bundle;
// handle's error means the bundle was not activated (it is not cached).
// Download and verification failures are logged by OPA's downloader and
// retried with backoff.
func (r *Remote) Start(ctx context.Context, handle func(context.Context, *Update) error) {
	r.mu.Lock()
	r.handle = handle
	r.mu.Unlock()
	r.d.Start(ctx)
}

// SetETag makes the next poll conditional on etag (If-None-Match), e.g.
// the ETag of the cached bundle.
func (r *Remote) SetETag(etag string) { r.d.SetCache(etag) }

// Poll downloads once now; with Start's handle set, a new bundle goes to it.
func (r *Remote) Poll(ctx context.Context) error { return r.d.Trigger(ctx) }

// Stop ends polling.
func (r *Remote) Stop(ctx context.Context) { r.d.Stop(ctx) }

func (r *Remote) callback(ctx context.Context, u download.Update) error {
	if u.Error != nil {
		return nil // OPA's downloader logs it and backs off
	}
	if u.Bundle == nil {
		return nil // 304 Not Modified
	}
	b, err := fromOPA(r.o.URL, u.Bundle, r.o.Verification != nil)
	if err != nil {
		r.log.Error("policy bundle refused", "url", r.o.URL, "error", err)
		return err
	}
	var raw []byte
	if u.Raw != nil {
		if raw, err = io.ReadAll(u.Raw); err != nil {
			return err
		}
	}
	r.mu.Lock()
	handle := r.handle
	r.mu.Unlock()
	if handle == nil {
		return nil
	}
	return handle(ctx, &Update{Bundle: b, ETag: u.ETag, raw: raw})
}

// Fetch downloads and verifies the bundle once, without polling or
// caching (config check).
func Fetch(ctx context.Context, o RemoteOptions) (*Update, error) {
	o.Manual = true
	r, err := NewRemote(o)
	if err != nil {
		return nil, err
	}
	var got *Update
	r.Start(ctx, func(_ context.Context, u *Update) error { got = u; return nil })
	if err := r.Poll(ctx); err != nil {
		return nil, fmt.Errorf("policybundle: %s: %w", o.URL, err)
	}
	if got == nil {
		return nil, fmt.Errorf("policybundle: %s: the server sent no bundle", o.URL)
	}
	return got, nil
}

// cachePaths are where the last good bundle of a URL and its ETag live.
func cachePaths(dir, rawURL string) (bundleFile, etagFile string) {
	sum := sha256.Sum256([]byte(rawURL))
	d := filepath.Join(dir, hex.EncodeToString(sum[:8]))
	return filepath.Join(d, "bundle.tar.gz"), filepath.Join(d, "etag")
}

// Persist writes an activated update to the cache directory, atomically.
func (r *Remote) Persist(u *Update) error {
	if r.o.CacheDir == "" || u.raw == nil {
		return nil
	}
	bf, ef := cachePaths(r.o.CacheDir, r.o.URL)
	if err := os.MkdirAll(filepath.Dir(bf), 0o700); err != nil {
		return fmt.Errorf("policybundle: cache: %w", err)
	}
	if err := writeAtomic(bf, u.raw); err != nil {
		return err
	}
	return writeAtomic(ef, []byte(u.ETag))
}

// Cached reads the last good bundle from the cache directory, verified
// again; it returns (nil, "", nil) when there is none.
func (r *Remote) Cached() (*Bundle, string, error) {
	if r.o.CacheDir == "" {
		return nil, "", nil
	}
	bf, ef := cachePaths(r.o.CacheDir, r.o.URL)
	raw, err := os.ReadFile(bf)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("policybundle: cache: %w", err)
	}
	ob, err := bundle.NewCustomReader(bundle.NewTarballLoaderWithBaseURL(bytes.NewReader(raw), r.o.URL)).
		WithRegoVersion(ast.RegoV1).
		WithProcessAnnotations(true).
		WithBundleVerificationConfig(r.o.Verification).
		WithSizeLimitBytes(r.o.SizeLimitBytes).
		Read()
	if err != nil {
		return nil, "", fmt.Errorf("policybundle: cached bundle %s: %w", bf, err)
	}
	b, err := fromOPA(r.o.URL, &ob, r.o.Verification != nil)
	if err != nil {
		return nil, "", err
	}
	etag, _ := os.ReadFile(ef)
	return b, string(etag), nil
}

func writeAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return fmt.Errorf("policybundle: cache: %w", err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("policybundle: cache: %w", err)
	}
	return nil
}
