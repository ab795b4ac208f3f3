// Package metrics keeps the reference server's Prometheus metrics: logins
// by outcome and reason, the latency of each login phase, the plugin's
// calls, restarts, policy revision and decision log, the directory's size,
// and the Go runtime and process. It uses a registry of its own, never
// Prometheus's global one. Every label value is a code from a bounded set:
// no email, name, user id or decision id ever becomes a label.
//
// A Metrics is a host.Observer for the login handlers; PluginCall is the
// host's OnCall hook; Directory records the size of each directory pushed
// to the plugin; WatchPlugin reads the plugin's counters at each scrape.
// It does not serve HTTP itself beyond Handler.
package metrics

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/sso"
)

// namespace prefixes every metric of this package.
const namespace = "pingauthz"

// DefaultScrapeTimeout bounds the plugin's Info call made by a scrape.
const DefaultScrapeTimeout = 3 * time.Second

// Options configure New; every field is optional.
type Options struct {
	// Logger gets the warning when reason codes overflow their bound and
	// errors of the metrics handler; nil discards them.
	Logger hclog.Logger
	// MaxExtraReasons bounds the reason codes counted under their own
	// name beyond the built-in ones (operators' extension rules); later
	// ones count as "other". Zero means DefaultMaxExtraReasons.
	MaxExtraReasons int
	// ScrapeTimeout bounds the plugin's Info call made by a scrape; zero
	// means DefaultScrapeTimeout.
	ScrapeTimeout time.Duration
}

// Metrics are the server's metrics in a registry of their own. Safe for
// concurrent use.
type Metrics struct {
	reg     *prometheus.Registry
	log     hclog.Logger
	reasons *codeSet
	timeout time.Duration

	logins      *prometheus.CounterVec
	decisions   *prometheus.CounterVec
	phases      map[host.Phase]prometheus.Observer
	rateLimited *prometheus.CounterVec
	calls       *prometheus.CounterVec
	companies   prometheus.Gauge
	groups      prometheus.Gauge
	whitelist   *prometheus.GaugeVec
}

var _ host.Observer = (*Metrics)(nil)

// New returns the metrics with the login, call and directory metrics and
// the Go runtime, process and build collectors registered. The plugin's
// are added by WatchPlugin.
func New(opts Options) *Metrics {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.MaxExtraReasons <= 0 {
		opts.MaxExtraReasons = DefaultMaxExtraReasons
	}
	if opts.ScrapeTimeout <= 0 {
		opts.ScrapeTimeout = DefaultScrapeTimeout
	}
	m := &Metrics{
		reg:     prometheus.NewRegistry(),
		log:     opts.Logger,
		reasons: newCodeSet(opts.MaxExtraReasons, opts.Logger),
		timeout: opts.ScrapeTimeout,
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "logins_total",
			Help: "Callbacks by outcome (allowed, denied, failed) and reason code: the decision's first reason, or why the login failed.",
		}, []string{"outcome", "reason"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "login_decision_reasons_total",
			Help: "Every reason code of every decision made at a callback.",
		}, []string{"reason"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rate_limited_requests_total",
			Help: "Sign-in requests refused by the per-client rate limit, by path.",
		}, []string{"path"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "plugin_rpcs_total",
			Help: "Calls to the plugin by method and gRPC status code (OK on success).",
		}, []string{"method", "code"}),
		companies: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "directory_companies",
			Help: "Companies in the directory last pushed to the plugin.",
		}),
		groups: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "directory_groups",
			Help: "Groups of all companies in the directory last pushed to the plugin.",
		}),
		whitelist: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "directory_whitelist_entries",
			Help: "Sign-up whitelist entries in the directory last pushed to the plugin, by kind (email, domain).",
		}, []string{"kind"}),
	}
	phases := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "login_phase_duration_seconds",
		Help:    "Duration of each phase of a login: begin, exchange (state, code exchange, token verification), lookup, decide, apply.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"phase"})
	m.phases = make(map[host.Phase]prometheus.Observer)
	for _, p := range host.Phases() {
		m.phases[p] = phases.WithLabelValues(string(p))
	}
	for _, k := range []string{"email", "domain"} {
		m.whitelist.WithLabelValues(k)
	}
	m.reg.MustRegister(
		m.logins, m.decisions, phases, m.rateLimited, m.calls, m.companies, m.groups, m.whitelist,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	return m
}

// Registry returns the registry holding every metric.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format (or
// OpenMetrics, when a scraper asks for it). A collector that fails is
// logged and left out; the rest is served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            m.log.Named("metrics").StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Warn}),
		ErrorHandling:       promhttp.ContinueOnError,
		Registry:            m.reg,
		MaxRequestsInFlight: 4,
		EnableOpenMetrics:   true,
	})
}

// Directory records the size of dir, the directory pushed to the plugin.
func (m *Metrics) Directory(dir *sso.Directory) {
	if dir == nil {
		return
	}
	groups := 0
	for _, c := range dir.Companies {
		groups += len(c.Groups)
	}
	m.companies.Set(float64(len(dir.Companies)))
	m.groups.Set(float64(groups))
	m.whitelist.WithLabelValues("email").Set(float64(len(dir.Whitelist.Emails)))
	m.whitelist.WithLabelValues("domain").Set(float64(len(dir.Whitelist.Domains)))
}

// WatchPlugin adds the plugin's metrics: whether it runs, its restarts,
// its process (CPU, memory, file descriptors, start time), and, read with
// one Info call per scrape while it runs, the active policy revision,
// policy reloads and the decision log. A scrape never starts a plugin
// that is down. Call it once.
func (m *Metrics) WatchPlugin(p Plugin) error {
	pc := newPluginCollector(p, m.timeout)
	proc := collectors.NewProcessCollector(collectors.ProcessCollectorOpts{
		Namespace: namespace + "_plugin",
		PidFn: func() (int, error) {
			if pid := p.PID(); pid > 0 {
				return pid, nil
			}
			return 0, fmt.Errorf("metrics: the plugin is not running")
		},
	})
	for _, c := range []prometheus.Collector{pc, proc} {
		if err := m.reg.Register(c); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	return nil
}
