package config

import (
	"fmt"
	"strings"

	"github.com/agnivade/levenshtein"
)

// valueWarnings notes what a value means that its author likely did not:
// single quotes, which HOCON keeps as part of the text, and ${VAR}, which
// ClearML does not expand. A secret's value is never quoted back.
func valueWarnings(spec keySpec, name string, v Value) []Warning {
	var warns []Warning
	texts := []Value{v}
	if v.Kind == KindList {
		texts = v.List
	}
	for i, e := range texts {
		if e.Kind != KindString {
			continue
		}
		where := "the value"
		if v.Kind == KindList {
			where = fmt.Sprintf("element %d", i+1)
		}
		s := e.Str
		if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
			msg := where + " starts and ends with a single quote, which HOCON keeps as part of the text (only \" quotes)"
			if !spec.secret {
				msg += fmt.Sprintf("; did you mean %s?", suggestQuoted(v))
			}
			warns = append(warns, Warning{name, msg})
		}
		if strings.Contains(s, "${") {
			msg := where + " contains ${...}, which is not expanded: the text is used as it is; write the value itself"
			warns = append(warns, Warning{name, msg})
		}
	}
	return warns
}

// suggestQuoted renders v with the single quotes of its strings turned into
// double quotes.
func suggestQuoted(v Value) string {
	unquote := func(e Value) Value {
		if e.Kind == KindString && len(e.Str) >= 2 && e.Str[0] == '\'' && e.Str[len(e.Str)-1] == '\'' {
			e.Str = e.Str[1 : len(e.Str)-1]
		}
		return e
	}
	if v.Kind != KindList {
		return unquote(v).String()
	}
	out := Value{Kind: KindList, List: make([]Value, len(v.List))}
	for j, e := range v.List {
		out.List[j] = unquote(e)
	}
	return out.String()
}

// groupsOffWarnings notes group settings that are set while groups are
// disabled; setVar returns the variable that set a key.
func groupsOffWarnings(c *Config, setVar func(key string) (string, bool)) []Warning {
	if c.Groups.Enabled {
		return nil
	}
	var warns []Warning
	if name, ok := setVar("groups__admins"); ok && len(c.Groups.Admins) > 0 {
		warns = append(warns, Warning{name, fmt.Sprintf(
			"has no effect while groups are disabled: role sync needs %s=true", VarName("groups__enabled", false))})
	}
	if name, ok := setVar("groups__prohibit_user_signup_if_not_in_group"); ok && c.Groups.ProhibitUserSignupIfNotInGroup {
		warns = append(warns, Warning{name, fmt.Sprintf(
			"is on while groups are disabled: sign-ups still need a Ping group that exists in ClearML, but memberships are not synchronized; set %s=true to synchronize them",
			VarName("groups__enabled", false))})
	}
	return warns
}

// sectionPaths are the provider's sections as path segments.
var sectionPaths = [][]string{
	strings.Split(strings.TrimSuffix(servicesSection, "__"), "__"),
	strings.Split(strings.TrimSuffix(secureSection, "__"), "__"),
}

// sectionTypo warns about a variable whose path looks like one of the
// provider's sections with a typo in one or more segments
// (oauth_clients, logins, pingone), and names the variable meant. A
// segment close to another provider's name is not taken for a typo of
// ours unless it starts with it or is one edit away.
func sectionTypo(name, path string) (Warning, bool) {
	segs := strings.Split(path, "__")
	for _, want := range sectionPaths {
		if len(segs) <= len(want) {
			continue
		}
		var wrong []string
		close := true
		for i, w := range want {
			got := segs[i]
			if got == w {
				continue
			}
			provider := i == len(want)-1
			if !closeSegment(got, w, provider) {
				close = false
				break
			}
			if provider {
				wrong = append(wrong, fmt.Sprintf("provider %q is not %q", got, w))
			} else {
				wrong = append(wrong, fmt.Sprintf("%q is not %q", got, w))
			}
		}
		if !close || len(wrong) == 0 {
			continue
		}
		meant := EnvPrefix + strings.Join(append(append([]string(nil), want...), segs[len(want):]...), "__")
		return Warning{name, fmt.Sprintf("is not read: %s; did you mean %s?", strings.Join(wrong, ", "), meant)}, true
	}
	return Warning{}, false
}

// closeSegment reports whether got is likely a typo of want. For the
// provider segment, other providers' names must not match: only a variant
// that starts with the name or is one edit away.
func closeSegment(got, want string, provider bool) bool {
	if provider {
		return strings.HasPrefix(got, want) || levenshtein.ComputeDistance(got, want) <= 1
	}
	return levenshtein.ComputeDistance(got, want) <= max(1, len(want)/4)
}
