package rego

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/types"

	"github.com/pingauthz/pingauthz/sso"
)

// extensionKind is what an extension rule holds.
type extensionKind int

const (
	denials   extensionKind = iota // set of {"code": "deny:NAME", "message": TEXT}
	codes                          // set of "PREFIX:NAME"
	names                          // set of ClearML group names
	companyID                      // one company id
)

// extensionRule is one rule of package clearml.sso.extend.
type extensionRule struct {
	name   string
	kind   extensionKind
	prefix string // of its codes: "deny", "signup" or "role"
}

// extensionRules are the rules the defaults consult, in DESIGN order.
var extensionRules = []extensionRule{
	{"deny", denials, "deny"},
	{"deny_signup", denials, "deny"},
	{"signup", codes, "signup"},
	{"company", companyID, ""},
	{"admin", codes, "role"},
	{"not_admin", codes, "role"},
	{"groups", names, ""},
}

func lookupExtensionRule(name string) (extensionRule, bool) {
	i := slices.IndexFunc(extensionRules, func(r extensionRule) bool { return r.name == name })
	if i < 0 {
		return extensionRule{}, false
	}
	return extensionRules[i], true
}

// codeRE is the form of every extension code.
var codeRE = regexp.MustCompile(`^(deny|signup|role):[a-z0-9_]+$`)

// checkCode returns what is wrong with code as a code of rule r, or "".
func (r extensionRule) checkCode(code string) string {
	switch {
	case !codeRE.MatchString(code) || !strings.HasPrefix(code, r.prefix+":"):
		return fmt.Sprintf("code %q must match ^%s:[a-z0-9_]+$ (lower-case letters, digits and _ after %q)", code, r.prefix, r.prefix+":")
	case slices.Contains(sso.Reasons(), code):
		return fmt.Sprintf("code %q is a built-in reason; choose another name", code)
	}
	return ""
}

// shape says what the rule must hold, for messages.
func (r extensionRule) shape() string {
	switch r.kind {
	case denials:
		return fmt.Sprintf(`a set of {"code": "deny:NAME", "message": TEXT} objects, e.g. %s contains {"code": "deny:contractor", "message": "..."} if ...`, r.name)
	case codes:
		return fmt.Sprintf(`a set of codes, e.g. %s contains "%s:team_lead" if ...`, r.name, r.prefix)
	case names:
		return fmt.Sprintf(`a set of ClearML group names, e.g. %s contains "ML Team" if ...`, r.name)
	}
	return `one company id, e.g. company := "c2" if ...`
}

// extensionInfo is what the compiled policy set defines in the extension
// package: the rules, each with the place of its first definition.
type extensionInfo struct {
	defined []string          // rule names, in extensionRules order
	where   map[string]string // rule name -> "file:line"
}

// extensionProblems checks the extension rules of a compiled policy set
// before any login: every rule under data.clearml.sso.extend is one of
// extensionRules (helpers start with "_"), of the right kind (a set or a
// single value, not a function), with a type that can be right, and every
// literal code or entry in its definitions has the right form. Each error
// names the file, line and rule.
func extensionProblems(c *ast.Compiler) (*extensionInfo, ast.Errors) {
	info := &extensionInfo{where: map[string]string{}}
	var errs ast.Errors
	rules := c.GetRulesWithPrefix(extendRef)
	slices.SortFunc(rules, func(a, b *ast.Rule) int { return compareLocations(a.Location, b.Location) })
	for _, r := range rules {
		ref := r.Ref()
		name := strings.Trim(ref[len(extendRef)].String(), `"`)
		if strings.HasPrefix(name, "_") || strings.HasPrefix(name, "test_") {
			continue
		}
		errf := func(format string, args ...any) {
			errs = append(errs, ast.NewError(ast.CompileErr, r.Location, "extension rule %s: "+format, append([]any{name}, args...)...))
		}
		rule, known := lookupExtensionRule(name)
		if !known {
			errf("is not an extension rule; %s (name helper rules with a leading _)", suggestRule(name))
			continue
		}
		if _, seen := info.where[name]; !seen {
			info.where[name] = locationString(r.Location)
		}
		switch {
		case len(r.Head.Args) > 0:
			errf("must be %s, not a function", rule.shape())
			continue
		case len(ref) > len(extendRef)+1:
			errf("must be %s, not an object", rule.shape())
			continue
		case rule.kind == companyID && r.Head.RuleKind() == ast.MultiValue:
			errf("must be %s, not a set", rule.shape())
			continue
		}
		for _, msg := range checkStaticValue(rule, r, c.TypeEnv.GetByRef(ref)) {
			errf("%s", msg)
		}
	}
	for _, rule := range extensionRules {
		if _, ok := info.where[rule.name]; ok {
			info.defined = append(info.defined, rule.name)
		}
	}
	return info, errs
}

