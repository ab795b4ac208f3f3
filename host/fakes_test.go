package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/pingauthz/pingauthz/plugin"
	"github.com/pingauthz/pingauthz/rego"
)

// fakeAuth is an in-memory Authenticator: Begin hands out single-use states,
// Complete checks them against the callback's state parameter.
type fakeAuth struct {
	mu sync.Mutex
	n  int
	// pending maps a sealed state to its state parameter and return path.
	pending map[string][2]string

	identity    rego.Identity
	decision    rego.Decision
	beginErr    error
	completeErr error
	decideErr   error

	begins    []plugin.BeginRequest
	completes []plugin.CompleteRequest
	inputs    []rego.Input
	dirs      []*rego.Directory
}

func newFakeAuth() *fakeAuth {
	return &fakeAuth{pending: map[string][2]string{}}
}

func (f *fakeAuth) Info(context.Context) (*plugin.Info, error) {
	return &plugin.Info{Provider: "ping", CallbackPath: CallbackPath}, nil
}

func (f *fakeAuth) Begin(_ context.Context, req *plugin.BeginRequest) (*plugin.BeginResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.begins = append(f.begins, *req)
	if f.beginErr != nil {
		return nil, f.beginErr
	}
	f.n++
	state := fmt.Sprintf("st%d", f.n)
	sealed := "sealed-" + state
	f.pending[sealed] = [2]string{state, req.ReturnTo}
	q := url.Values{"state": {state}, "redirect_uri": {req.RedirectURI}}
	return &plugin.BeginResponse{AuthURL: "https://idp.example.com/as/authorize?" + q.Encode(), SealedState: sealed}, nil
}

func (f *fakeAuth) Complete(_ context.Context, req *plugin.CompleteRequest) (*plugin.CompleteResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.completes = append(f.completes, *req)
	if f.completeErr != nil {
		return nil, f.completeErr
	}
	p, ok := f.pending[req.SealedState]
	delete(f.pending, req.SealedState)
	if !ok || req.Query["state"] != p[0] {
		return nil, &plugin.LoginError{Kind: plugin.KindInvalidState, Message: "the login state is invalid or was already used"}
	}
	if e := req.Query["error"]; e != "" {
		return nil, &plugin.LoginError{Kind: plugin.KindProvider, Message: "the identity provider refused the login: " + e}
	}
	return &plugin.CompleteResponse{Identity: f.identity, ReturnTo: p[1]}, nil
}

func (f *fakeAuth) SetDirectory(_ context.Context, dir *rego.Directory) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dirs = append(f.dirs, dir)
	return nil
}

func (f *fakeAuth) Decide(_ context.Context, in *rego.Input) (*rego.Decision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inputs = append(f.inputs, *in)
	if f.decideErr != nil {
		return nil, f.decideErr
	}
	d := f.decision
	return &d, nil
}

// fakeDirectory is an in-memory Directory. Login is all-or-nothing.
type fakeDirectory struct {
	mu       sync.Mutex
	now      func() time.Time
	users    map[string]*Account // by issuer + "|" + user id
	sessions map[string]fakeSession
	applyErr error
	findErr  error
	writes   int
}

type fakeSession struct {
	userKey string
	expires time.Time
}

func newFakeDirectory(now func() time.Time) *fakeDirectory {
	return &fakeDirectory{now: now, users: map[string]*Account{}, sessions: map[string]fakeSession{}}
}

func (d *fakeDirectory) addUser(issuer, userID string, a Account) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users[issuer+"|"+userID] = &a
}

func (d *fakeDirectory) FindUser(_ context.Context, issuer, userID string) (*rego.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.findErr != nil {
		return nil, d.findErr
	}
	a, ok := d.users[issuer+"|"+userID]
	if !ok {
		return nil, ErrNotFound
	}
	return &rego.User{ID: a.ID, Company: a.Company, Role: a.Role, Groups: slices.Clone(a.Groups)}, nil
}

func (d *fakeDirectory) Login(_ context.Context, id *rego.Identity, dec *rego.Decision, ttl time.Duration) (*Account, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.applyErr != nil {
		return nil, "", d.applyErr
	}
	if !dec.Allow {
		return nil, "", errors.New("fake: Login called with a deny")
	}
	key := id.Issuer + "|" + id.UserID
	a, ok := d.users[key]
	switch {
	case !ok && !dec.Signup:
		return nil, "", errors.New("fake: no such user and no sign-up")
	case !ok:
		a = &Account{ID: "u-" + id.UserID, Email: id.Email, Name: id.Name, Company: dec.Company, Role: "user"}
	default:
		c := *a
		a = &c
	}
	if dec.Role != nil {
		a.Role = *dec.Role
	}
	if dec.SyncGroups {
		a.Groups = slices.Clone(dec.Groups)
	}
	d.users[key] = a
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	d.sessions[tok] = fakeSession{userKey: key, expires: d.now().Add(ttl)}
	d.writes++
	c := *a
	return &c, tok, nil
}

func (d *fakeDirectory) SessionAccount(_ context.Context, token string) (*Account, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.sessions[token]
	if !ok || !d.now().Before(s.expires) {
		return nil, ErrNotFound
	}
	a := *d.users[s.userKey]
	return &a, nil
}

func (d *fakeDirectory) DeleteSession(_ context.Context, token string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.sessions, token)
	return nil
}

// counts returns the number of writes, users and sessions.
func (d *fakeDirectory) counts() (writes, users, sessions int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.writes, len(d.users), len(d.sessions)
}
