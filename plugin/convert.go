package plugin

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/pingauthz/pingauthz/sso"

	pb "github.com/pingauthz/pingauthz/plugin/proto"
)

// The converters below translate between the Go contract and its protobuf
// messages. Protobuf does not tell an empty list or map from a missing one:
// the receiving side always gets nil for an empty list or map. Claims travel
// as a JSON object and come back as encoding/json decodes them (numbers as
// float64).

func identityToProto(id *sso.Identity) (*pb.Identity, error) {
	p := identityToProtoWithoutClaims(id)
	if len(id.Claims) > 0 {
		var err error
		if p.Claims, err = json.Marshal(id.Claims); err != nil {
			return nil, fmt.Errorf("plugin: encoding the claims of %q: %w", id.Subject, err)
		}
	}
	return p, nil
}

// identityToProtoWithoutClaims is the identity Complete sends the host,
// which does not read claims.
func identityToProtoWithoutClaims(id *sso.Identity) *pb.Identity {
	return &pb.Identity{
		Issuer:        id.Issuer,
		Subject:       id.Subject,
		UserId:        id.UserID,
		Email:         id.Email,
		EmailVerified: id.EmailVerified,
		Name:          id.Name,
		Groups:        id.Groups,
	}
}

func identityFromProto(p *pb.Identity) (sso.Identity, error) {
	if p == nil {
		return sso.Identity{}, nil
	}
	id := sso.Identity{
		Issuer:        p.GetIssuer(),
		Subject:       p.GetSubject(),
		UserID:        p.GetUserId(),
		Email:         p.GetEmail(),
		EmailVerified: p.EmailVerified,
		Name:          p.GetName(),
		Groups:        p.GetGroups(),
	}
	if len(p.GetClaims()) > 0 {
		if err := decodeClaims(p.GetClaims(), &id.Claims); err != nil {
			return sso.Identity{}, fmt.Errorf("plugin: decoding the claims of %q: %w", id.Subject, err)
		}
	}
	return id, nil
}

// decodeClaims decodes a JSON object and rejects anything after it.
func decodeClaims(data []byte, claims *map[string]any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(claims); err != nil {
		return err
	}
	if *claims == nil {
		return fmt.Errorf("claims are not a JSON object")
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the claims object")
	}
	return nil
}

func userToProto(u *sso.User) *pb.User {
	if u == nil {
		return nil
	}
	return &pb.User{Id: u.ID, Company: u.Company, Role: u.Role, Groups: u.Groups}
}

func userFromProto(p *pb.User) *sso.User {
	if p == nil {
		return nil
	}
	return &sso.User{ID: p.GetId(), Company: p.GetCompany(), Role: p.GetRole(), Groups: p.GetGroups()}
}

func inputToProto(in *sso.Input) (*pb.DecideRequest, error) {
	id, err := identityToProto(&in.Identity)
	if err != nil {
		return nil, err
	}
	return &pb.DecideRequest{Identity: id, User: userToProto(in.User)}, nil
}

func inputFromProto(p *pb.DecideRequest) (*sso.Input, error) {
	id, err := identityFromProto(p.GetIdentity())
	if err != nil {
		return nil, err
	}
	return &sso.Input{Identity: id, User: userFromProto(p.GetUser())}, nil
}

func decisionToProto(d *sso.Decision) *pb.Decision {
	return &pb.Decision{
		Allow:      d.Allow,
		Signup:     d.Signup,
		Company:    d.Company,
		Role:       d.Role,
		SyncGroups: d.SyncGroups,
		Groups:     d.Groups,
		Reasons:    d.Reasons,
		Message:    d.Message,
		DecisionId: d.DecisionID,
	}
}

func decisionFromProto(p *pb.Decision) *sso.Decision {
	return &sso.Decision{
		Allow:      p.GetAllow(),
		Signup:     p.GetSignup(),
		Company:    p.GetCompany(),
		Role:       p.Role,
		SyncGroups: p.GetSyncGroups(),
		Groups:     p.GetGroups(),
		Reasons:    p.GetReasons(),
		Message:    p.GetMessage(),
		DecisionID: p.GetDecisionId(),
	}
}

func statsToProto(s *Stats) *pb.Stats {
	return &pb.Stats{
		PolicyReloads:             s.PolicyReloads,
		PolicyReloadFailures:      s.PolicyReloadFailures,
		PolicyLastError:           s.PolicyLastError,
		DecisionLogEvents:         s.DecisionLogEvents,
		DecisionLogMaskFailures:   s.DecisionLogMaskFailures,
		DecisionLogBuffered:       s.DecisionLogBuffered,
		DecisionLogDropped:        s.DecisionLogDropped,
		DecisionLogChunksUploaded: s.DecisionLogChunksUploaded,
		DecisionLogUploadFailures: s.DecisionLogUploadFailures,
		Goroutines:                s.Goroutines,
	}
}

func statsFromProto(p *pb.Stats) Stats {
	return Stats{
		PolicyReloads:             p.GetPolicyReloads(),
		PolicyReloadFailures:      p.GetPolicyReloadFailures(),
		PolicyLastError:           p.GetPolicyLastError(),
		DecisionLogEvents:         p.GetDecisionLogEvents(),
		DecisionLogMaskFailures:   p.GetDecisionLogMaskFailures(),
		DecisionLogBuffered:       p.GetDecisionLogBuffered(),
		DecisionLogDropped:        p.GetDecisionLogDropped(),
		DecisionLogChunksUploaded: p.GetDecisionLogChunksUploaded(),
		DecisionLogUploadFailures: p.GetDecisionLogUploadFailures(),
		Goroutines:                p.GetGoroutines(),
	}
}

func directoryToProto(d *sso.Directory) *pb.Directory {
	p := &pb.Directory{Whitelist: &pb.Whitelist{
		Emails:  entriesToProto(d.Whitelist.Emails),
		Domains: entriesToProto(d.Whitelist.Domains),
	}}
	if len(d.Companies) > 0 {
		p.Companies = make(map[string]*pb.Company, len(d.Companies))
		for id, c := range d.Companies {
			p.Companies[id] = &pb.Company{Name: c.Name, Groups: c.Groups}
		}
	}
	return p
}

func directoryFromProto(p *pb.Directory) *sso.Directory {
	d := &sso.Directory{Whitelist: sso.Whitelist{
		Emails:  entriesFromProto(p.GetWhitelist().GetEmails()),
		Domains: entriesFromProto(p.GetWhitelist().GetDomains()),
	}}
	if len(p.GetCompanies()) > 0 {
		d.Companies = make(map[string]sso.Company, len(p.GetCompanies()))
		for id, c := range p.GetCompanies() {
			d.Companies[id] = sso.Company{Name: c.GetName(), Groups: c.GetGroups()}
		}
	}
	return d
}

func entriesToProto(m map[string]sso.WhitelistEntry) map[string]*pb.WhitelistEntry {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]*pb.WhitelistEntry, len(m))
	for k, e := range m {
		out[k] = &pb.WhitelistEntry{Company: e.Company, IsAdmin: e.IsAdmin}
	}
	return out
}

func entriesFromProto(m map[string]*pb.WhitelistEntry) map[string]sso.WhitelistEntry {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]sso.WhitelistEntry, len(m))
	for k, e := range m {
		out[k] = sso.WhitelistEntry{Company: e.GetCompany(), IsAdmin: e.GetIsAdmin()}
	}
	return out
}
