package pingemu

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestUserinfoAuth(t *testing.T) {
	clk := newClock()
	s := startServer(t, Options{Now: clk.Now})
	_, at := issueIDToken(t, s, Faults{})
	tests := []struct {
		name      string
		method    string
		target    string // appended to the userinfo URL
		header    string
		body      string
		status    int
		challenge string // WWW-Authenticate prefix
	}{
		{name: "bearer header", method: "GET", header: "Bearer " + at, status: 200},
		{name: "lower-case scheme", method: "GET", header: "bearer " + at, status: 200},
		{name: "POST with bearer header", method: "POST", header: "Bearer " + at, status: 200},
		{name: "token in query", method: "GET", target: "?access_token=" + url.QueryEscape(at), status: 400, challenge: `Bearer realm="userinfo", error="invalid_request"`},
		{name: "token in query and header", method: "GET", target: "?access_token=" + url.QueryEscape(at), header: "Bearer " + at, status: 400},
		{name: "token in body", method: "POST", body: "access_token=" + url.QueryEscape(at), status: 400},
		{name: "no token", method: "GET", status: 401, challenge: `Bearer realm="userinfo"`},
		{name: "basic scheme", method: "GET", header: "Basic " + at, status: 401},
		{name: "unknown token", method: "GET", header: "Bearer nope", status: 401, challenge: `Bearer realm="userinfo", error="invalid_token"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, s.UserinfoURL()+tc.target, strings.NewReader(tc.body))
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), tc.challenge) {
				t.Errorf("WWW-Authenticate = %q, want prefix %q", resp.Header.Get("WWW-Authenticate"), tc.challenge)
			}
		})
	}
	t.Run("expired token", func(t *testing.T) {
		clk.Advance(time.Hour + time.Second)
		if resp, _ := getUserinfo(t, s, at); resp.StatusCode != 401 {
			t.Errorf("status %d, want 401", resp.StatusCode)
		}
	})
}

func TestUserinfoClaims(t *testing.T) {
	s := startServer(t, Options{})
	tests := []struct {
		name   string
		faults Faults
		scope  string
		signed bool
		want   map[string]any // nil value: claim must be absent
	}{
		{name: "default", want: map[string]any{
			"sub": DefaultSubject("alice"), "email": "alice@example.com", "name": "Alice Example",
			"groups": []any{"ML Team", "Admins"}, "department": "ML", "iss": nil,
		}},
		{name: "openid scope only", scope: "openid", want: map[string]any{
			"sub": DefaultSubject("alice"), "email": nil, "name": nil, "preferred_username": nil, "department": "ML",
		}},
		{name: "groups string", faults: Faults{GroupsShape: GroupsString}, want: map[string]any{"groups": "ML Team"}},
		{name: "groups absent", faults: Faults{GroupsShape: GroupsAbsent}, want: map[string]any{"groups": nil}},
		{name: "groups claim name", faults: Faults{GroupsClaim: "memberOf"}, want: map[string]any{"groups": nil, "memberOf": []any{"ML Team", "Admins"}}},
		{name: "groups as DNs", faults: Faults{GroupsClaim: "memberOf", GroupsAsDN: true}, want: map[string]any{
			"memberOf": []any{"CN=ML Team,OU=Groups,DC=example,DC=com", "CN=Admins,OU=Groups,DC=example,DC=com"}}},
		{name: "one group as a DN string", faults: Faults{GroupsShape: GroupsString, GroupsAsDN: true}, want: map[string]any{
			"groups": "CN=ML Team,OU=Groups,DC=example,DC=com"}},
		{name: "other sub", faults: Faults{UserinfoOtherSub: true}, want: map[string]any{"sub": otherSubject}},
		{name: "claims only in userinfo", faults: Faults{ClaimsOnlyInUserinfo: true}, want: map[string]any{"email": "alice@example.com", "groups": []any{"ML Team", "Admins"}}},
		{name: "signed", faults: Faults{SignedUserinfo: true}, signed: true, want: map[string]any{
			"sub": DefaultSubject("alice"), "email": "alice@example.com", "aud": "basic-app",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.SetFaults(tc.faults)
			extra := url.Values{}
			if tc.scope != "" {
				extra.Set("scope", tc.scope)
			}
			code := loginCode(t, s, "basic-app", extra)
			res := exchange(t, s, "basic-app", testSecret, AuthBasic, url.Values{"code": {code}})
			resp, body := getUserinfo(t, s, res.str("access_token"))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var claims map[string]any
			if tc.signed {
				if ct := resp.Header.Get("Content-Type"); ct != "application/jwt" {
					t.Fatalf("Content-Type %q", ct)
				}
				var err error
				if claims, _, err = verifyJWT(t, s, string(body)); err != nil {
					t.Fatalf("signed userinfo does not verify: %v", err)
				}
				if claims["iss"] != s.Issuer() {
					t.Errorf("iss = %v", claims["iss"])
				}
			} else if err := json.Unmarshal(body, &claims); err != nil {
				t.Fatalf("userinfo is not JSON: %s", body)
			}
			for k, v := range tc.want {
				got, present := claims[k]
				if v == nil && present {
					t.Errorf("claim %s = %#v, want absent", k, got)
				} else if v != nil && !reflect.DeepEqual(got, v) {
					t.Errorf("claim %s = %#v, want %#v", k, got, v)
				}
			}
		})
	}
}

// ReleasedClaims gives what userinfo answers.
func TestReleasedClaims(t *testing.T) {
	s := startServer(t, Options{Faults: Faults{GroupsClaim: "memberOf", GroupsAsDN: true}})
	code := loginCode(t, s, "basic-app", nil)
	res := exchange(t, s, "basic-app", testSecret, AuthBasic, url.Values{"code": {code}})
	_, body := getUserinfo(t, s, res.str("access_token"))
	var ui map[string]any
	if err := json.Unmarshal(body, &ui); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReleasedClaims("alice", "openid profile email")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ui) {
		t.Errorf("ReleasedClaims = %v\nuserinfo       = %v", got, ui)
	}
	if _, err := s.ReleasedClaims("mallory", "openid"); err == nil {
		t.Error("ReleasedClaims(mallory) succeeded")
	}
}

func TestSetUserGroups(t *testing.T) {
	s := startServer(t, Options{})
	if err := s.SetUserGroups("alice", []string{"New"}); err != nil {
		t.Fatal(err)
	}
	raw, at := issueIDToken(t, s, Faults{})
	_, c := jwtParts(t, raw)
	if !reflect.DeepEqual(c["groups"], []any{"New"}) {
		t.Errorf("ID token groups = %v", c["groups"])
	}
	_ = s.SetUserGroups("alice", nil)
	_, body := getUserinfo(t, s, at)
	var ui map[string]any
	_ = json.Unmarshal(body, &ui)
	if _, ok := ui["groups"]; ok {
		t.Errorf("userinfo groups after clearing = %v", ui["groups"])
	}
	if err := s.SetUserGroups("nobody", nil); err == nil || !strings.Contains(err.Error(), `"nobody"`) {
		t.Errorf("unknown user: %v", err)
	}
}
