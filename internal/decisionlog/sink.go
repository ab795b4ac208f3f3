package decisionlog

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/open-policy-agent/opa/v1/plugins/logs"
)

// sinkName is the name OPA's decision-log plugin knows the local sinks by.
const sinkName = "pingauthz_local_sinks"

// sinks writes masked events to the console and a file. OPA's decision-log
// plugin calls Log once per event, after masking; calling it marks the
// event delivered (see delivered).
type sinks struct {
	console hclog.Logger // nil: no console lines
	mu      sync.Mutex
	file    *os.File // nil: no file
	written atomic.Uint64
	failed  atomic.Uint64
	errLog  hclog.Logger
}

var _ logs.Logger = (*sinks)(nil)

func openSinks(console hclog.Logger, path string, errLog hclog.Logger) (*sinks, error) {
	s := &sinks{console: console, errLog: errLog}
	if path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("decisionlog: file: %w", err)
		}
		s.file = f
	}
	return s, nil
}

func (*sinks) Start(context.Context) error      { return nil }
func (*sinks) Stop(context.Context)             {}
func (*sinks) Reconfigure(context.Context, any) {}

// Log implements logs.Logger.
func (s *sinks) Log(ctx context.Context, e logs.EventV1) error {
	if d, ok := ctx.Value(deliveredKey{}).(*bool); ok {
		*d = true
	}
	if s.console == nil && s.file == nil {
		return nil
	}
	line, err := json.Marshal(&e)
	if err != nil {
		s.failed.Add(1)
		s.errLog.Error("decision log event not written: encoding failed", "decision_id", e.DecisionID, "error", err)
		return nil
	}
	if s.console != nil {
		s.console.Info("decision log", "decision_id", e.DecisionID, "event", json.RawMessage(line))
	}
	if s.file != nil {
		line = append(line, '\n')
		s.mu.Lock()
		_, err = s.file.Write(line)
		s.mu.Unlock()
		if err != nil {
			s.failed.Add(1)
			s.errLog.Error("decision log event not written to the file", "decision_id", e.DecisionID, "error", err)
			return nil
		}
	}
	s.written.Add(1)
	return nil
}

func (s *sinks) close() error {
	if s.file == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file.Close()
}

// deliveredKey marks, in the context of one Log call, a flag the sinks set
// when OPA's plugin hands them the masked event. OPA's plugin drops an event
// whose mask policy fails, with only a log line; the flag tells the caller
// so it can emit the event with its input erased instead.
type deliveredKey struct{}
