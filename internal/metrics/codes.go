package metrics

import (
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/sso"
)

// DefaultMaxExtraReasons is how many reason codes beyond the built-in ones
// are counted under their own name.
const DefaultMaxExtraReasons = 64

// Label values standing for several codes.
const (
	// labelOther stands for a code past the bound or not shaped like a
	// reason code.
	labelOther = "other"
	// labelNone stands for a decision without reasons.
	labelNone = "none"
	// maxCodeLen bounds the length of a code counted under its own name.
	maxCodeLen = 64
)

// codeSet folds reason codes into a bounded set of label values: the
// built-in codes, then the first max other well-formed codes seen (the
// reasons of operators' extension rules, a finite set), then "other".
type codeSet struct {
	known map[string]bool
	max   int
	log   hclog.Logger

	mu    sync.RWMutex
	extra map[string]bool
	full  bool
}

func newCodeSet(max int, log hclog.Logger) *codeSet {
	c := &codeSet{known: map[string]bool{}, max: max, log: log, extra: map[string]bool{}}
	for _, r := range sso.Reasons() {
		c.known[r] = true
	}
	for _, r := range host.FailReasons() {
		c.known[r] = true
	}
	return c
}

// fold returns the label value counting code.
func (c *codeSet) fold(code string) string {
	switch {
	case code == "":
		return labelNone
	case c.known[code]:
		return code
	case !wellFormed(code):
		return labelOther
	}
	c.mu.RLock()
	ok, full := c.extra[code], c.full
	c.mu.RUnlock()
	if ok {
		return code
	}
	if full {
		return labelOther
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.extra[code]:
		return code
	case len(c.extra) < c.max:
		c.extra[code] = true
		return code
	}
	if !c.full {
		c.full = true
		c.log.Warn("metrics: more reason codes than the bound; further ones count as \"other\"",
			"bound", c.max, "first_folded", code)
	}
	return labelOther
}

// wellFormed reports whether code looks like a reason code, KIND:NAME in
// lower-case ASCII letters, digits and underscores, at most maxCodeLen
// bytes; anything else never becomes a label value of its own.
func wellFormed(code string) bool {
	if len(code) > maxCodeLen {
		return false
	}
	colon := -1
	for i := 0; i < len(code); i++ {
		b := code[i]
		switch {
		case b == ':' && colon < 0 && i > 0:
			colon = i
		case b >= 'a' && b <= 'z', b >= '0' && b <= '9' && colon >= 0, b == '_' && colon >= 0:
		default:
			return false
		}
	}
	return colon > 0 && colon < len(code)-1
}
