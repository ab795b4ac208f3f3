package config

import (
	"fmt"
	"strings"
)

// checkGroupsClaim accepts a claim name, or a JSON pointer (RFC 6901) that
// starts with "/", whose every "~" starts the escape ~0 ("~") or ~1 ("/").
func checkGroupsClaim(s string) string {
	if msg := checkName(s, "a claim name, or a JSON pointer starting with /"); msg != "" {
		return msg
	}
	if !strings.HasPrefix(s, "/") {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '~' {
			continue
		}
		if i+1 == len(s) || s[i+1] != '0' && s[i+1] != '1' {
			return fmt.Sprintf("is not a valid JSON pointer: %q has a %q at byte %d that is not ~0 (for ~) or ~1 (for /)", s, "~", i+1)
		}
		i++
	}
	return ""
}
