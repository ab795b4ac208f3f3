package rego

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestDirectoryIndex(t *testing.T) {
	v, ignored, err := directoryValue(&sso.Directory{
		Companies: map[string]sso.Company{
			"c1": {Name: "One", Groups: []string{"ML Team", "ml team", "Data", "ML Team"}},
			"c2": {Name: "Two"},
		},
		Whitelist: sso.Whitelist{
			Emails: map[string]sso.WhitelistEntry{
				"Alice@Example.com": {Company: "c1", IsAdmin: true},
				"alice@example.COM": {Company: "c1", IsAdmin: true},
				// Not valid: no ASCII folding makes them admin@ or kate@.
				"adm\u0130n@example.com": {Company: "c2", IsAdmin: true},
				"\u212Aate@example.com":  {Company: "c2", IsAdmin: true},
				"odd@name@corp.example":  {Company: "c2"},
			},
			Domains: map[string]sso.WhitelistEntry{"Corp.Example": {Company: "c2"}, "b\u00fccher.example": {Company: "c1"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantIgnored := []string{`email "adm\u0130n@example.com"`, `email "odd@name@corp.example"`, `email "\u212aate@example.com"`, `domain "b\u00fccher.example"`}
	if !reflect.DeepEqual(ignored, wantIgnored) {
		t.Errorf("ignored %q, want %q", ignored, wantIgnored)
	}
	got, err := ast.JSON(v)
	if err != nil {
		t.Fatal(err)
	}
	var want any
	if err := json.Unmarshal([]byte(`{
		"companies": {
			"c1": {"name": "One", "groups": ["ML Team", "ml team", "Data"]},
			"c2": {"name": "Two", "groups": []}
		},
		"whitelist": {
			"emails": {
				"Alice@Example.com": {"company": "c1", "is_admin": true},
				"alice@example.COM": {"company": "c1", "is_admin": true},
				"adm\u0130n@example.com": {"company": "c2", "is_admin": true},
				"\u212Aate@example.com": {"company": "c2", "is_admin": true},
				"odd@name@corp.example": {"company": "c2", "is_admin": false}
			},
			"domains": {
				"Corp.Example": {"company": "c2", "is_admin": false},
				"b\u00fccher.example": {"company": "c1", "is_admin": false}
			}
		},
		"index": {
			"version": 1,
			"companies": {
				"c1": {
					"exact": {"ML Team": "ML Team", "ml team": "ml team", "Data": "Data"},
					"folded": {"ml team": ["ML Team", "ml team"], "data": ["Data"]}
				},
				"c2": {"exact": {}, "folded": {}}
			},
			"whitelist": {
				"emails": {"alice@example.com": {"company": "c1", "is_admin": true}},
				"domains": {"corp.example": {"company": "c2", "is_admin": false}}
			}
		}
	}`), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalizeNumbers(got), want) {
		gotJSON, _ := json.MarshalIndent(got, "", "  ")
		t.Errorf("directory document:\n%s", gotJSON)
	}
}

// normalizeNumbers turns json.Number into float64 as json.Unmarshal does.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return v
}

func TestDirectoryErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  *sso.Directory
		want string
	}{
		{"nil", nil, "nil directory"},
		{"empty company id", &sso.Directory{Companies: map[string]sso.Company{"": {}}}, "empty id"},
		{"empty group", &sso.Directory{Companies: map[string]sso.Company{"c1": {Groups: []string{"a", ""}}}}, `company "c1" has a group with an empty name`},
		{"empty email", &sso.Directory{Whitelist: sso.Whitelist{Emails: map[string]sso.WhitelistEntry{" ": {Company: "c1"}}}}, "empty email"},
		{"entry without company", &sso.Directory{Whitelist: sso.Whitelist{Domains: map[string]sso.WhitelistEntry{"x.example": {}}}}, `domain "x.example" has no company`},
		{"domain with at", &sso.Directory{Whitelist: sso.Whitelist{Domains: map[string]sso.WhitelistEntry{"@x.example": {Company: "c1"}}}}, `contains "@"`},
		{"case conflict", &sso.Directory{Whitelist: sso.Whitelist{Emails: map[string]sso.WhitelistEntry{
			"A@x.example": {Company: "c1"}, "a@x.example": {Company: "c2"},
		}}}, `"A@x.example" and "a@x.example" differ only in letter case`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := directoryValue(tc.dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "rego: directory: ") {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
