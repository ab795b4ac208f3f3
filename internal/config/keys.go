package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// EnvPrefix starts every variable ClearML reads its configuration from.
const EnvPrefix = "CLEARML__"

// The two sections the provider's keys live in, as lower-case paths joined
// with "__" and ending with the separator.
const (
	servicesSection = "services__login__sso__oauth_client__" + Provider + "__"
	secureSection   = "secure__login__sso__oauth_client__" + Provider + "__"
)

// VarName renders the canonical variable name for key, a path under the
// provider section written with "__" or "." between segments; secure picks
// the secure section (client_id, client_secret, default_company). It does
// not check that key is known.
func VarName(key string, secure bool) string {
	section := servicesSection
	if secure {
		section = secureSection
	}
	return EnvPrefix + section + strings.ReplaceAll(key, ".", "__")
}

// RequiredEnv returns the required variables as NAME=value entries, for
// callers that assemble an environment (the demo, tests). It does not
// validate the values; Load does.
func RequiredEnv(authorizeURL, tokenURL, clientID, clientSecret string) []string {
	return []string{
		VarName("authorize_url", false) + "=" + authorizeURL,
		VarName("access_token_url", false) + "=" + tokenURL,
		VarName("client_id", true) + "=" + clientID,
		VarName("client_secret", true) + "=" + clientSecret,
	}
}

// keySpec describes one known key: how a value is decoded into a Config,
// how it is shown, and what makes it invalid.
type keySpec struct {
	name   string // path under the section, segments joined by "__"
	secure bool   // lives in the secure section
	secret bool   // never echoed, in whole or in part
	policy bool   // shapes the decision policy (LoadPolicy reads it)
	// decode stores v into c; it returns a problem message, or "".
	// A null value leaves the default in place.
	decode func(c *Config, v Value) string
	// show renders the effective value for Summary.
	show func(c *Config) string
	// check validates the value in c; it returns a problem message, or "".
	check func(c *Config) string
}

func (k keySpec) varName() string { return VarName(k.name, k.secure) }

// keys returns the table of known keys, in the order they are documented.
func keys() []keySpec {
	claimName := func(s string) string { return checkName(s, "a claim name") }
	optionalURL := func(s string) string { return checkURL(s, "", false) }
	clientSecret := stringKey("client_secret", func(c *Config) *string { return &c.ClientSecret }, nil,
		func(s string) string { return checkRequired(s, "the client secret registered in Ping") })
	clientSecret.secret = true
	clientSecret.show = func(c *Config) string { return mask(c.ClientSecret) }
	return []keySpec{
		stringKey("authorize_url", func(c *Config) *string { return &c.AuthorizeURL }, nil, func(s string) string {
			return checkURL(s, "the Ping authorization endpoint, e.g. https://auth.pingone.com/<environment-id>/as/authorize", false)
		}),
		stringKey("access_token_url", func(c *Config) *string { return &c.AccessTokenURL }, nil, func(s string) string {
			return checkURL(s, "the Ping token endpoint, e.g. https://auth.pingone.com/<environment-id>/as/token", false)
		}),
		boolKey("code_challenge", func(c *Config) *bool { return &c.CodeChallenge }),
		stringKey("code_challenge_method", func(c *Config) *string { return &c.CodeChallengeMethod }, normalizePKCE,
			func(s string) string { return checkOneOf(s, "S256", "plain") }),
		boolKey("debug", func(c *Config) *bool { return &c.Debug }),
		shapesPolicy(boolKey("groups__enabled", func(c *Config) *bool { return &c.Groups.Enabled })),
		shapesPolicy(stringKey("groups__claim", func(c *Config) *string { return &c.Groups.Claim }, nil, checkGroupsClaim)),
		shapesPolicy(boolKey("groups__case_sensitive", func(c *Config) *bool { return &c.Groups.CaseSensitive })),
		shapesPolicy(listKey("groups__admins", func(c *Config) *[]string { return &c.Groups.Admins }, false, checkNames)),
		shapesPolicy(boolKey("groups__prohibit_user_signup_if_not_in_group", func(c *Config) *bool { return &c.Groups.ProhibitUserSignupIfNotInGroup })),
		shapesPolicy(boolKey("groups__from_dn", func(c *Config) *bool { return &c.Groups.FromDN })),
		stringKey("issuer", func(c *Config) *string { return &c.Issuer }, nil, func(s string) string { return checkURL(s, "", true) }),
		stringKey("jwks_url", func(c *Config) *string { return &c.JWKSURL }, nil, optionalURL),
		stringKey("userinfo_url", func(c *Config) *string { return &c.UserinfoURL }, nil, optionalURL),
		listKey("scopes", func(c *Config) *[]string { return &c.Scopes }, true, checkScopes),
		stringKey("claims__user_id", func(c *Config) *string { return &c.Claims.UserID }, nil, claimName),
		stringKey("claims__email", func(c *Config) *string { return &c.Claims.Email }, nil, claimName),
		stringKey("claims__name", func(c *Config) *string { return &c.Claims.Name }, nil, claimName),
		shapesPolicy(boolKey("require_verified_email", func(c *Config) *bool { return &c.RequireVerifiedEmail })),
		stringKey("token_endpoint_auth_method", func(c *Config) *string { return &c.TokenEndpointAuthMethod }, strings.ToLower,
			func(s string) string {
				if s == "" {
					return ""
				}
				return checkOneOf(s, "client_secret_basic", "client_secret_post")
			}),
		shapesPolicy(stringKey("policy__dir", func(c *Config) *string { return &c.PolicyDir }, nil, checkDir)),
		shapesPolicy(listKey("policy__insecure_builtins", func(c *Config) *[]string { return &c.PolicyInsecureBuiltins }, false, checkBuiltinNames)),
		shapesPolicy(stringKeyOf("policy__bundle", func(c *Config) *string { return &c.PolicyBundle }, checkBundle)),
		shapesPolicy(bundleKeyKey()),
		shapesPolicy(stringKey("policy__bundle_cache", func(c *Config) *string { return &c.PolicyBundleCache }, nil, nil)),
		boolKey("decision_log__console", func(c *Config) *bool { return &c.DecisionLog.Console }),
		stringKey("decision_log__file", func(c *Config) *string { return &c.DecisionLog.File }, nil, nil),
		stringKey("decision_log__url", func(c *Config) *string { return &c.DecisionLog.URL }, nil, optionalURL),
		stringKey("decision_log__server_id", func(c *Config) *string { return &c.DecisionLog.ServerID }, nil, nil),
		secure(stringKey("client_id", func(c *Config) *string { return &c.ClientID }, nil,
			func(s string) string { return checkRequired(s, "the client (application) ID registered in Ping") })),
		secure(clientSecret),
		shapesPolicy(secure(stringKey("default_company", func(c *Config) *string { return &c.DefaultCompany }, nil, nil))),
	}
}

