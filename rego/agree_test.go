package rego

import (
	"context"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/sso"
)

// agreement decides logins twice: through an Engine, with the indexes built
// in Go, and with the policy computing them from the same directory written
// without "index", as hand-written test data is.
type agreement struct {
	engine   *Engine
	compiled *ast.Compiler
}

func newAgreement(tb testing.TB, caseSensitive bool) *agreement {
	tb.Helper()
	cfg := config.Default()
	cfg.Groups.Enabled = true
	cfg.Groups.CaseSensitive = caseSensitive
	cfg.Groups.Admins = []string{"Admins"}
	e, err := New(context.Background(), &cfg)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := compile(withoutTests(e.Modules()), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &agreement{e, c}
}

// check compares both decisions for in against dir; false when dir is not
// a directory SetDirectory accepts.
func (a *agreement) check(t *testing.T, dir *sso.Directory, in *sso.Input) bool {
	t.Helper()
	ctx := context.Background()
	v, _, err := directoryValue(dir)
	if err != nil {
		return false
	}
	if err := a.engine.SetDirectory(ctx, dir); err != nil {
		t.Fatal(err)
	}
	indexed, perr, err := a.engine.DecideDetail(ctx, in)
	if err != nil || perr != nil {
		t.Fatalf("indexed decision: %v, %v", perr, err)
	}

	raw := v.(ast.Object).Copy()
	raw = ast.NewObject(
		ast.Item(ast.InternedTerm("companies"), raw.Get(ast.InternedTerm("companies"))),
		ast.Item(ast.InternedTerm("whitelist"), raw.Get(ast.InternedTerm("whitelist"))),
	)
	store := inmem.NewFromObjectWithOpts(map[string]any{"clearml": map[string]any{"directory": raw}},
		inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	input, err := inputValue(in)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := oparego.New(oparego.Query(DecisionQuery), oparego.Compiler(a.compiled),
		oparego.Store(store), oparego.ParsedInput(input)).Eval(ctx)
	if err != nil || len(rs) != 1 {
		t.Fatalf("computed decision: %v, %d results", err, len(rs))
	}
	computed, msg := decodeDecision(ast.MustInterfaceToValue(rs[0].Expressions[0].Value), in)
	if msg != "" {
		t.Fatalf("computed decision: %s", msg)
	}
	if jsonString(indexed) != jsonString(computed) {
		t.Errorf("login %q, groups %q, directory %s:\n indexed  %s\n computed %s",
			in.Identity.Email, in.Identity.Groups, jsonString(dir), jsonString(indexed), jsonString(computed))
	}
	return true
}

// agreementCase is a whitelist key, a company group, and the login's email
// and Ping group.
type agreementCase struct{ key, group, email, pingGroup string }

// agreementDirectory whitelists key as an email and its part after the last
// "@" (or key itself) as a domain, both admin entries; company c1 has group.
func (c agreementCase) directory() *sso.Directory {
	domain := c.key[strings.LastIndexByte(c.key, '@')+1:]
	return &sso.Directory{
		Companies: map[string]sso.Company{"c1": {Name: "One", Groups: []string{c.group}}},
		Whitelist: sso.Whitelist{
			Emails:  map[string]sso.WhitelistEntry{c.key: {Company: "c1", IsAdmin: true}},
			Domains: map[string]sso.WhitelistEntry{domain: {Company: "c1"}},
		},
	}
}

func (c agreementCase) input() *sso.Input {
	return &sso.Input{Identity: sso.Identity{Email: c.email, Groups: []string{c.pingGroup, "Admins"}}}
}

var agreementCases = []agreementCase{
	{"admin@example.com", "ML Team", "admİn@example.com", "ml team"},
	{"kate@example.com", "Kelvin", "\u212Aate@example.com", "\u212Aelvin"},
	{"\u212Aate@example.com", "İnfra", "kate@example.com", "infra"},
	{"Kate@Example.COM", "Data", "KATE@example.com", "DATA"},
	{"alice@example.com", "g", "attacker@evil.com@example.com", "G"},
	{"odd@name@example.com", "g", "x@example.com", "g"},
	{"a@xn--bcher-kva.example", "Bücher", "b@XN--BCHER-KVA.example", "BÜCHER"},
	{"a@bücher.example", "g", "a@bücher.example", "g"},
	{"Alice <alice@example.com>", "g", "Alice <alice@example.com>", "g"},
	{"alice@example.com", "g", "", "g"},
}

// TestIndexAgreesWithPolicy checks that the lookups the host builds in Go
// and those the policy computes from hand-written data give the same
// decisions, for whitelist keys, emails and group names alike.
func TestIndexAgreesWithPolicy(t *testing.T) {
	for _, caseSensitive := range []bool{true, false} {
		a := newAgreement(t, caseSensitive)
		for _, c := range agreementCases {
			if !a.check(t, c.directory(), c.input()) {
				t.Errorf("directory for %+v refused", c)
			}
		}
	}
}

// FuzzIndexAgreesWithPolicy is TestIndexAgreesWithPolicy on any strings.
func FuzzIndexAgreesWithPolicy(f *testing.F) {
	for _, c := range agreementCases {
		f.Add(c.key, c.group, c.email, c.pingGroup)
	}
	sensitive, insensitive := newAgreement(f, true), newAgreement(f, false)
	f.Fuzz(func(t *testing.T, key, group, email, pingGroup string) {
		c := agreementCase{key, group, email, pingGroup}
		if sensitive.check(t, c.directory(), c.input()) {
			insensitive.check(t, c.directory(), c.input())
		}
	})
}
