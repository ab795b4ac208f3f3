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

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/plugin"
)

// fakeAuth is an in-memory Authenticator: Begin hands out states, Complete
// checks them against the callback's state parameter. Like the plugin, it
// does not remember used states: the directory consumes them.
type fakeAuth struct {
	mu sync.Mutex
	n  int
	// pending maps a sealed state to its state parameter and return path.
	pending map[string][2]string

	identity    sso.Identity
	decision    sso.Decision
	beginErr    error
	completeErr error
	decideErr   error

	begins    []plugin.BeginRequest
	completes []plugin.CompleteRequest
	inputs    []sso.Input
	dirs      []*sso.Directory
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

func (f *fakeAuth) Complete(ctx context.Context, req *plugin.CompleteRequest, lookup plugin.UserLookup) (*plugin.CompleteResponse, error) {
	f.mu.Lock()
	f.completes = append(f.completes, *req)
	if f.completeErr != nil {
		defer f.mu.Unlock()
		return nil, f.completeErr
	}
	p, ok := f.pending[req.SealedState]
	id := f.identity
	f.mu.Unlock()
	if !ok || req.Query["state"] != p[0] {
		return nil, &plugin.LoginError{Kind: plugin.KindInvalidState, Message: "the login state is invalid or was already used"}
	}
	if e := req.Query["error"]; e != "" {
		return nil, &plugin.LoginError{Kind: plugin.KindProvider, Message: "the identity provider refused the login: " + e}
	}
	user, err := lookup(ctx, &id)
	if err != nil {
		return nil, err
	}
	d, err := f.Decide(ctx, &sso.Input{Identity: id, User: user})
	if err != nil {
		return nil, err
	}
	id.Claims = nil
	return &plugin.CompleteResponse{Identity: id, Decision: d, ReturnTo: p[1],
		State: sso.LoginState{ID: p[0], Expires: time.Now().Add(10 * time.Minute)}}, nil
}

func (f *fakeAuth) SetDirectory(_ context.Context, dir *sso.Directory) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dirs = append(f.dirs, dir)
	return nil
}

func (f *fakeAuth) Decide(_ context.Context, in *sso.Input) (*sso.Decision, error) {
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
	users    map[string]*sso.Account // by issuer + "|" + user id
	sessions map[string]fakeSession
	states   map[string]bool // consumed login states
	applyErr error
	findErr  error
	writes   int
}

type fakeSession struct {
	userKey             string
	expires             time.Time
	pingGroups, reasons []string
}

func newFakeDirectory(now func() time.Time) *fakeDirectory {
	return &fakeDirectory{now: now, users: map[string]*sso.Account{}, sessions: map[string]fakeSession{}, states: map[string]bool{}}
}

func (d *fakeDirectory) addUser(issuer, userID string, a sso.Account) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users[issuer+"|"+userID] = &a
}

func (d *fakeDirectory) FindUser(_ context.Context, issuer, userID string) (*sso.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.findErr != nil {
		return nil, d.findErr
	}
	a, ok := d.users[issuer+"|"+userID]
	if !ok {
		return nil, sso.ErrNotFound
	}
	return &sso.User{ID: a.ID, Company: a.Company, Role: a.Role, Groups: slices.Clone(a.Groups)}, nil
}

func (d *fakeDirectory) Login(_ context.Context, st sso.LoginState, id *sso.Identity, dec *sso.Decision, ttl time.Duration) (*sso.Account, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.applyErr != nil {
		return nil, "", d.applyErr
	}
	if st.ID == "" {
		return nil, "", errors.New("fake: Login without a login state")
	}
	if d.states[st.ID] {
		return nil, "", sso.ErrReplayed
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
		a = &sso.Account{ID: "u-" + id.UserID, Email: id.Email, Name: id.Name, Company: dec.Company,
			CompanyName: "Company " + dec.Company, Role: "user"}
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
	d.states[st.ID] = true
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	d.sessions[tok] = fakeSession{userKey: key, expires: d.now().Add(ttl), pingGroups: id.Groups, reasons: dec.Reasons}
	d.writes++
	c := *a
	c.PingGroups, c.Reasons = id.Groups, dec.Reasons
	return &c, tok, nil
}

func (d *fakeDirectory) SessionAccount(_ context.Context, token string) (*sso.Account, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.sessions[token]
	if !ok || !d.now().Before(s.expires) {
		return nil, sso.ErrNotFound
	}
	a := *d.users[s.userKey]
	a.PingGroups, a.Reasons = s.pingGroups, s.reasons
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
