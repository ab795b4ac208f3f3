package policybundle

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/pingauthz/pingauthz/internal/policybundle/bundletest"
)

const extendV1 = "package clearml.sso.extend\n\nrevision := \"v1\"\n"

func TestLoadFile(t *testing.T) {
	private, public := bundletest.KeyPair(t)
	_, otherPublic := bundletest.KeyPair(t)
	signed := bundletest.OPABuild(t, map[string]string{"clearml/sso/extend.rego": extendV1}, "r1", private)
	unsigned := bundletest.OPABuild(t, map[string]string{"clearml/sso/extend.rego": extendV1}, "r1", "")
	withData := bundletest.OPABuild(t, map[string]string{"clearml/sso/extend.rego": extendV1, "clearml/x/data.json": `{"a": 1}`}, "r1", private)
	tampered := bundletest.Tamper(t, signed, "clearml/sso/extend.rego", "package clearml.sso.extend\n\nrevision := \"evil\"\n")
	vc, err := Verification(public)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Verification(otherPublic)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		bundle  []byte
		vc      any
		wantErr string
	}{
		{"signed", signed, vc, ""},
		{"unsigned without a key", unsigned, nil, ""},
		{"unsigned with a key", unsigned, vc, "missing .signatures.json"},
		{"tampered", tampered, vc, "digest mismatch"},
		{"signed with another key", signed, other, "verify"},
		{"data", withData, vc, "carries data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "b.tar.gz")
			bundletest.WriteFile(t, p, string(tc.bundle))
			var b *Bundle
			var err error
			if tc.vc == nil {
				b, err = LoadFile(p, nil)
			} else {
				b, err = LoadFile(p, tc.vc.(*bundle.VerificationConfig))
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Revision != "r1" || len(b.Modules) != 1 || b.Modules[0].Path != "clearml/sso/extend.rego" ||
				string(b.Modules[0].Source) != extendV1 || b.Signed != (tc.vc != nil) {
				t.Fatalf("bundle %+v", b)
			}
		})
	}
}

func TestVerificationKeys(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	vc, err := Verification(ecPEM)
	if err != nil || vc.PublicKeys[keyID].Algorithm != "ES384" || vc.KeyID != keyID {
		t.Fatalf("EC key: %+v, %v", vc, err)
	}
	priv := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("x")}))
	for name, key := range map[string]string{"private key": priv, "no PEM": "-----BEGIN nothing", "missing file": "/nonexistent/key.pem"} {
		if _, err := Verification(key); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if vc, err := Verification(""); vc != nil || err != nil {
		t.Errorf("no key: %v, %v", vc, err)
	}
}

// A remote bundle is polled with its ETag: a rotation is picked up, a
// tampered or unsigned one is refused, and after a restart with the server
// down the cached last good bundle is used.
func TestRemote(t *testing.T) {
	private, public := bundletest.KeyPair(t)
	vc, err := Verification(public)
	if err != nil {
		t.Fatal(err)
	}
	v1 := bundletest.OPABuild(t, map[string]string{"clearml/sso/extend.rego": extendV1}, "r1", private)
	extendV2 := strings.ReplaceAll(extendV1, "v1", "v2")
	v2 := bundletest.OPABuild(t, map[string]string{"clearml/sso/extend.rego": extendV2}, "r2", private)
	srv := bundletest.NewServer(t)
	cache := t.TempDir()
	o := RemoteOptions{URL: srv.URL(), Verification: vc, CacheDir: cache, Manual: true}
	r, err := NewRemote(o)
	if err != nil {
		t.Fatal(err)
	}
	var got []*Update
	r.Start(context.Background(), func(_ context.Context, u *Update) error {
		got = append(got, u)
		return r.Persist(u)
	})
	ctx := context.Background()
	poll := func(wantErr string) {
		t.Helper()
		err := r.Poll(ctx)
		if wantErr == "" && err != nil {
			t.Fatalf("poll: %v", err)
		}
		if wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)) {
			t.Fatalf("poll: %v, want %q", err, wantErr)
		}
	}

	srv.Serve(v1, false)
	poll("")
	poll("") // 304: nothing new
	srv.Serve(v2, false)
	poll("")
	if len(got) != 2 || got[0].Bundle.Revision != "r1" || got[1].Bundle.Revision != "r2" {
		t.Fatalf("updates %+v", got)
	}
	srv.Serve(bundletest.Tamper(t, v2, "clearml/sso/extend.rego", "package clearml.sso.extend\n\nrevision := \"evil\"\n"), false)
	poll("digest mismatch")
	srv.Serve(bundletest.OPABuild(t, map[string]string{"clearml/sso/extend.rego": extendV1}, "r3", ""), false)
	poll("missing .signatures.json")
	srv.Serve(v2, true)
	poll("Service Unavailable")
	if len(got) != 2 {
		t.Fatalf("a refused bundle was handed on: %+v", got[2:])
	}

	// A restart while the server is down starts from the cache.
	r2, err := NewRemote(o)
	if err != nil {
		t.Fatal(err)
	}
	b, etag, err := r2.Cached()
	if err != nil || b == nil || b.Revision != "r2" || etag == "" || string(b.Modules[0].Source) != extendV2 {
		t.Fatalf("cached: %+v %q %v", b, etag, err)
	}
	// Back up with the same bundle: the cached ETag makes it a 304.
	srv.Serve(v2, false)
	r2.SetETag(etag)
	var again []*Update
	r2.Start(ctx, func(_ context.Context, u *Update) error { again = append(again, u); return nil })
	if err := r2.Poll(ctx); err != nil || len(again) != 0 {
		t.Fatalf("poll after restart: %v, updates %d", err, len(again))
	}

	// A cached bundle is verified again: with another key it is refused.
	_, otherPublic := bundletest.KeyPair(t)
	ovc, _ := Verification(otherPublic)
	r3, _ := NewRemote(RemoteOptions{URL: srv.URL(), Verification: ovc, CacheDir: cache, Manual: true})
	if _, _, err := r3.Cached(); err == nil {
		t.Fatal("a cached bundle signed with another key was accepted")
	}

	if _, err := Fetch(ctx, RemoteOptions{URL: srv.URL(), Verification: vc}); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
}
