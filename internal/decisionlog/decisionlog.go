// Package decisionlog records every policy decision as an OPA decision-log
// event (logs.EventV1) through OPA's own decision-log plugin: the mask policy
// data.system.log.mask, a bounded upload buffer with a drop counter, gzip
// chunks POSTed to a collector with retry and backoff. Besides the collector
// it writes masked events to the console (an hclog line "decision log") and to
// a file of JSON lines.
//
// An event is never dropped silently: when the mask policy fails, OPA's
// plugin would drop the event; this package logs the failure and emits the
// event with its whole input erased. It does not decide anything, read the
// CLEARML__ environment or keep events across restarts: events still in the
// upload buffer when the process ends without Close are lost.
package decisionlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/plugins"
	"github.com/open-policy-agent/opa/v1/plugins/logs"
	"github.com/open-policy-agent/opa/v1/server"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// Paths of the mask policy and of the drop policy. Every decision is
// logged, so the drop path names a rule no policy defines.
const (
	MaskPath   = "/system/log/mask"
	dropPath   = "/pingauthz/decision_log/never_drop"
	noMaskPath = "/pingauthz/decision_log/no_mask"
)

// Defaults of Options.
const (
	DefaultBufferEvents = 10000
	DefaultMinDelay     = 1 * time.Second
	DefaultMaxDelay     = 10 * time.Second
)

// collectorService is the name of the collector in OPA's services config.
const collectorService = "collector"

// Options configure New. Every field is optional; with no sink the Logger
// still evaluates the mask and counts events.
type Options struct {
	// Logger gets the uploader's own log (failed uploads, a failing mask
	// policy) and, with Console, the "decision log" lines. nil discards.
	Logger hclog.Logger
	// Console writes each event as an info line "decision log" with the
	// fields decision_id and event (the masked event as JSON).
	Console bool
	// File appends each event as a JSON line to this file (created 0600).
	File string
	// URL is the collector's base URL; events are POSTed to URL/logs as
	// OPA's decision-log service API specifies.
	URL string
	// Labels go into every event, e.g. "id" (the server) and "version"
	// (its version); "opa_version" is added.
	Labels map[string]string
	// BufferEvents bounds the events waiting for upload; beyond it the
	// oldest are dropped and counted. Zero means DefaultBufferEvents.
	BufferEvents int64
	// UploadSizeLimitBytes bounds one gzip chunk; zero means OPA's default.
	UploadSizeLimitBytes int64
	// MinDelay and MaxDelay bound the wait between uploads (whole
	// seconds; MaxDelay also caps the backoff after a failure). Zero means
	// DefaultMinDelay and DefaultMaxDelay.
	MinDelay, MaxDelay time.Duration
}

// Stats are the decision log's counters since New.
type Stats struct {
	// Events counts decisions logged; MaskFailures those whose mask policy
	// failed (they were logged with the input erased).
	Events       uint64
	MaskFailures uint64
	// Buffered is the number of events (or requeued chunks) waiting for
	// upload; Dropped counts events dropped because the buffer was full.
	Buffered int64
	Dropped  uint64
	// ChunksUploaded and UploadFailures count upload attempts of chunks.
	ChunksUploaded uint64
	UploadFailures uint64
	// SinkFailures counts events the console or file sink could not write.
	SinkFailures uint64
}

// Logger logs decisions. It is safe for concurrent use.
type Logger struct {
	log      hclog.Logger
	manager  *plugins.Manager
	main     *logs.Plugin // masks with MaskPath
	fallback *logs.Plugin // no mask: for events whose input is erased
	metrics  metrics.Metrics
	sinks    *sinks

	mu           sync.Mutex
	events       uint64
	maskFailures uint64

	closeOnce sync.Once
}

// New starts a Logger. Until SetCompiler no mask policy is defined and
// events are logged unmasked. Close stops it.
func New(ctx context.Context, o Options) (*Logger, error) {
	log := o.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	var console hclog.Logger
	if o.Console {
		console = log
	}
	sk, err := openSinks(console, o.File, log)
	if err != nil {
		return nil, err
	}
	l, err := start(ctx, o, log, sk)
	if err != nil {
		_ = sk.close()
		return nil, err
	}
	return l, nil
}

func start(ctx context.Context, o Options, log hclog.Logger, sk *sinks) (*Logger, error) {
	raw, err := json.Marshal(managerConfig(o))
	if err != nil {
		return nil, fmt.Errorf("decisionlog: %w", err)
	}
	opaLog := newOPALogger(log)
	m, err := plugins.New(raw, o.Labels["id"], inmem.New(),
		plugins.Logger(opaLog), plugins.ConsoleLogger(opaLog))
	if err != nil {
		return nil, fmt.Errorf("decisionlog: %w", err)
	}
	// OPA's configuration sets "version" to OPA's version; here it is the
	// server's, when given, and OPA's moves to "opa_version".
	if v, ok := o.Labels["version"]; ok {
		m.Config.Labels["opa_version"] = m.Config.Labels["version"]
		m.Config.Labels["version"] = v
	}
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("decisionlog: %w", err)
	}
	m.Register(sinkName, sk)
	met := metrics.New()
	main, err := newPlugin(o, MaskPath, m, met)
	if err != nil {
		m.Stop(ctx)
		return nil, err
	}
	fallback, err := newPlugin(o, noMaskPath, m, met)
	if err != nil {
		m.Stop(ctx)
		return nil, err
	}
	if err := m.Start(ctx); err != nil {
		m.Stop(ctx)
		return nil, fmt.Errorf("decisionlog: %w", err)
	}
	_ = main.Start(ctx)
	_ = fallback.Start(ctx)
	return &Logger{log: log, manager: m, main: main, fallback: fallback, metrics: met, sinks: sk}, nil
}

