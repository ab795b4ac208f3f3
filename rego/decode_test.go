package rego

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeInput(t *testing.T) {
	in, err := DecodeInput(strings.NewReader(`{"identity": {"issuer": "i", "subject": "s", "user_id": "u",
		"email": "e@x.example", "email_verified": false, "name": "N", "groups": ["g"],
		"claims": {"n": 12345678901234567890, "nested": {"any": ["thing"]}}}, "user": null}`))
	if err != nil {
		t.Fatal(err)
	}
	if in.User != nil || in.Identity.EmailVerified == nil || *in.Identity.EmailVerified || in.Identity.Groups[0] != "g" {
		t.Errorf("input %+v", in)
	}
	if n, ok := in.Identity.Claims["n"].(json.Number); !ok || n.String() != "12345678901234567890" {
		t.Errorf("claim n = %#v, want the exact number", in.Identity.Claims["n"])
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown field", `{"identity": {"emial": "x"}}`, `unknown field "emial"`},
		{"unknown user field", `{"user": {"id": "u", "admin": true}}`, `unknown field "admin"`},
		{"wrong type", `{"identity": {"groups": "g"}}`, "cannot unmarshal"},
		{"trailing data", `{} {}`, "data after the JSON object"},
		{"null", `null`, "want a JSON object"},
		{"empty", ``, "want a JSON object"},
		{"array", `[]`, "want a JSON object"},
		{"broken", `{"identity": `, "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeInput(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "rego: input: ") {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDecodeDirectory(t *testing.T) {
	dir, err := DecodeDirectory(strings.NewReader(`{"companies": {"c1": {"name": "One", "groups": ["a"]}},
		"whitelist": {"emails": {"a@x.example": {"company": "c1", "is_admin": true}}, "domains": {}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if dir.Companies["c1"].Groups[0] != "a" || !dir.Whitelist.Emails["a@x.example"].IsAdmin {
		t.Errorf("directory %+v", dir)
	}
	_, err = DecodeDirectory(strings.NewReader(`{"companies": {"c1": {"name": "One", "members": []}}}`))
	if err == nil || !strings.Contains(err.Error(), `rego: directory: json: unknown field "members"`) {
		t.Errorf("error %v", err)
	}
}
