package pingemu_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pingauthz/pingauthz/internal/pingemu"
)

// A PingFederate-flavored provider, a browser-like sign-on and a token
// exchange by hand.
func Example() {
	srv, err := pingemu.Start(pingemu.Options{
		Flavor: pingemu.PingFederate,
		Clients: []pingemu.Client{{
			ID: "clearml", Secret: "secret", AuthMethod: pingemu.AuthPost,
			RedirectURIs: []string{"http://127.0.0.1:8008/callback_ping"},
		}},
		Users: []pingemu.User{{
			Username: "alice", Password: "pw",
			Claims: map[string]any{"email": "alice@example.com"}, Groups: []string{"ML Team"},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	authURL := srv.AuthorizeURL() + "?" + url.Values{
		"client_id": {"clearml"}, "redirect_uri": {"http://127.0.0.1:8008/callback_ping"},
		"response_type": {"code"}, "scope": {"openid email"}, "state": {"xyz"},
	}.Encode()
	callback, err := pingemu.Login(context.Background(), nil, authURL, "alice", "pw")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("callback:", callback.Path, "state:", callback.Query().Get("state"),
		"iss is the base URL:", callback.Query().Get("iss") == srv.URL())

	resp, err := http.PostForm(srv.TokenURL(), url.Values{
		"grant_type": {"authorization_code"}, "code": {callback.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:8008/callback_ping"}, "client_id": {"clearml"}, "client_secret": {"secret"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var tok map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	fmt.Println("token:", resp.StatusCode, tok["token_type"], strings.Count(tok["id_token"].(string), "."), "dots in the ID token")
	// Output:
	// callback: /callback_ping state: xyz iss is the base URL: true
	// token: 200 Bearer 2 dots in the ID token
}
