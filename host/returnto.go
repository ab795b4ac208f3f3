package host

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxReturnTo bounds the length of a return path kept in the login state.
const maxReturnTo = 2048

// SafeReturnTo returns p when it is a same-origin relative path ("/x?y")
// and "/" otherwise. It rejects protocol-relative forms ("//host", "/\host"),
// any backslash (browsers read it as "/"), absolute URLs, control characters
// and invalid UTF-8. It does not check that the path exists.
func SafeReturnTo(p string) string {
	if p == "" || len(p) > maxReturnTo || p[0] != '/' || !utf8.ValidString(p) {
		return "/"
	}
	// "//host" leaves the origin, and so does "/\host": browsers read a
	// backslash as "/". A backslash anywhere is refused, since
	// http.Redirect cleans the path: "/./\host" or "/a/../\host" would
	// reach the browser as "/\host".
	if (len(p) > 1 && p[1] == '/') || strings.ContainsRune(p, '\\') {
		return "/"
	}
	for _, r := range p {
		// Browsers strip tab and newline from URLs, so "/\t/evil" could
		// become "//evil"; refuse every control character.
		if unicode.IsControl(r) {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return p
}
