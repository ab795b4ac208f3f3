package host_test

import (
	"context"
	"log"
	"net/http"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/store"
)

// A server launches the plugin with the directory it consults, serves the
// login handlers, and pushes the directory again after every change.
func Example() {
	ctx := context.Background()
	var p *host.Plugin
	st, err := store.Open(ctx, "directory.db", store.OnChange(func() {
		if err := p.PushDirectory(context.Background()); err != nil {
			log.Print(err)
		}
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	p, err = host.Start(ctx, host.Config{
		PluginPath: "/usr/local/libexec/pingauthz-plugin",
		// The plugin inherits this process's CLEARML__... variables.
		Directory: st.Snapshot,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	h, err := host.NewHandler(host.HandlerConfig{
		Auth:              p,
		Directory:         st,
		PublicURL:         "http://127.0.0.1:8080",
		OnDirectoryChange: func(ctx context.Context) { _ = p.PushDirectory(ctx) },
	})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", h))
}
