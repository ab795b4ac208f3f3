package config

import "strings"

// Summary returns the effective configuration as flat keys, the provider
// paths with "." between segments ("groups.enabled" -> "true"). Lists are
// rendered as HOCON lists and unset optional values as "". The client
// secret shows only "****" when set: nothing about it is derived or shown.
func (c *Config) Summary() map[string]string {
	out := map[string]string{}
	for _, s := range keys() {
		out[strings.ReplaceAll(s.name, "__", ".")] = s.show(c)
	}
	return out
}

// Validate checks a Config built in code with the rules Load applies,
// naming each problem's canonical variable. It returns a *ValidationError
// listing every problem, or nil. It does not normalize values: the
// methods must be spelled exactly ("S256", "client_secret_post").
func (c *Config) Validate() error {
	var probs []Problem
	for _, s := range keys() {
		if s.check == nil {
			continue
		}
		if msg := s.check(c); msg != "" {
			probs = append(probs, Problem{s.varName(), msg})
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return &ValidationError{Problems: probs}
}
