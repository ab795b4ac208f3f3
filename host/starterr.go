package host

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// StartError is a plugin launch that failed before the plugin answered
// the handshake: it exited, or it did not answer in time. Its message is
// the plugin's own first error line when it logged one, not go-plugin's
// handshake text, which then goes only to the log.
type StartError struct {
	// Path is the plugin binary.
	Path string
	// Line is the plugin's first error log entry (message and fields, one
	// field per line when a value spans lines), or its first line of plain
	// stderr; "" when it wrote neither.
	Line string
	// MoreLines counts the error lines it logged after Line.
	MoreLines int
	// Exit describes how the process ended ("exit status 1"), "" when it
	// did not end by itself.
	Exit string
	// Err is go-plugin's error.
	Err error
}

// Reason says why the plugin did not start, without the path.
func (e *StartError) Reason() string {
	switch {
	case e.Line != "" && e.MoreLines > 0:
		return fmt.Sprintf("%s\n(and %d more error line(s) in the log)", e.Line, e.MoreLines)
	case e.Line != "":
		return e.Line
	case e.Exit != "":
		return fmt.Sprintf("it ended (%s) before the handshake and logged no error; is it a %s binary built for this machine?",
			e.Exit, "pingauthz-plugin")
	default:
		return e.Err.Error()
	}
}

func (e *StartError) Error() string {
	return fmt.Sprintf("host: plugin %s did not start: %s", e.Path, e.Reason())
}

func (e *StartError) Unwrap() error { return e.Err }

// maxStderrLine bounds the part of one stderr line kept for StartError.
const maxStderrLine = 8 << 10

// stderrLines watches a starting plugin's stderr for its first error: a
// JSON log entry at level error (hclog's format), else the first line that
// is not JSON. Once stop is called it ignores what follows.
type stderrLines struct {
	mu      sync.Mutex
	partial []byte
	first   string // first error entry
	more    int    // error entries after it
	plain   string // first non-JSON line
	stopped bool
}

// Write receives stderr as go-plugin relays it, in pieces of lines.
func (s *stderrLines) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return len(p), nil
	}
	for rest := p; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			s.keep(rest)
			break
		}
		s.keep(rest[:i])
		s.line(string(s.partial))
		s.partial = s.partial[:0]
		rest = rest[i+1:]
	}
	return len(p), nil
}

// keep appends b to the line being read, up to maxStderrLine.
func (s *stderrLines) keep(b []byte) {
	if room := maxStderrLine - len(s.partial); room > 0 {
		s.partial = append(s.partial, b[:min(len(b), room)]...)
	}
}

func (s *stderrLines) line(l string) {
	l = strings.TrimSpace(l)
	if l == "" {
		return
	}
	var entry map[string]any
	if json.Unmarshal([]byte(l), &entry) != nil {
		if s.plain == "" {
			s.plain = l
		}
		return
	}
	if lvl, _ := entry["@level"].(string); lvl != "error" {
		return
	}
	if s.first != "" {
		s.more++
		return
	}
	s.first = formatEntry(entry)
}

// formatEntry renders a JSON log entry as its message followed by its
// fields: "error" as ": value", the others as "key=value", sorted.
func formatEntry(entry map[string]any) string {
	var b strings.Builder
	msg, _ := entry["@message"].(string)
	b.WriteString(msg)
	if e, ok := entry["error"]; ok {
		b.WriteString(": " + fieldText(e))
	}
	for _, k := range slices.Sorted(maps.Keys(entry)) {
		if k == "error" || strings.HasPrefix(k, "@") || k == "timestamp" {
			continue
		}
		v := fieldText(entry[k])
		if strings.ContainsAny(v, " \t\n\"") {
			v = strconv.Quote(v)
		}
		b.WriteString(" " + k + "=" + v)
	}
	return b.String()
}

func fieldText(v any) string {
	if s, ok := v.(string); ok {
		return strings.TrimSpace(s)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// stop ends the watch and returns what it saw: the first error entry or
// plain line, and how many error entries followed.
func (s *stderrLines) stop() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped && len(s.partial) > 0 {
		s.line(string(s.partial))
	}
	s.stopped = true
	s.partial = nil
	if s.first != "" {
		return s.first, s.more
	}
	return s.plain, 0
}

// exitText describes how a finished process ended by itself: an exit
// status or a signal other than SIGKILL (which is how go-plugin stops a
// plugin that failed its handshake). It is "" otherwise.
func exitText(ps *os.ProcessState) string {
	if ps == nil {
		return ""
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		return ""
	}
	return ps.String()
}