// stringKey is a string setting held at field; norm rewrites a decoded value
// and check validates it, each when not nil.
func stringKey(name string, field func(*Config) *string, norm, check func(string) string) keySpec {
	k := keySpec{name: name, decode: decodeString(field, norm), show: func(c *Config) string { return *field(c) }}
	if check != nil {
		k.check = func(c *Config) string { return check(*field(c)) }
	}
	return k
}

// boolKey is a boolean setting held at field.
func boolKey(name string, field func(*Config) *bool) keySpec {
	return keySpec{name: name, decode: decodeBool(field), show: func(c *Config) string { return fmt.Sprint(*field(c)) }}
}

// listKey is a list setting held at field (see decodeList for splitSpaces),
// validated by check.
func listKey(name string, field func(*Config) *[]string, splitSpaces bool, check func([]string) string) keySpec {
	return keySpec{name: name, decode: decodeList(field, splitSpaces),
		show:  func(c *Config) string { return showList(*field(c)) },
		check: func(c *Config) string { return check(*field(c)) }}
}

// shapesPolicy marks k as a setting the decision policy depends on.
func shapesPolicy(k keySpec) keySpec {
	k.policy = true
	return k
}

// secure moves k to the secure section.
func secure(k keySpec) keySpec {
	k.secure = true
	return k
}

// mask hides a secret entirely: it tells only whether one is set.
func mask(s string) string {
	if s == "" {
		return ""
	}
	return "****"
}

func decodeBool(field func(*Config) *bool) func(*Config, Value) string {
	return func(c *Config, v Value) string {
		if v.Kind == KindNull {
			return ""
		}
		b, ok := v.AsBool()
		if !ok {
			return "accepts true or false (also yes/no, on/off); got " + describe(v)
		}
		*field(c) = b
		return ""
	}
}

// decodeString stores a string or number; norm, when set, rewrites it.
func decodeString(field func(*Config) *string, norm func(string) string) func(*Config, Value) string {
	return func(c *Config, v Value) string {
		if v.Kind == KindNull {
			return ""
		}
		s, ok := v.AsString()
		if !ok {
			return fmt.Sprintf("must be a string; got %s (quote the value if it is meant as text)", article(v.Kind))
		}
		if norm != nil {
			s = norm(s)
		}
		*field(c) = s
		return ""
	}
}

