// Package bundletest builds and serves OPA bundles for tests: throwaway
// signing keys, bundles built by the upstream CLI (go tool opa build), a
// tampered copy of a bundle, and a loopback bundle server with ETags that
// can go down. It is for tests only.
package bundletest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// KeyPair writes a throwaway RSA key pair and returns the paths.
func KeyPair(t testing.TB) (private, public string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	private, public = filepath.Join(dir, "private.pem"), filepath.Join(dir, "public.pem")
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	WriteFile(t, private, string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})))
	WriteFile(t, public, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	return private, public
}

// WriteFile writes content to path, creating its directory.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// OPABuild builds a bundle of files with the upstream CLI, `go tool opa
// build`, signed with signingKey unless it is empty.
func OPABuild(t testing.TB, files map[string]string, revision, signingKey string) []byte {
	t.Helper()
	src := t.TempDir()
	for name, content := range files {
		WriteFile(t, filepath.Join(src, name), content)
	}
	out := filepath.Join(t.TempDir(), "bundle.tar.gz")
	args := []string{"build", "--bundle", ".", "--output", out, "--revision", revision}
	if signingKey != "" {
		args = append(args, "--signing-key", signingKey)
	}
	// Run from the bundle directory so that paths in the bundle are
	// relative to it, as an operator would.
	cmd := exec.Command(opaTool(t), args...)
	cmd.Dir = src
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("opa build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var opaPath struct {
	once sync.Once
	path string
	err  error
}

// opaTool returns the path of the binary `go tool opa` runs.
func opaTool(t testing.TB) string {
	t.Helper()
	opaPath.once.Do(func() {
		var b []byte
		b, opaPath.err = exec.Command("go", "tool", "-n", "opa").Output()
		opaPath.path = strings.TrimSpace(string(b))
	})
	if opaPath.err != nil {
		t.Fatalf("go tool -n opa: %v", opaPath.err)
	}
	return opaPath.path
}

// Tamper rewrites one file inside a bundle tarball and keeps the rest,
// the signature included.
func Tamper(t testing.TB, tarball []byte, name, content string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tarball))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "/") == name {
			data, found = []byte(content), true
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatalf("no %s in the bundle", name)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Server serves one bundle with an ETag, answering If-None-Match
// with 304, or 503 while down.
type Server struct {
	mu       sync.Mutex
	body     []byte
	down     bool
	requests int
	srv      *httptest.Server
}

// NewServer starts a server; the test's cleanup stops it.
func NewServer(t testing.TB) *Server {
	s := &Server{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests++
		if s.down || r.URL.Path != "/bundles/pingauthz.tar.gz" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		sum := sha256.Sum256(s.body)
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/gzip")
		_, _ = w.Write(s.body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// Serve makes the server answer with body, or 503 while down.
func (s *Server) Serve(body []byte, down bool) {
	s.mu.Lock()
	s.body, s.down = body, down
	s.mu.Unlock()
}

// URL is the bundle's URL.
func (s *Server) URL() string { return s.srv.URL + "/bundles/pingauthz.tar.gz" }
