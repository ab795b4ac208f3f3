package rego

import (
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestDecodeDecision(t *testing.T) {
	existing := &sso.Input{User: &sso.User{ID: "u1", Company: "c1"}}
	fresh := &sso.Input{}
	allow := `"allow": true, "signup": true, "company": "c1", "role": "user", "sync_groups": true, "groups": ["b", "a", "b"], "reasons": ["signup:default_company"], "message": ""`
	for _, tc := range []struct {
		name  string
		value string
		in    *sso.Input
		want  string // JSON of the decision, or "" when an error is expected
		err   string
	}{
		{"allow", "{" + allow + "}", fresh,
			`{"allow":true,"signup":true,"company":"c1","role":"user","sync_groups":true,"groups":["a","b"],"reasons":["signup:default_company"],"message":""}`, ""},
		{"groups as a set", `{"allow": true, "signup": false, "company": "c1", "role": null, "sync_groups": true, "groups": {"x"}, "reasons": ["r"], "message": ""}`, existing,
			`{"allow":true,"signup":false,"company":"c1","role":null,"sync_groups":true,"groups":["x"],"reasons":["r"],"message":""}`, ""},
		{"deny is normalized", `{"allow": false, "signup": true, "company": "c1", "role": "admin", "sync_groups": true, "groups": ["x"], "reasons": ["deny:x"], "message": ""}`, fresh,
			`{"allow":false,"signup":false,"company":"","role":null,"sync_groups":false,"groups":[],"reasons":["deny:x"],"message":""}`, ""},
		{"deny with a message", `{"allow": false, "signup": false, "company": "", "role": null, "sync_groups": false, "groups": [], "reasons": ["deny:x"], "message": "Ask IT."}`, fresh,
			`{"allow":false,"signup":false,"company":"","role":null,"sync_groups":false,"groups":[],"reasons":["deny:x"],"message":"Ask IT."}`, ""},
		{"allow with a message", `{` + strings.Replace(allow, `"message": ""`, `"message": "hi"`, 1) + `}`, fresh, "", "only a deny carries one"},
		{"message missing", `{` + strings.Replace(allow, `, "message": ""`, ``, 1) + `}`, fresh, "", `decision has no "message"`},
		{"message with a control character", `{"allow": false, "signup": false, "company": "", "role": null, "sync_groups": false, "groups": [], "reasons": ["deny:x"], "message": "a\nb"}`, fresh, "", "control character"},
		{"message type", `{"allow": false, "signup": false, "company": "", "role": null, "sync_groups": false, "groups": [], "reasons": ["deny:x"], "message": 1}`, fresh, "", "message is number"},
		{"message too long", `{"allow": false, "signup": false, "company": "", "role": null, "sync_groups": false, "groups": [], "reasons": ["deny:x"], "message": "` + strings.Repeat("é", 201) + `"}`, fresh, "", "201 characters"},
		{"not an object", `"yes"`, fresh, "", "decision is string, not an object"},
		{"allow not bool", `{` + strings.Replace(allow, `"allow": true`, `"allow": "yes"`, 1) + `}`, fresh, "", "allow is string"},
		{"missing key", `{"allow": true}`, fresh, "", `decision has no "company"`},
		{"unknown key", `{` + allow + `, "extra": 1, "x": 2}`, fresh, "", `unknown keys "extra", "x"`},
		{"non-string key", `{` + allow + `, 1: 2}`, fresh, "", "unknown keys 1"},
		{"role", `{` + strings.Replace(allow, `"user"`, `"root"`, 1) + `}`, fresh, "", `role is "root"`},
		{"role type", `{` + strings.Replace(allow, `"role": "user"`, `"role": 1`, 1) + `}`, fresh, "", "role is number"},
		{"company type", `{` + strings.Replace(allow, `"company": "c1"`, `"company": 1`, 1) + `}`, fresh, "", "company is number"},
		{"groups element", `{` + strings.Replace(allow, `["b", "a", "b"]`, `["a", null]`, 1) + `}`, fresh, "", "groups contains null"},
		{"reasons empty", `{` + strings.Replace(allow, `["signup:default_company"]`, `[]`, 1) + `}`, fresh, "", "at least one"},
		{"reasons empty code", `{` + strings.Replace(allow, `["signup:default_company"]`, `[""]`, 1) + `}`, fresh, "", "non-empty codes"},
		{"reasons policy_error", `{` + strings.Replace(allow, `["signup:default_company"]`, `["policy_error"]`, 1) + `}`, fresh, "", "may not contain policy_error"},
		{"allow without company", `{` + strings.Replace(allow, `"company": "c1"`, `"company": ""`, 1) + `}`, fresh, "", "without a company"},
		{"signup of existing", "{" + allow + "}", existing, "", "already exists"},
		{"new user without signup", `{` + strings.Replace(allow, `"signup": true`, `"signup": false`, 1) + `}`, fresh, "", "without signing up"},
		{"signup without role", `{` + strings.Replace(allow, `"role": "user"`, `"role": null`, 1) + `}`, fresh, "", "without a role"},
		{"groups without sync", `{` + strings.Replace(allow, `"sync_groups": true`, `"sync_groups": false`, 1) + `}`, fresh, "", "sync_groups false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := ast.MustParseTerm(tc.value).Value
			d, msg := decodeDecision(v, tc.in)
			if tc.err != "" {
				if d != nil || !strings.Contains(msg, tc.err) {
					t.Errorf("got %s, %q; want error %q", jsonString(d), msg, tc.err)
				}
				return
			}
			if msg != "" || jsonString(d) != tc.want {
				t.Errorf("got %s, %q; want %s", jsonString(d), msg, tc.want)
			}
		})
	}
}