// checkStaticValue checks what is known before evaluation: the inferred
// type of the rule and the literal values of one definition.
func checkStaticValue(rule extensionRule, r *ast.Rule, t types.Type) []string {
	var elems []*ast.Term // literal elements of a set
	switch {
	case r.Head.RuleKind() == ast.MultiValue:
		elems = append(elems, r.Head.Key)
	case rule.kind == companyID:
		if !mayBe(t, isString) {
			return []string{fmt.Sprintf("must be %s; it is %s", rule.shape(), types.Sprint(t))}
		}
		if v := r.Head.Value.Value; ast.IsConstant(v) {
			if msg := checkValue(rule, v); msg != "" {
				return []string{msg}
			}
		}
		return nil
	default:
		if !mayBe(t, isSet) {
			return []string{fmt.Sprintf("must be %s; it is %s", rule.shape(), types.Sprint(t))}
		}
		switch v := r.Head.Value.Value.(type) {
		case ast.Set:
			elems = v.Slice()
		default:
			if ast.IsConstant(v) {
				return []string{checkValue(rule, v)}
			}
		}
	}
	if msg := checkElementType(rule, types.Values(t)); msg != "" {
		return []string{msg}
	}
	var out []string
	for _, e := range elems {
		if msg := checkElement(rule, e.Value, true); msg != "" {
			out = append(out, msg)
		}
	}
	return out
}

// checkElementType checks the inferred type of a set rule's elements.
func checkElementType(rule extensionRule, elem types.Type) string {
	switch rule.kind {
	case codes, names:
		if !mayBe(elem, isString) {
			return fmt.Sprintf("must be %s; its elements are %s", rule.shape(), types.Sprint(elem))
		}
	case denials:
		if !mayBe(elem, isObject) {
			return fmt.Sprintf("must be %s; its elements are %s", rule.shape(), types.Sprint(elem))
		}
		for _, key := range []string{"code", "message"} {
			if v := types.Select(elem, key); v != nil && !mayBe(v, isString) {
				return fmt.Sprintf("entry %s must be a string; it is %s", key, types.Sprint(v))
			}
		}
	}
	return ""
}

// checkElement checks one element of a set rule. Before evaluation
// (static), parts that are not constant yet are skipped.
func checkElement(rule extensionRule, v ast.Value, static bool) string {
	switch rule.kind {
	case denials:
		obj, ok := v.(ast.Object)
		if !ok {
			if static && !ast.IsConstant(v) {
				return ""
			}
			return fmt.Sprintf("entry %s is %s; want %s", shortValue(v), ast.ValueName(v), rule.shape())
		}
		var keys []string
		for _, k := range obj.Keys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{`"code"`, `"message"`}) {
			return fmt.Sprintf("entry %s has the keys %s; want exactly \"code\" and \"message\"", shortValue(v), strings.Join(keys, ", "))
		}
		if msg := checkString(obj.Get(ast.InternedTerm("code")).Value, static, rule.checkCode); msg != "" {
			return msg
		}
		return checkString(obj.Get(ast.InternedTerm("message")).Value, static, checkMessageText)
	case codes:
		return checkString(v, static, rule.checkCode)
	case names:
		return checkString(v, static, func(s string) string {
			if s == "" {
				return "group names must not be empty"
			}
			return ""
		})
	}
	return ""
}