// decodeList stores a list of strings. A single string is a one-element
// list, or, with splitSpaces, a space-separated list (as OAuth writes
// scopes). A blank string is an empty list.
func decodeList(field func(*Config) *[]string, splitSpaces bool) func(*Config, Value) string {
	return func(c *Config, v Value) string {
		switch v.Kind {
		case KindNull:
			return ""
		case KindString, KindNumber:
			switch {
			case splitSpaces:
				*field(c) = strings.Fields(v.Str)
			case strings.TrimSpace(v.Str) == "":
				*field(c) = []string{}
			default:
				*field(c) = []string{v.Str}
			}
			return ""
		case KindList:
			out := make([]string, 0, len(v.List))
			for i, e := range v.List {
				s, ok := e.AsString()
				if !ok {
					return fmt.Sprintf("must be a list of strings; element %d is %s (quote it if it is meant as text)", i+1, article(e.Kind))
				}
				out = append(out, s)
			}
			*field(c) = out
			return ""
		}
		return fmt.Sprintf("must be a list of strings like [\"a\", \"b\"]; got %s", article(v.Kind))
	}
}

func normalizePKCE(s string) string {
	for _, m := range []string{"S256", "plain"} {
		if strings.EqualFold(s, m) {
			return m
		}
	}
	return s
}

// article names a kind with its article, for messages.
func article(k Kind) string {
	switch k {
	case KindNull:
		return "null"
	case KindList:
		return "a list"
	}
	return "a " + k.String()
}

// describe renders a non-secret value for a message, shortened if long.
func describe(v Value) string {
	s := v.String()
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	if v.Kind == KindString || v.Kind == KindNumber {
		return s
	}
	return article(v.Kind) + " " + s
}

func showList(l []string) string {
	v := Value{Kind: KindList, List: make([]Value, len(l))}
	for i, s := range l {
		v.List[i] = Value{Kind: KindString, Str: s}
	}
	return v.String()
}

func checkRequired(s, what string) string {
	if strings.TrimSpace(s) == "" {
		return "is required: " + what
	}
	return ""
}

func checkOneOf(s string, allowed ...string) string {
	for _, a := range allowed {
		if s == a {
			return ""
		}
	}
	return fmt.Sprintf("accepts %s; got %q", strings.Join(allowed, " or "), s)
}

func checkName(s, what string) string {
	if strings.TrimSpace(s) == "" {
		return "must be a non-empty string: " + what
	}
	return ""
}

func checkNames(l []string) string {
	for i, s := range l {
		if strings.TrimSpace(s) == "" {
			return fmt.Sprintf("must be a list of non-empty group names; element %d is empty", i+1)
		}
	}
	return ""
}

// checkBuiltinNames accepts Rego builtin names such as "http.send"; which
// of them may be named is the policy engine's to say.
func checkBuiltinNames(l []string) string {
	for _, s := range l {
		if !builtinNameRE.MatchString(s) {
			return fmt.Sprintf("must be a list of builtin names such as \"http.send\"; %q is not one", s)
		}
	}
	return ""
}

var builtinNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$`)

// checkScopes requires openid and scope tokens as RFC 6749 section 3.3
// defines them (printable ASCII without space, '"' or '\').
func checkScopes(l []string) string {
	hasOpenID := false
	for _, s := range l {
		if s == "" {
			return "must not contain an empty scope"
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
				return fmt.Sprintf("scope %q is not a valid OAuth scope (printable ASCII without spaces, '\"' or '\\'); list scopes separately", s)
			}
		}
		hasOpenID = hasOpenID || s == "openid"
	}
	if !hasOpenID {
		return fmt.Sprintf("must include openid (OpenID Connect needs it); got %s", showList(l))
	}
	return ""
}

// checkURL accepts an absolute https URL with a host, or http for a
// loopback host, without credentials or fragment; an issuer has no query
// either. An empty URL is fine unless required, which explains what the
// URL is for.
func checkURL(s, required string, issuer bool) string {
	if strings.TrimSpace(s) == "" {
		if required != "" {
			return "is required: " + required
		}
		return ""
	}
	const want = "must be an absolute https URL with a host (http only for localhost, 127.0.0.1 or [::1])"
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Sprintf("%s; %q is not a valid URL", want, s)
	}
	if u.User != nil {
		return "must not contain a user name or password"
	}
	if u.Scheme == "" || u.Hostname() == "" || u.Opaque != "" {
		return fmt.Sprintf("%s; got %q", want, s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return fmt.Sprintf("must use https: http is allowed only for localhost, 127.0.0.1 or [::1]; got %q", s)
		}
	default:
		return fmt.Sprintf("%s; got scheme %q in %q", want, u.Scheme, s)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Sprintf("must not have a fragment (#...); got %q", s)
	}
	if issuer && u.RawQuery != "" {
		return fmt.Sprintf("must not have a query (an OpenID Connect issuer has none); got %q", s)
	}
	return ""
}

// IsLoopback reports whether host is "localhost" or a loopback IP address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkDir(dir string) string {
	if dir == "" {
		return ""
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("must be an existing directory; %q does not exist", dir)
	case err != nil:
		return fmt.Sprintf("must be an existing directory; %v", err)
	case !fi.IsDir():
		return fmt.Sprintf("must be an existing directory; %q is not a directory", dir)
	}
	return ""
}
