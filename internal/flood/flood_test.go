package flood

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestPair checks a pair against a server that issues a state cookie: the
// callback carries the error, the issued state, the issuer and the cookie.
func TestPair(t *testing.T) {
	var (
		mu  sync.Mutex
		got []string
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/ping", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "st", Value: "sealed"})
		http.Redirect(w, r, "https://idp.example/authorize?state=S1", http.StatusFound)
	})
	mux.HandleFunc("GET /callback_ping", func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("st")
		q := r.URL.Query()
		mu.Lock()
		got = []string{q.Get("error"), q.Get("state"), q.Get("iss"), c.String()}
		mu.Unlock()
		http.Error(w, "refused", http.StatusBadRequest)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res := Run(context.Background(), Client("127.0.0.1", 1), srv.URL, "https://issuer.example", 3, 1)
	if res.Pairs != 3 || res.Answers["begin 302, callback 400"] != 3 {
		t.Fatalf("result %+v, want 3 pairs begun and refused", res)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"x", "S1", "https://issuer.example", "st=sealed"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("callback got %q, want %q", got, want)
		}
	}
}

// TestLoginsStopsAtFailure checks that a login that does not end on a
// session ends the loop with an error.
func TestLoginsStopsAtFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	done := make(chan struct{})
	_, err := Logins(context.Background(), http.DefaultTransport, srv.URL, "u", "p", time.Millisecond, done)
	if err == nil {
		t.Fatal("Logins succeeded against a server that refuses every login")
	}
}
