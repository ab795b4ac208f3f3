package config

import (
	"net/url"
	"os"
	"strings"
)

// stringKeyOf is a string setting whose check sees the whole Config.
func stringKeyOf(name string, field func(*Config) *string, check func(*Config) string) keySpec {
	k := stringKey(name, field, nil, nil)
	k.check = check
	return k
}

// IsBundleURL reports whether a policy__bundle value names a remote bundle.
func IsBundleURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http")
}

// checkBundle accepts an existing file or directory, or an https URL (http
// only on loopback), and not together with policy__dir.
func checkBundle(c *Config) string {
	b := c.PolicyBundle
	if b == "" {
		return ""
	}
	if c.PolicyDir != "" {
		return "cannot be set together with " + VarName("policy__dir", false) + "; put the override policies in the bundle"
	}
	if IsBundleURL(b) {
		return checkURL(b, "", false)
	}
	if strings.Contains(b, "://") {
		return "must be a file or directory path, or an https URL; got " + b
	}
	if _, err := os.Stat(b); err != nil {
		return "must be an existing bundle file or directory, or an https URL; " + err.Error()
	}
	return ""
}

// bundleKeyKey is policy__bundle_public_key: PEM text or a path to a PEM
// file, shown as the path or as "(PEM)".
func bundleKeyKey() keySpec {
	k := stringKeyOf("policy__bundle_public_key", func(c *Config) *string { return &c.PolicyBundlePublicKey }, func(c *Config) string {
		k := c.PolicyBundlePublicKey
		switch {
		case k == "":
			return ""
		case c.PolicyBundle == "":
			return "is set but " + VarName("policy__bundle", false) + " is not; a key verifies a bundle"
		case strings.HasPrefix(strings.TrimSpace(k), "-----BEGIN"):
			return ""
		}
		if _, err := os.Stat(k); err != nil {
			return "must be a PEM public key or the path of one; " + err.Error()
		}
		return ""
	})
	k.show = func(c *Config) string {
		if strings.HasPrefix(strings.TrimSpace(c.PolicyBundlePublicKey), "-----BEGIN") {
			return "(PEM)"
		}
		return c.PolicyBundlePublicKey
	}
	return k
}
