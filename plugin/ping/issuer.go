package ping

import (
	"fmt"
	"net/url"
	"strings"
)

// p14eHost is the host of PingOne for Enterprise, whose issuer is per client.
const p14eHost = "sso.connect.pingidentity.com"

// DeriveIssuer guesses the issuer from a Ping authorize URL:
//
//   - PingOne (any TLD) or a PingOne custom domain, ".../as/authorize": the
//     URL without "/authorize";
//   - PingFederate, ".../as/authorization.oauth2": scheme, host, port and any
//     path prefix before "/as";
//   - PingOne for Enterprise (sso.connect.pingidentity.com):
//     "https://sso.connect.pingidentity.com/<clientID>".
//
// It does not contact the provider; discovery confirms or corrects the guess.
func DeriveIssuer(authorizeURL, clientID string) (string, error) {
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return "", fmt.Errorf("ping: authorize URL %q: %v", authorizeURL, err)
	}
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("ping: authorize URL %q is not absolute", authorizeURL)
	}
	base := strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
	if strings.EqualFold(u.Hostname(), p14eHost) {
		if clientID == "" {
			return "", fmt.Errorf("ping: PingOne for Enterprise needs the client id to derive the issuer")
		}
		return base + "/" + clientID, nil
	}
	path := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(path, "/as/authorize"):
		return base + strings.TrimSuffix(path, "/authorize"), nil
	case strings.HasSuffix(path, "/as/authorization.oauth2"):
		return base + strings.TrimSuffix(path, "/as/authorization.oauth2"), nil
	}
	return "", fmt.Errorf("ping: authorize URL %q has neither a PingOne (/as/authorize) nor a PingFederate (/as/authorization.oauth2) path", authorizeURL)
}

// sameEndpoint reports whether two endpoint URLs name the same resource:
// scheme and host compare case-insensitively, default ports and a trailing
// slash are ignored, path and query compare exactly.
func sameEndpoint(a, b string) bool {
	na, okA := normalizeEndpoint(a)
	nb, okB := normalizeEndpoint(b)
	return okA && okB && na == nb
}

func normalizeEndpoint(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	n := scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
	if u.RawQuery != "" {
		n += "?" + u.RawQuery
	}
	return n, true
}
