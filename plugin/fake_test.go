package plugin

import (
	"context"
	"sync"
	"time"

	"github.com/pingauthz/pingauthz/sso"
)

// fake is an Authenticator that records what it was called with and answers
// what the test set up.
type fake struct {
	mu sync.Mutex

	info     *Info
	begin    *BeginResponse
	complete *CompleteResponse
	decision *sso.Decision
	err      error
	// block makes every call wait for its context to end; entered, when
	// set, gets a value as a blocked call starts waiting, and left the
	// error its context ended with.
	block   bool
	entered chan struct{}
	left    chan error

	gotBegin    *BeginRequest
	gotComplete *CompleteRequest
	// noLookup makes Complete answer without looking the user up; looked,
	// gotUser and lookupErr are what the lookup it made returned.
	noLookup    bool
	looked      bool
	gotUser     *sso.User
	lookupErr   error
	gotDir      *sso.Directory
	gotInput    *sso.Input
	gotDeadline time.Time
	hadDeadline bool
	// arrived is when the last call reached the plugin.
	arrived time.Time
}

func (f *fake) enter(ctx context.Context) error {
	f.mu.Lock()
	f.arrived = time.Now()
	f.gotDeadline, f.hadDeadline = ctx.Deadline()
	block, entered, left := f.block, f.entered, f.left
	f.mu.Unlock()
	if block {
		if entered != nil {
			entered <- struct{}{}
		}
		<-ctx.Done()
		if left != nil {
			left <- ctx.Err()
		}
		return ctx.Err()
	}
	return f.err
}

func (f *fake) Info(ctx context.Context) (*Info, error) {
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.info, nil
}

func (f *fake) Begin(ctx context.Context, req *BeginRequest) (*BeginResponse, error) {
	f.mu.Lock()
	f.gotBegin = req
	f.mu.Unlock()
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.begin, nil
}

// Complete looks the user up for f.complete's identity, unless noLookup,
// and returns f.complete.
func (f *fake) Complete(ctx context.Context, req *CompleteRequest, lookup UserLookup) (*CompleteResponse, error) {
	f.mu.Lock()
	f.gotComplete = req
	resp, skip := f.complete, f.noLookup
	f.mu.Unlock()
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, nil
	}
	if !skip {
		id := resp.Identity
		user, err := lookup(ctx, &id)
		if err != nil {
			f.mu.Lock()
			f.lookupErr = err
			f.mu.Unlock()
			return nil, err
		}
		f.mu.Lock()
		f.gotUser, f.looked = user, true
		f.mu.Unlock()
	}
	out := *resp
	return &out, nil
}

func (f *fake) SetDirectory(ctx context.Context, dir *sso.Directory) error {
	f.mu.Lock()
	f.gotDir = dir
	f.mu.Unlock()
	return f.enter(ctx)
}

func (f *fake) Decide(ctx context.Context, in *sso.Input) (*sso.Decision, error) {
	f.mu.Lock()
	f.gotInput = in
	f.mu.Unlock()
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.decision, nil
}
