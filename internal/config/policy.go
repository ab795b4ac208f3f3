package config

// Placeholders LoadPolicy gives the required settings it does not read, so
// that a Config for the policy commands validates. They name nothing real:
// .invalid never resolves.
const (
	PlaceholderAuthorizeURL   = "https://ping.invalid/as/authorize"
	PlaceholderAccessTokenURL = "https://ping.invalid/as/token"
	PlaceholderClientID       = "placeholder-client-id"
	PlaceholderClientSecret   = "placeholder-not-a-secret"
)

// LoadPolicy is Load for the commands that only render, test or evaluate
// the decision policies: it reads and checks the keys that shape them
// (default_company, the groups__ keys, require_verified_email and the
// policy__ keys) and leaves every other key of the provider unread, the
// client secret included. The required settings get the placeholders
// above. Unknown keys and typos are warned about as Load does.
func LoadPolicy(environ []string) (*Config, []Warning, error) {
	cfg, warns, err := load(environ, func(k keySpec) bool { return k.policy })
	if err != nil {
		return nil, warns, err
	}
	cfg.AuthorizeURL, cfg.AccessTokenURL = PlaceholderAuthorizeURL, PlaceholderAccessTokenURL
	cfg.ClientID, cfg.ClientSecret = PlaceholderClientID, PlaceholderClientSecret
	return cfg, warns, nil
}

// PolicyKeys lists the keys LoadPolicy reads, as paths with "__".
func PolicyKeys() []string {
	var out []string
	for _, k := range keys() {
		if k.policy {
			out = append(out, k.name)
		}
	}
	return out
}
