package email

import (
	"context"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/pingauthz/pingauthz/policies"
)

// regoRulePath is the Rego twin of this package.
const regoRulePath = "clearml/email/email.rego"

// probeModule reads every function of the Rego rule for the input string,
// null where it is undefined.
const probeModule = `package probe

import data.clearml.email

default valid := false

valid if email.valid(input)

default valid_domain := false

valid_domain if email.valid_domain(input)

default key := null

key := email.key(input)

default domain_key := null

domain_key := email.domain_key(input)

default domain := null

domain := email.domain(input)
`

// regoRule evaluates the Rego rule through OPA.
type regoRule struct{ query rego.PreparedEvalQuery }

func newRegoRule(tb testing.TB) *regoRule {
	tb.Helper()
	src, err := policies.FS.ReadFile(regoRulePath)
	if err != nil {
		tb.Fatal(err)
	}
	q, err := rego.New(
		rego.Query("data.probe"),
		rego.Module(regoRulePath, string(src)),
		rego.Module("probe.rego", probeModule),
	).PrepareForEval(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return &regoRule{q}
}

// regoResult is what the Rego rule says about one string; an undefined key
// is "" with its ok false.
type regoResult struct {
	valid, validDomain bool
	key, domainKey     string
	keyOK, domainKeyOK bool
	domain             string
	domainOK           bool
}

func (r *regoRule) eval(tb testing.TB, s string) regoResult {
	tb.Helper()
	rs, err := r.query.Eval(context.Background(), rego.EvalParsedInput(ast.String(s)))
	if err != nil || len(rs) != 1 {
		tb.Fatalf("eval %q: %v, %d results", s, err, len(rs))
	}
	obj := rs[0].Expressions[0].Value.(map[string]any)
	str := func(k string) (string, bool) {
		v, ok := obj[k].(string)
		return v, ok
	}
	var out regoResult
	out.valid = obj["valid"].(bool)
	out.validDomain = obj["valid_domain"].(bool)
	out.key, out.keyOK = str("key")
	out.domainKey, out.domainKeyOK = str("domain_key")
	out.domain, out.domainOK = str("domain")
	return out
}

// goResult is what this package says about s, in the same terms.
func goResult(s string) regoResult {
	out := regoResult{valid: Valid(s), validDomain: ValidDomain(s)}
	out.key, out.keyOK = Key(s)
	out.domainKey, out.domainKeyOK = DomainKey(s)
	if out.keyOK {
		out.domain, out.domainOK = out.key[strings.IndexByte(out.key, '@')+1:], true
	}
	return out
}

// TestPatternsAreShared checks that the Rego rule uses this package's
// patterns, byte for byte.
func TestPatternsAreShared(t *testing.T) {
	src, err := policies.FS.ReadFile(regoRulePath)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := ast.ParseModuleWithOpts(regoRulePath, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"pattern": Pattern, "domain_pattern": DomainPattern}
	for _, r := range mod.Rules {
		name := r.Head.Name.String()
		w, ok := want[name]
		if !ok {
			continue
		}
		delete(want, name)
		if got, ok := r.Head.Value.Value.(ast.String); !ok || string(got) != w {
			t.Errorf("%s in %s is %v, want the Go pattern %q", name, regoRulePath, r.Head.Value, w)
		}
	}
	for name := range want {
		t.Errorf("%s defines no %s", regoRulePath, name)
	}
}

// TestRegoAgrees checks that the Rego rule and this package give the same
// answers.
func TestRegoAgrees(t *testing.T) {
	r := newRegoRule(t)
	inputs := []string{"Corp.Example", "bücher.example", "x_y.example", "@corp.example", "-a.example"}
	for _, tc := range addressCases {
		inputs = append(inputs, tc.addr, Normalize(tc.addr))
	}
	for _, s := range inputs {
		if got, want := r.eval(t, s), goResult(s); got != want {
			t.Errorf("%q: Rego %+v, Go %+v", s, got, want)
		}
	}
}

// FuzzRegoAgrees is TestRegoAgrees on any string.
func FuzzRegoAgrees(f *testing.F) {
	for _, tc := range addressCases {
		f.Add(tc.addr)
	}
	r := newRegoRule(f)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := r.eval(t, s), goResult(s); got != want {
			t.Errorf("%q: Rego %+v, Go %+v", s, got, want)
		}
	})
}
