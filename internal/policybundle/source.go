package policybundle

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/config"
)

// Source is the bundle policy__bundle configures, opened as the server
// opens it.
type Source struct {
	// Remote polls a URL bundle; nil for a local file or directory.
	Remote *Remote
	// Initial is the bundle to start with.
	Initial *Bundle
	// update is Initial as downloaded, to cache once it is active.
	update *Update
	etag   string
}

// CacheDir returns the directory the last good remote bundle is kept in:
// policy__bundle_cache, or pingauthz/bundles under the user's cache
// directory.
func CacheDir(cfg *config.Config) (string, error) {
	if cfg.PolicyBundleCache != "" {
		return cfg.PolicyBundleCache, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("policybundle: no cache directory (set %s): %w", config.VarName("policy__bundle_cache", false), err)
	}
	return filepath.Join(d, "pingauthz", "bundles"), nil
}

// Open loads the bundle of cfg.PolicyBundle, verified with
// cfg.PolicyBundlePublicKey when set. A remote bundle is downloaded; when
// that fails, the last good bundle from the cache is used, and only when
// there is none either is it an error. o sets the remote's polling; its
// URL, Verification and CacheDir come from cfg.
func Open(ctx context.Context, cfg *config.Config, o RemoteOptions, log hclog.Logger) (*Source, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	vc, err := Verification(cfg.PolicyBundlePublicKey)
	if err != nil {
		return nil, err
	}
	if !config.IsBundleURL(cfg.PolicyBundle) {
		b, err := LoadFile(cfg.PolicyBundle, vc)
		if err != nil {
			return nil, err
		}
		return &Source{Initial: b}, nil
	}
	o.URL, o.Verification, o.Logger = cfg.PolicyBundle, vc, log
	if o.CacheDir, err = CacheDir(cfg); err != nil {
		log.Warn("the policy bundle is not cached", "error", err)
	}
	r, err := NewRemote(o)
	if err != nil {
		return nil, err
	}
	s := &Source{Remote: r}
	u, ferr := Fetch(ctx, o)
	if ferr == nil {
		s.Initial, s.update, s.etag = u.Bundle, u, u.ETag
		return s, nil
	}
	b, etag, cerr := r.Cached()
	if cerr != nil {
		log.Warn("the cached policy bundle is unusable", "error", cerr)
	}
	if b == nil {
		return nil, fmt.Errorf("%w; and no cached bundle to start from", ferr)
	}
	log.Warn("the policy bundle server is unavailable; starting from the cached bundle",
		"url", o.URL, "revision", b.Revision, "error", ferr)
	s.Initial, s.etag = b, etag
	return s, nil
}

// Started caches the initial bundle, now active, and starts polling for
// later ones, which go to handle. A local bundle does nothing.
func (s *Source) Started(ctx context.Context, handle func(context.Context, *Update) error) error {
	if s.Remote == nil {
		return nil
	}
	if s.update != nil {
		if err := s.Remote.Persist(s.update); err != nil {
			return err
		}
	}
	s.Remote.SetETag(s.etag)
	s.Remote.Start(ctx, handle)
	return nil
}
