package pingcheck

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/rego"
	"github.com/pingauthz/pingauthz/sso"
)

// UserFinder returns the existing ClearML user with an issuer and user id,
// or an error wrapping sso.ErrNotFound.
type UserFinder func(ctx context.Context, issuer, userID string) (*sso.User, error)

// Decider evaluates the effective policy set for a login's identity, as the
// plugin would, against a directory. It applies nothing.
type Decider struct {
	engine    *rego.Engine
	find      UserFinder
	directory string
}

// NewDecider compiles the policy set of cfg and loads dir. find looks up
// existing users (nil: every login is a first login); source names the
// directory in the report, e.g. "--db ml.db".
func NewDecider(ctx context.Context, cfg *config.Config, dir *sso.Directory, find UserFinder, source string) (*Decider, error) {
	engine, err := rego.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := engine.SetDirectory(ctx, dir); err != nil {
		return nil, fmt.Errorf("pingcheck: %s: %w", source, err)
	}
	return &Decider{engine: engine, find: find, directory: source}, nil
}

// Revision identifies the policy set.
func (d *Decider) Revision() string { return d.engine.Revision() }

// decide evaluates the decision and the decision check.
func (d *Decider) decide(ctx context.Context, id *sso.Identity) (*Decision, Check) {
	out := &Decision{Directory: d.directory, Revision: d.engine.Revision(), Reasons: []Reason{}}
	if d.find != nil {
		u, err := d.find(ctx, id.Issuer, id.UserID)
		switch {
		case errors.Is(err, sso.ErrNotFound):
		case err != nil:
			return out, fail(CheckDecision, "The existing user could not be looked up in %s: %v.", d.directory, err)
		default:
			out.User = u
		}
	}
	dec, perr, err := d.engine.DecideDetail(ctx, &sso.Input{Identity: *id, User: out.User})
	if err != nil {
		return out, fail(CheckDecision, "The decision could not be evaluated: %v.", err)
	}
	out.Decision = dec
	for _, code := range dec.Reasons {
		out.Reasons = append(out.Reasons, Reason{Code: code, Sentence: sso.Sentence(code)})
	}
	if perr != nil {
		return out, fail(CheckDecision, "The policy failed (%s), so every such login is denied: %s.",
			sso.ReasonPolicyError, strings.TrimPrefix(perr.Error(), "rego: "))
	}
	return out, pass(CheckDecision, "Against %s, the policies (revision %s) %s.", d.directory, shortRevision(out.Revision), verdict(out))
}

// verdict summarizes a decision in words.
func verdict(d *Decision) string {
	dec := d.Decision
	who := "a new user"
	if d.User != nil {
		who = "the existing user " + d.User.ID
	}
	if !dec.Allow {
		return "deny " + who
	}
	role := "keeps the role"
	if dec.Role != nil {
		role = "role " + *dec.Role
	}
	s := fmt.Sprintf("allow %s into company %s, %s", who, dec.Company, role)
	if dec.SyncGroups {
		s += ", groups " + quoteList(dec.Groups)
	}
	return s
}

// shortRevision keeps the start of a "sha256:..." revision.
func shortRevision(r string) string {
	if len(r) > 19 {
		return r[:19]
	}
	return r
}
