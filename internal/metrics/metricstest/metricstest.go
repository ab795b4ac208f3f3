// Package metricstest reads metrics in tests: it scrapes a metrics
// endpoint or gathers a registry, and looks values up by name and labels.
// It is for tests and the load program; no production package imports it.
package metricstest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are metric families by name.
type Families map[string]*dto.MetricFamily

// Scrape fetches url (a /metrics endpoint) in the Prometheus text format
// and parses it.
func Scrape(ctx context.Context, url string) (Families, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return nil, fmt.Errorf("metricstest: GET %s: status %d: %s", url, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		return nil, fmt.Errorf("metricstest: GET %s: content type %q, want text/plain", url, ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("metricstest: parsing %s: %w", url, err)
	}
	return fams, nil
}

// Gather gathers g.
func Gather(g prometheus.Gatherer) (Families, error) {
	list, err := g.Gather()
	if err != nil {
		return nil, err
	}
	fams := make(Families, len(list))
	for _, f := range list {
		fams[f.GetName()] = f
	}
	return fams, nil
}

// Value returns the value of the series of family name whose labels
// include every pair of labels ("key", "value", ...), and whether exactly
// one series matches. The value of a histogram is its sample count.
func (f Families) Value(name string, labels ...string) (float64, bool) {
	ms := f.Find(name, labels...)
	if len(ms) != 1 {
		return 0, false
	}
	return valueOf(ms[0]), true
}

// valueOf is the value of a series; a histogram's is its sample count.
func valueOf(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

// Find returns the series of family name whose labels include every pair
// of labels.
func (f Families) Find(name string, labels ...string) []*dto.Metric {
	fam := f[name]
	if fam == nil {
		return nil
	}
	var out []*dto.Metric
	for _, m := range fam.GetMetric() {
		if hasLabels(m, labels) {
			out = append(out, m)
		}
	}
	return out
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return len(pairs)%2 == 0
}

// Series counts the series (label sets) of the families whose names start
// with prefix; a histogram counts once per label set.
func (f Families) Series(prefix string) int {
	n := 0
	for name, fam := range f {
		if strings.HasPrefix(name, prefix) {
			n += len(fam.GetMetric())
		}
	}
	return n
}

// LabelValues returns every distinct label value of every family, sorted.
func (f Families) LabelValues() []string {
	seen := map[string]bool{}
	for _, fam := range f {
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				seen[l.GetValue()] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Sum adds up the values of every series of family name whose labels
// include labels (histograms: their sample counts).
func (f Families) Sum(name string, labels ...string) float64 {
	total := 0.0
	for _, m := range f.Find(name, labels...) {
		total += valueOf(m)
	}
	return total
}
