package metrics

import (
	"time"

	"github.com/pingauthz/pingauthz/host"
)

// Phase implements host.Observer.
func (m *Metrics) Phase(p host.Phase, d time.Duration) {
	if o, ok := m.phases[p]; ok {
		o.Observe(d.Seconds())
	}
}

// Login implements host.Observer: the login under its outcome and reason,
// and every reason of its decision.
func (m *Metrics) Login(r host.LoginResult) {
	outcome := string(r.Outcome)
	switch r.Outcome {
	case host.OutcomeAllowed, host.OutcomeDenied, host.OutcomeFailed:
	default:
		outcome = labelOther
	}
	m.logins.WithLabelValues(outcome, m.reasons.fold(r.Reason)).Inc()
	if r.Decision != nil {
		for _, code := range r.Decision.Reasons {
			m.decisions.WithLabelValues(m.reasons.fold(code)).Inc()
		}
	}
}

// RateLimited implements host.Observer.
func (m *Metrics) RateLimited(path string) {
	switch path {
	case "/login/ping", host.CallbackPath:
	default:
		path = labelOther
	}
	m.rateLimited.WithLabelValues(path).Inc()
}
