package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/agnivade/levenshtein"
)

// Warning reports a variable that was ignored, and why.
type Warning struct {
	Var     string
	Message string
}

func (w Warning) String() string { return w.Var + ": " + w.Message }

// Problem is one reason the configuration is invalid. Var is the variable
// as it was written, or the canonical name of a missing one. Message never
// contains the client secret.
type Problem struct {
	Var     string
	Message string
}

func (p Problem) String() string { return p.Var + ": " + p.Message }

// ValidationError lists every problem found, not only the first.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems one per line, each starting with its variable.
func (e *ValidationError) Error() string {
	var b strings.Builder
	n := len(e.Problems)
	fmt.Fprintf(&b, "config: invalid SSO configuration for provider %q (%d problem%s):", Provider, n, plural(n))
	for _, p := range e.Problems {
		b.WriteString("\n")
		b.WriteString(p.String())
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// FromEnv loads the configuration from the process environment.
func FromEnv() (*Config, []Warning, error) {
	return Load(os.Environ())
}

// seenVar is the first variable that set a key.
type seenVar struct {
	name string
	v    Value
}

// Load reads the provider's keys from environ ("NAME=value" entries) the way
// ClearML does: names starting with CLEARML__ (in any case), split on "__",
// the path lower-cased, each value parsed with ParseValue. It starts from
// Default and collects every problem into a *ValidationError; on error the
// Config is nil. Variables outside the provider's sections are not looked
// at. Unknown or misplaced keys under them are ignored with a Warning.
//
// Value rules: null leaves the default. A key whose Config field may be
// empty (issuer, jwks_url, userinfo_url, token_endpoint_auth_method,
// policy__dir, default_company) treats "" as unset; elsewhere "" is a
// problem. A plain string where a list is expected is a one-element list;
// for scopes it is split on spaces, as OAuth writes scope strings. A blank
// string is an empty list. Numbers are read as strings in their literal
// spelling where a string is expected.
func Load(environ []string) (*Config, []Warning, error) {
	return load(environ, nil)
}

// load is Load reading only the keys read accepts (all when nil); the
// others are skipped without a word.
func load(environ []string, read func(keySpec) bool) (*Config, []Warning, error) {
	specs := keys()
	cfg := Default()
	var probs []Problem
	var warns []Warning
	seen := map[string]seenVar{}
	failed := map[string]bool{}
	misplaced := map[string]string{} // key -> variable that set it in the wrong section

	for _, kv := range environ {
		name, raw, ok := strings.Cut(kv, "=")
		if !ok || len(name) < len(EnvPrefix) || !strings.EqualFold(name[:len(EnvPrefix)], EnvPrefix) {
			continue
		}
		path := strings.ToLower(name[len(EnvPrefix):])
		secure, key, ours := splitPath(path)
		if !ours {
			if w, ok := sectionTypo(name, path); ok {
				warns = append(warns, w)
			}
			continue
		}
		if path+"__" == servicesSection || path+"__" == secureSection {
			probs = append(probs, Problem{name, fmt.Sprintf(
				"sets the whole provider section in one value, which is not supported; set each key in its own variable, e.g. %s",
				VarName("authorize_url", false))})
			continue
		}
		spec, known := lookup(specs, key, secure)
		if !known {
			if other, ok := lookup(specs, key, !secure); ok {
				misplaced[key] = name
				warns = append(warns, Warning{name, fmt.Sprintf(
					"is ignored: %s is read from the %s section; set %s instead",
					key, section(other.secure), other.varName())})
				continue
			}
			if children := childKeys(specs, key); len(children) > 0 {
				probs = append(probs, Problem{name, fmt.Sprintf(
					"sets %s as a whole, which is not supported; set each key in its own variable: %s",
					key, strings.Join(children, ", "))})
				continue
			}
			warns = append(warns, unknownKey(specs, name, key))
			continue
		}
		if read != nil && !read(spec) {
			continue
		}
		v, err := ParseValue(raw)
		if err != nil {
			probs = append(probs, Problem{name, syntaxMessage(spec, err)})
			failed[key] = true
			continue
		}
		warns = append(warns, valueWarnings(spec, name, v)...)
		if prev, dup := seen[key]; dup {
			other := "sets the same key as " + prev.name
			if prev.name == name {
				other = "is set twice"
			}
			if prev.v.Equal(v) {
				warns = append(warns, Warning{name, other + ", with the same value; keep one"})
			} else {
				probs = append(probs, Problem{name, other + ", with different values; keep one"})
				failed[key] = true
			}
			continue
		}
		seen[key] = seenVar{name, v}
		if msg := spec.decode(&cfg, v); msg != "" {
			probs = append(probs, Problem{name, msg})
			failed[key] = true
		}
	}

	for _, spec := range specs {
		if failed[spec.name] || spec.check == nil || read != nil && !read(spec) {
			continue
		}
		msg := spec.check(&cfg)
		if msg == "" {
			continue
		}
		if s, ok := seen[spec.name]; ok {
			probs = append(probs, Problem{s.name, msg})
			continue
		}
		if wrong, ok := misplaced[spec.name]; ok {
			msg += fmt.Sprintf(" (%s is set, but in the %s section, which is not read for this key)", wrong, section(!spec.secure))
		}
		probs = append(probs, Problem{spec.varName(), msg})
	}

	warns = append(warns, groupsOffWarnings(&cfg, func(key string) (string, bool) {
		s, ok := seen[key]
		return s.name, ok
	})...)
	sort.SliceStable(warns, func(i, j int) bool { return warns[i].Var < warns[j].Var })
	if len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool { return probs[i].Var < probs[j].Var })
		return nil, warns, &ValidationError{Problems: probs}
	}
	return &cfg, warns, nil
}

