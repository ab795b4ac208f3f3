package roundrobin

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"syscall"
	"testing"
)

func backend(name string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "from="+name)
		fmt.Fprintf(w, "%s %s %s", name, r.URL.RequestURI(), r.Header.Get("X-Forwarded-For"))
	}))
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", url, resp.StatusCode, b)
	}
	return string(b) + " #" + resp.Header.Get(BackendHeader)
}

// TestRotation checks that requests alternate between the backends and
// carry the path, query and client address.
func TestRotation(t *testing.T) {
	a, b := backend("a"), backend("b")
	defer a.Close()
	defer b.Close()
	p, err := New(a.URL, b.URL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	var got []string
	for range 4 {
		got = append(got, get(t, front.URL+"/x?y=1"))
	}
	want := []string{"a /x?y=1 127.0.0.1 #0", "b /x?y=1 127.0.0.1 #1", "a /x?y=1 127.0.0.1 #0", "b /x?y=1 127.0.0.1 #1"}
	if !slices.Equal(got, want) {
		t.Fatalf("answers %q, want %q", got, want)
	}
	if h := p.Hits(); !slices.Equal(h, []int64{2, 2}) {
		t.Fatalf("hits %v, want [2 2]", h)
	}
}

// TestDeadBackend checks that a backend refusing connections leaves the
// rotation and its requests go to the others.
func TestDeadBackend(t *testing.T) {
	a := backend("a")
	defer a.Close()
	p, err := New(refusingAddress(t), a.URL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	for range 3 {
		if got := get(t, front.URL+"/"); got != "a / 127.0.0.1 #1" {
			t.Fatalf("answer %q, want one from a, backend 1", got)
		}
	}
	if d := p.Down(); !slices.Equal(d, []bool{true, false}) {
		t.Fatalf("down %v, want [true false]", d)
	}
}

// refusingAddress returns the URL of a loopback port that refuses
// connections for the whole test: a socket is bound to it but does not
// listen, so no other server can take the port meanwhile.
func refusingAddress(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}

func TestNoBackends(t *testing.T) {
	if _, err := New(); err == nil {
		t.Fatal("New() succeeded")
	}
	if _, err := New("127.0.0.1:80"); err == nil {
		t.Fatal("New with a bare address succeeded")
	}
}
