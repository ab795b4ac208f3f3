package pingemu

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-ldap/ldap/v3"
)

// grant is what a redeemed code authorizes.
type grant struct {
	client            Client
	scope, nonce, sid string
	authTime          time.Time
}

// scopeOfClaim maps the standard OIDC claims to the scope releasing them;
// other claims are always released.
var scopeOfClaim = map[string]string{
	"name": "profile", "family_name": "profile", "given_name": "profile", "middle_name": "profile",
	"nickname": "profile", "preferred_username": "profile", "profile": "profile", "picture": "profile",
	"website": "profile", "gender": "profile", "birthdate": "profile", "zoneinfo": "profile",
	"locale": "profile", "updated_at": "profile",
	"email": "email", "email_verified": "email",
	"address":      "address",
	"phone_number": "phone", "phone_number_verified": "phone",
}

// Values of the PingOne-only ID token claims.
const (
	pingOneOrg    = "0c6d2f4a-8b1e-4d7a-9f3c-5e2a1b7d9c40"
	pingOneRegion = "NA"
)

// userClaims returns the user's claims released by scope, with groups shaped
// per the faults. It does not include sub.
func userClaims(u *User, scope string, f Faults) map[string]any {
	scopes := strings.Fields(scope)
	out := map[string]any{}
	for k, v := range u.Claims {
		if sc, std := scopeOfClaim[k]; std && !slices.Contains(scopes, sc) {
			continue
		}
		out[k] = v
	}
	if _, ok := out["preferred_username"]; !ok && slices.Contains(scopes, "profile") {
		out["preferred_username"] = u.Username
	}
	groups := u.Groups
	if f.GroupsAsDN {
		groups = make([]string, len(u.Groups))
		for i, g := range u.Groups {
			groups[i] = GroupDN(g)
		}
	}
	switch f.GroupsShape {
	case GroupsAbsent:
	case GroupsString:
		if len(groups) > 0 {
			out[f.groupsClaim()] = groups[0]
		}
	default:
		if len(groups) > 0 {
			out[f.groupsClaim()] = slices.Clone(groups)
		}
	}
	return out
}

// GroupDNBase is the part of GroupDN after the group's CN.
const GroupDNBase = "OU=Groups,DC=example,DC=com"

// GroupDN returns the LDAP DN PingFederate's memberOf would carry for a
// group: CN=<name>,OU=Groups,DC=example,DC=com, the name escaped as RFC 4514
// says.
func GroupDN(name string) string {
	return "CN=" + ldap.EscapeDN(name) + "," + GroupDNBase
}

// idTokenClaims builds the ID token's claim set, faults applied.
func (s *Server) idTokenClaims(g grant, u *User, f Faults, accessToken string, now time.Time) map[string]any {
	c := map[string]any{}
	if !f.ClaimsOnlyInUserinfo {
		for k, v := range userClaims(u, g.scope, f) {
			c[k] = v
		}
		c["acr"] = s.acr()
		c["amr"] = []string{"pwd"}
		c["sid"] = g.sid
		c["at_hash"] = atHash(accessToken)
		if s.flavor != PingFederate {
			c["env"] = s.envID
			c["org"] = pingOneOrg
			c["p1.region"] = pingOneRegion
		}
	}
	c["iss"] = s.Issuer()
	if f.WrongIssuer {
		c["iss"] = s.Issuer() + "/other"
	}
	if !f.MissingSub {
		c["sub"] = u.Subject
	}
	aud := g.client.ID
	if f.WrongAudience {
		aud = "other-" + g.client.ID
	}
	if f.AudArrayWithAzp {
		c["aud"] = []string{aud, "other-audience"}
		c["azp"] = aud
	} else {
		c["aud"] = aud
	}
	iat, exp := now, now.Add(s.ttl)
	if f.Expired {
		exp = now.Add(-5 * time.Minute)
		iat = exp.Add(-s.ttl)
	}
	if !f.MissingIat {
		c["iat"] = iat.Unix()
	}
	c["exp"] = exp.Unix()
	c["auth_time"] = g.authTime.Unix()
	switch {
	case f.WrongNonce:
		c["nonce"] = g.nonce + "-other"
	case g.nonce != "":
		c["nonce"] = g.nonce
	}
	return c
}

// idToken builds and signs the ID token as the faults say.
func (s *Server) idToken(g grant, u *User, f Faults, key jose.JSONWebKey, accessToken string, now time.Time) (string, error) {
	claims := s.idTokenClaims(g, u, f, accessToken, now)
	var tok string
	var err error
	switch {
	case f.AlgNone:
		return unsignedJWT(claims)
	case f.HS256:
		tok, err = signHS256(g.client.Secret, claims)
	default:
		tok, err = signRS256(key, claims, !f.OmitKid)
	}
	if err != nil || !f.BadSignature {
		return tok, err
	}
	return corruptSignature(tok)
}

func (s *Server) acr() string {
	if s.flavor == PingFederate {
		return "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
	}
	return "Single_Factor"
}

// atHash is the OIDC at_hash for an RS256/HS256 token.
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
