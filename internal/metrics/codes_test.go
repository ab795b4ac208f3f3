package metrics

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/sso"
)

func TestWellFormed(t *testing.T) {
	for _, tc := range []struct {
		code string
		want bool
	}{
		{"deny:not_whitelisted", true},
		{"signup:contractor_2024", true},
		{"role:x", true},
		{"policy_error", false}, // built-in, known without being well formed
		{"", false},
		{"deny:", false},
		{":name", false},
		{"deny:a:b", false},
		{"Deny:x", false},
		{"deny:Ada", false},
		{"deny:ada@example.com", false},
		{"deny:a b", false},
		{"1deny:x", false},
		{"deny:" + strings.Repeat("x", maxCodeLen), false},
		{"deny:" + strings.Repeat("x", maxCodeLen-5), true},
	} {
		if got := wellFormed(tc.code); got != tc.want {
			t.Errorf("wellFormed(%q) = %v, want %v", tc.code, got, tc.want)
		}
	}
}

// TestCodeSetBound keeps the built-in codes, admits the first extra codes
// up to the bound, folds the rest (and anything malformed) into "other",
// and warns once.
func TestCodeSetBound(t *testing.T) {
	logger, logs := testutil.Logger(t, "metrics")
	c := newCodeSet(3, logger)
	for _, code := range append(sso.Reasons(), host.FailReasons()...) {
		if got := c.fold(code); got != code {
			t.Errorf("fold(%q) = %q, want the built-in code itself", code, got)
		}
	}
	for i := range 3 {
		code := fmt.Sprintf("deny:rule_%d", i)
		if got := c.fold(code); got != code {
			t.Errorf("fold(%q) = %q within the bound", code, got)
		}
	}
	for i := 3; i < 100; i++ {
		if got := c.fold(fmt.Sprintf("deny:rule_%d", i)); got != labelOther {
			t.Fatalf("fold of extra code %d = %q, want %q", i, got, labelOther)
		}
	}
	if got := c.fold("deny:rule_1"); got != "deny:rule_1" {
		t.Errorf("an admitted code folded after the bound was reached: %q", got)
	}
	for code, want := range map[string]string{"": labelNone, "ada@example.com": labelOther, "deny:Ada Lovelace": labelOther} {
		if got := c.fold(code); got != want {
			t.Errorf("fold(%q) = %q, want %q", code, got, want)
		}
	}
	if n := strings.Count(logs.String(), "more reason codes than the bound"); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, logs.String())
	}
}

// TestCodeSetConcurrent admits exactly the bound of distinct codes however
// many goroutines race for it.
func TestCodeSetConcurrent(t *testing.T) {
	logger, _ := testutil.Logger(t, "metrics")
	c := newCodeSet(10, logger)
	var wg sync.WaitGroup
	kept := make([]map[string]bool, 8)
	for g := range kept {
		kept[g] = map[string]bool{}
		wg.Go(func() {
			for i := range 50 {
				if v := c.fold(fmt.Sprintf("signup:s%d", (i*7+g)%50)); v != labelOther {
					kept[g][v] = true
				}
			}
		})
	}
	wg.Wait()
	all := map[string]bool{}
	for _, k := range kept {
		for v := range k {
			all[v] = true
		}
	}
	if len(all) != 10 {
		t.Errorf("%d distinct codes kept, want the bound 10: %v", len(all), all)
	}
}