// splitPath finds the provider's section in a lower-cased path and returns
// the key under it ("" for the section itself).
func splitPath(path string) (secure bool, key string, ok bool) {
	switch {
	case strings.HasPrefix(path+"__", servicesSection):
		return false, strings.TrimPrefix(path, servicesSection), true
	case strings.HasPrefix(path+"__", secureSection):
		return true, strings.TrimPrefix(path, secureSection), true
	}
	return false, "", false
}

func section(secure bool) string {
	if secure {
		return "secure"
	}
	return "services"
}

func lookup(specs []keySpec, key string, secure bool) (keySpec, bool) {
	for _, s := range specs {
		if s.name == key && s.secure == secure {
			return s, true
		}
	}
	return keySpec{}, false
}

// childKeys lists the known keys under key when key is an object path such
// as "groups".
func childKeys(specs []keySpec, key string) []string {
	var out []string
	if key == "" {
		return nil
	}
	for _, s := range specs {
		if strings.HasPrefix(s.name, key+"__") {
			out = append(out, s.name)
		}
	}
	return out
}

// unknownKey builds the warning for a key no section knows, naming the
// closest known key when one is close enough to be a likely typo.
func unknownKey(specs []keySpec, name, key string) Warning {
	if s, ok := closest(specs, key); ok {
		return Warning{name, fmt.Sprintf("unknown key %q is ignored; did you mean %s (%s)?", key, s.name, s.varName())}
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.name)
	}
	return Warning{name, fmt.Sprintf("unknown key %q is ignored; known keys: %s", key, strings.Join(names, ", "))}
}

// closest returns the known key a mistyped key most likely meant: the only
// key whose last segment it is ("enabled" for groups__enabled), or else the
// key at the smallest edit distance if that distance is small for its length.
func closest(specs []keySpec, key string) (keySpec, bool) {
	var bySuffix []keySpec
	for _, s := range specs {
		if strings.HasSuffix(s.name, "__"+key) {
			bySuffix = append(bySuffix, s)
		}
	}
	if len(bySuffix) == 1 {
		return bySuffix[0], true
	}
	best, bestD := keySpec{}, -1
	for _, s := range specs {
		if d := levenshtein.ComputeDistance(key, s.name); bestD < 0 || d < bestD {
			best, bestD = s, d
		}
	}
	if bestD >= 0 && bestD <= max(2, len(key)/3) {
		return best, true
	}
	return keySpec{}, false
}

// syntaxMessage explains a value that does not parse, without any detail
// of a secret value.
func syntaxMessage(spec keySpec, err error) string {
	if spec.secret {
		return `is not a valid HOCON value (details withheld for a secret); write it in double quotes, escaping " and \ as in JSON`
	}
	var se *SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("is not a valid HOCON value: column %d: %s", se.Column, se.Msg)
	}
	return "is not a valid HOCON value: " + err.Error()
}
