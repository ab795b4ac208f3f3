package decisionlog

import (
	"fmt"
	"maps"

	"github.com/hashicorp/go-hclog"
	"github.com/open-policy-agent/opa/v1/logging"
)

// opaLogger lets OPA's plugins log through an hclog.Logger. OPA formats
// its messages printf-style; fields become hclog key-value pairs. Below
// debug level only OPA's warnings and errors pass.
type opaLogger struct {
	log    hclog.Logger
	fields map[string]any
	level  logging.Level
}

var _ logging.Logger = (*opaLogger)(nil)

// OPALogger adapts l for OPA's plugins and clients (see opaLogger).
func OPALogger(l hclog.Logger) logging.Logger { return newOPALogger(l) }

func newOPALogger(l hclog.Logger) *opaLogger {
	// OPA reports every upload at info level; that is debug detail here.
	level := logging.Warn
	if l.IsDebug() {
		level = logging.Debug
	}
	return &opaLogger{log: l, level: level}
}

func (o *opaLogger) args() []any {
	out := make([]any, 0, 2*len(o.fields))
	for k, v := range o.fields {
		out = append(out, k, v)
	}
	return out
}

func (o *opaLogger) Debug(f string, a ...any) {
	if o.level >= logging.Debug {
		o.log.Debug(fmt.Sprintf(f, a...), o.args()...)
	}
}

func (o *opaLogger) Info(f string, a ...any) {
	if o.level >= logging.Info {
		o.log.Info(fmt.Sprintf(f, a...), o.args()...)
	}
}

func (o *opaLogger) Warn(f string, a ...any) {
	if o.level >= logging.Warn {
		o.log.Warn(fmt.Sprintf(f, a...), o.args()...)
	}
}

func (o *opaLogger) Error(f string, a ...any) {
	o.log.Error(fmt.Sprintf(f, a...), o.args()...)
}

func (o *opaLogger) WithFields(fields map[string]any) logging.Logger {
	merged := maps.Clone(o.fields)
	if merged == nil {
		merged = make(map[string]any, len(fields))
	}
	maps.Copy(merged, fields)
	return &opaLogger{log: o.log, fields: merged, level: o.level}
}

func (o *opaLogger) GetLevel() logging.Level  { return o.level }
func (o *opaLogger) SetLevel(l logging.Level) { o.level = l }
