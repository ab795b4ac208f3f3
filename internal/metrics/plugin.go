package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/plugin"
)

// Plugin is the supervised plugin as WatchPlugin reads it (a *host.Plugin).
type Plugin interface {
	// Info returns the plugin's policy revision and counters.
	Info(ctx context.Context) (*plugin.Info, error)
	// PID is the running plugin process's id, 0 while none runs.
	PID() int
	// Restarts counts the launches after the plugin died.
	Restarts() int
}

// methods are the plugin calls counted under their own name.
var methods = map[string]bool{"Info": true, "Begin": true, "Complete": true, "Decide": true, "SetDirectory": true}

// PluginCall counts a call to the plugin that ended with err (nil on
// success) under its method and gRPC status code; it is host.Config's
// OnCall.
func (m *Metrics) PluginCall(method string, err error) {
	if !methods[method] {
		method = labelOther
	}
	m.calls.WithLabelValues(method, callCode(err).String()).Inc()
}

// callCode is the gRPC status code a call's error stands for: a
// LoginError's kind's code, Unavailable while the plugin is down, the
// context's code, or the status the transport returned.
func callCode(err error) codes.Code {
	var le *plugin.LoginError
	switch {
	case err == nil:
		return codes.OK
	case errors.As(err, &le):
		return le.Kind.Code()
	case errors.Is(err, host.ErrUnavailable), errors.Is(err, host.ErrClosed):
		return codes.Unavailable
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	}
	return status.Code(err)
}

// pluginCollector reads the plugin's state at each scrape.
type pluginCollector struct {
	p       Plugin
	timeout time.Duration

	up, restarts, policy, reloads, reloadFailures, reloadFailing *prometheus.Desc
	dlEvents, dlMaskFailures, dlBuffered, dlDropped, dlUploads   *prometheus.Desc
	goroutines                                                   *prometheus.Desc
}

func newPluginCollector(p Plugin, timeout time.Duration) *pluginCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
	}
	return &pluginCollector{
		p: p, timeout: timeout,
		up:       desc("plugin_up", "1 while a plugin process runs, 0 while it is down or restarting."),
		restarts: desc("plugin_restarts_total", "Launches of the plugin after its process died."),
		policy: desc("policy_info", "The active policy set: always 1, labelled with its revision and its bundle's revision (\"\" without a bundle).",
			"revision", "bundle_revision"),
		reloads:        desc("policy_reloads_total", "Policy sets activated after the first, since the plugin started."),
		reloadFailures: desc("policy_reload_failures_total", "Policy sets rejected while the last good set stayed active, since the plugin started."),
		reloadFailing:  desc("policy_reload_failing", "1 when the latest policy set was rejected and an older one is active, else 0."),
		dlEvents:       desc("decision_log_events_total", "Decisions logged, since the plugin started."),
		dlMaskFailures: desc("decision_log_mask_failures_total", "Decisions logged with their input erased because the mask policy failed."),
		dlBuffered:     desc("decision_log_buffered_events", "Decision-log events waiting for upload to the collector."),
		dlDropped:      desc("decision_log_dropped_events_total", "Decision-log events dropped because the upload buffer was full."),
		dlUploads:      desc("decision_log_uploads_total", "Decision-log chunk uploads to the collector, by result (ok, failed).", "result"),
		goroutines:     desc("plugin_goroutines", "Goroutines in the plugin process."),
	}
}

// Describe implements prometheus.Collector.
func (c *pluginCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.restarts, c.policy, c.reloads, c.reloadFailures, c.reloadFailing,
		c.dlEvents, c.dlMaskFailures, c.dlBuffered, c.dlDropped, c.dlUploads, c.goroutines} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. The plugin's own figures are
// left out of a scrape while it is down, and when its Info call fails.
func (c *pluginCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(c.restarts, uint64(max(c.p.Restarts(), 0)))
	// Checked first, so that a scrape never launches a plugin that is down.
	if c.p.PID() <= 0 {
		gauge(c.up, 0)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	info, err := c.p.Info(ctx)
	if err != nil {
		gauge(c.up, 0)
		return
	}
	gauge(c.up, 1)
	s := info.Stats
	gauge(c.policy, 1, info.PolicyRevision, info.BundleRevision)
	counter(c.reloads, s.PolicyReloads)
	counter(c.reloadFailures, s.PolicyReloadFailures)
	failing := 0.0
	if s.PolicyLastError != "" {
		failing = 1
	}
	gauge(c.reloadFailing, failing)
	counter(c.dlEvents, s.DecisionLogEvents)
	counter(c.dlMaskFailures, s.DecisionLogMaskFailures)
	gauge(c.dlBuffered, float64(s.DecisionLogBuffered))
	counter(c.dlDropped, s.DecisionLogDropped)
	counter(c.dlUploads, s.DecisionLogChunksUploaded, "ok")
	counter(c.dlUploads, s.DecisionLogUploadFailures, "failed")
	gauge(c.goroutines, float64(s.Goroutines))
}