// checkString applies check to v when it is a string; a value that is not
// constant yet passes before evaluation (static); anything else is the
// wrong type.
func checkString(v ast.Value, static bool, check func(string) string) string {
	if s, ok := v.(ast.String); ok {
		return check(string(s))
	}
	if static && !ast.IsConstant(v) {
		return ""
	}
	return fmt.Sprintf("%s is %s, not a string", shortValue(v), ast.ValueName(v))
}

// checkMessageText is messageField's rule for a deny's text.
func checkMessageText(s string) string {
	if n := utf8.RuneCountInString(s); n > maxMessage {
		return fmt.Sprintf("message has %d characters; at most %d", n, maxMessage)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "message has a control character; plain text only"
	}
	return ""
}

// validate checks the evaluated extension rules of one login (an object
// from rule name to value, for the rules defined for it) and returns the
// first problem, naming the rule and where it is defined, or "".
func (x *extensionInfo) validate(v ast.Value) string {
	obj, ok := v.(ast.Object)
	if !ok {
		return ""
	}
	for _, name := range x.defined {
		t := obj.Get(ast.StringTerm(name))
		if t == nil {
			continue // undefined for this login
		}
		rule, _ := lookupExtensionRule(name)
		if msg := checkValue(rule, t.Value); msg != "" {
			return fmt.Sprintf("extension rule %s (%s): %s", name, x.where[name], msg)
		}
	}
	return ""
}

func checkValue(rule extensionRule, v ast.Value) string {
	if rule.kind == companyID {
		s, ok := v.(ast.String)
		if !ok {
			return fmt.Sprintf("must be %s; it is %s %s", rule.shape(), ast.ValueName(v), shortValue(v))
		}
		if s == "" {
			return "must be a non-empty company id"
		}
		return ""
	}
	set, ok := v.(ast.Set)
	if !ok {
		return fmt.Sprintf("must be %s; it is %s %s", rule.shape(), ast.ValueName(v), shortValue(v))
	}
	var msg string
	set.Until(func(t *ast.Term) bool {
		msg = checkElement(rule, t.Value, false)
		return msg != ""
	})
	return msg
}

// mayBe reports whether a value of type t can satisfy ok; an unknown type
// can.
func mayBe(t types.Type, ok func(types.Type) bool) bool {
	switch x := t.(type) {
	case nil:
		return true
	case types.Any:
		if len(x) == 0 {
			return true
		}
		return slices.ContainsFunc(x, func(m types.Type) bool { return mayBe(m, ok) })
	case *types.NamedType:
		return mayBe(x.Type, ok)
	}
	return ok(t)
}

func isSet(t types.Type) bool    { _, ok := t.(*types.Set); return ok }
func isObject(t types.Type) bool { _, ok := t.(*types.Object); return ok }
func isString(t types.Type) bool { _, ok := t.(types.String); return ok }

// suggestRule names the closest extension rule to a mistyped name.
func suggestRule(name string) string {
	best, bestD := "", -1
	var all []string
	for _, r := range extensionRules {
		all = append(all, r.name)
		if d := levenshtein.ComputeDistance(name, r.name); bestD < 0 || d < bestD {
			best, bestD = r.name, d
		}
	}
	if bestD <= max(2, len(name)/3) {
		return fmt.Sprintf("did you mean %s?", best)
	}
	return "the rules are " + strings.Join(all, ", ")
}

func shortValue(v ast.Value) string {
	s := v.String()
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

func locationString(loc *ast.Location) string {
	if loc == nil {
		return "unknown file"
	}
	return fmt.Sprintf("%s:%d", loc.File, loc.Row)
}

func compareLocations(a, b *ast.Location) int {
	switch {
	case a == nil || b == nil:
		return 0
	case a.File != b.File:
		return strings.Compare(a.File, b.File)
	}
	return a.Row - b.Row
}
