package server_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/server"
	"github.com/pingauthz/pingauthz/internal/store"
	"github.com/pingauthz/pingauthz/internal/store/storetest"
	"github.com/pingauthz/pingauthz/sso"
)

// TestWatchReachesEveryReplica runs two servers on one directory and
// changes it through a third process's store, as `pingauthz admin` does:
// the watch of each server pushes the change to its plugin, which then
// decides by it.
func TestWatchReachesEveryReplica(t *testing.T) {
	for _, tc := range []struct {
		name string
		db   func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "shared.db") }},
		{"postgres", func(t *testing.T) string { return storetest.PostgresURL(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := tc.db(t)
			admin, err := store.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			if err := admin.AddCompany(ctx, "c1", "Acme"); err != nil {
				t.Fatal(err)
			}
			type replica struct {
				srv    *server.Server
				pushed chan int64
			}
			var replicas []replica
			for range 2 {
				r := replica{pushed: make(chan int64, 16)}
				r.srv = openServer(t, func(c *server.Config) {
					c.DBPath = db
					c.DirectoryPoll = 20 * time.Millisecond
				})
				r.srv.OnWatchPushForTest(func(v int64) { r.pushed <- v })
				replicas = append(replicas, r)
			}
			in := &sso.Input{Identity: sso.Identity{Issuer: "https://idp.example/as", Subject: "u1", UserID: "u1",
				Email: "ada@acme.com", Name: "Ada"}}
			for i, r := range replicas {
				if d, err := r.srv.Plugin.Decide(ctx, in); err != nil || d.Allow {
					t.Fatalf("replica %d before the change: %+v, %v; want a denial", i, d, err)
				}
			}

			if err := admin.WhitelistAdd(ctx, "c1", "@acme.com", false); err != nil {
				t.Fatal(err)
			}
			want, err := admin.DirectoryVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range replicas {
				for v := int64(0); v != want; {
					select {
					case v = <-r.pushed:
					case <-time.After(time.Minute):
						t.Fatalf("replica %d: no push of version %d within a minute", i, want)
					}
				}
				d, err := r.srv.Plugin.Decide(ctx, in)
				if err != nil || !d.Allow || d.Company != "c1" {
					t.Errorf("replica %d after the change: %+v, %v; want a sign-up into c1", i, d, err)
				}
			}
		})
	}
}