// managerConfig is the OPA configuration of the plugin manager: labels and
// the collector service.
func managerConfig(o Options) map[string]any {
	cfg := map[string]any{"labels": o.Labels}
	if o.URL != "" {
		cfg["services"] = map[string]any{
			collectorService: map[string]any{"url": o.URL},
		}
	}
	return cfg
}

// newPlugin builds OPA's decision-log plugin with the mask at maskPath.
func newPlugin(o Options, maskPath string, m *plugins.Manager, met metrics.Metrics) (*logs.Plugin, error) {
	bufferEvents := o.BufferEvents
	if bufferEvents <= 0 {
		bufferEvents = DefaultBufferEvents
	}
	minDelay, maxDelay := o.MinDelay, o.MaxDelay
	if minDelay <= 0 && maxDelay <= 0 {
		minDelay, maxDelay = DefaultMinDelay, DefaultMaxDelay
	}
	reporting := map[string]any{
		"buffer_type":              "event",
		"buffer_size_limit_events": bufferEvents,
		"min_delay_seconds":        int64(minDelay / time.Second),
		"max_delay_seconds":        int64(maxDelay / time.Second),
	}
	if o.UploadSizeLimitBytes > 0 {
		reporting["upload_size_limit_bytes"] = o.UploadSizeLimitBytes
	}
	cfg := map[string]any{
		"plugin":        sinkName,
		"mask_decision": maskPath,
		"drop_decision": dropPath,
		"reporting":     reporting,
	}
	if o.URL != "" {
		cfg["service"] = collectorService
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("decisionlog: %w", err)
	}
	parsed, err := logs.ParseConfig(raw, m.Services(), []string{sinkName})
	if err != nil {
		return nil, fmt.Errorf("decisionlog: %w", err)
	}
	return logs.New(parsed, m).WithMetrics(met), nil
}

// SetCompiler makes the mask policy of compiler (data.system.log.mask, if
// it defines one) apply to the events logged from now on.
func (l *Logger) SetCompiler(ctx context.Context, compiler *ast.Compiler) error {
	params := storage.WriteParams
	params.Context = storage.NewContext()
	err := storage.Txn(ctx, l.manager.Store, params, func(storage.Transaction) error {
		plugins.SetCompilerOnContext(params.Context, compiler)
		return nil
	})
	if err != nil {
		return fmt.Errorf("decisionlog: set compiler: %w", err)
	}
	return nil
}

// Log records one decision. It fails only for a decision without an id or
// input, or a cancelled context; a failing mask policy is logged and the
// event is recorded with its input erased.
func (l *Logger) Log(ctx context.Context, d *Decision) error {
	if d == nil || d.Input == nil || d.Result == nil || d.ID == "" {
		return errors.New("decisionlog: log: decision without id, input or result")
	}
	input := inputDoc(d.Input)
	result := resultDoc(d.Result)
	info := &server.Info{
		DecisionID: d.ID,
		Path:       d.Path,
		Revision:   d.Revision,
		Timestamp:  d.Timestamp,
		Input:      &input,
		InputAST:   d.InputAST,
		Results:    &result,
	}
	if len(d.Bundles) > 0 {
		info.Bundles = make(map[string]server.BundleInfo, len(d.Bundles))
		for name, rev := range d.Bundles {
			info.Bundles[name] = server.BundleInfo{Revision: rev}
		}
	}
	var delivered bool
	if err := l.main.Log(context.WithValue(ctx, deliveredKey{}, &delivered), info); err != nil {
		return fmt.Errorf("decisionlog: %w", err)
	}
	l.mu.Lock()
	l.events++
	if !delivered {
		l.maskFailures++
	}
	l.mu.Unlock()
	if delivered {
		return nil
	}
	// OPA's plugin logged why the mask failed and dropped the event.
	l.log.Error("decision log: the mask policy failed; the event is logged with its input erased",
		"decision_id", d.ID, "mask", MaskPath)
	info.Input, info.InputAST = nil, nil
	info.Custom = map[string]any{"erased": "input: the mask policy failed"}
	delivered = false
	if err := l.fallback.Log(context.WithValue(ctx, deliveredKey{}, &delivered), info); err != nil {
		return fmt.Errorf("decisionlog: %w", err)
	}
	if !delivered {
		return fmt.Errorf("decisionlog: event %s was not delivered", d.ID)
	}
	return nil
}

// Stats returns the counters.
func (l *Logger) Stats() Stats {
	l.mu.Lock()
	s := Stats{Events: l.events, MaskFailures: l.maskFailures}
	l.mu.Unlock()
	_, main := l.main.BufferSize()
	_, fallback := l.fallback.BufferSize()
	s.Buffered = main + fallback
	s.Dropped = l.counter("decision_logs_dropped_buffer_size_limit_exceeded")
	s.ChunksUploaded = l.counter("decision_logs_chunks_uploaded")
	s.UploadFailures = l.counter("decision_logs_chunks_upload_failed")
	s.SinkFailures = l.sinks.failed.Load()
	return s
}

func (l *Logger) counter(name string) uint64 {
	return l.metrics.Counter(name).Value().(uint64)
}

// Close uploads what is buffered, waiting until ctx ends at most, then
// stops the uploads and closes the file.
func (l *Logger) Close(ctx context.Context) error {
	var err error
	l.closeOnce.Do(func() {
		l.main.Stop(ctx)
		l.fallback.Stop(ctx)
		l.manager.Stop(ctx)
		err = l.sinks.close()
	})
	return err
}
