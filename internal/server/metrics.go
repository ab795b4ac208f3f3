package server

import (
	"context"
	"errors"
	"net"
	"net/http"
)

// MetricsPath is where ServeMetrics serves the metrics.
const MetricsPath = "/metrics"

// ServeMetrics serves Config.Metrics at MetricsPath on ln, a listener of
// its own, until ctx ends, then shuts down as Serve does. Every other path
// answers 404. It fails at once when the server has no Metrics.
func (s *Server) ServeMetrics(ctx context.Context, ln net.Listener) error {
	if s.cfg.Metrics == nil {
		return errors.New("server: ServeMetrics: Config.Metrics is nil")
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+MetricsPath, s.cfg.Metrics.Handler())
	return s.serve(ctx, ln, mux, "metrics")
}
