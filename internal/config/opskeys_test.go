package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDecisionLogKeys(t *testing.T) {
	c, _ := mustLoad(t, minimalEnv(nil,
		svc+"decision_log__console=true",
		svc+"decision_log__file=/var/log/decisions.jsonl",
		svc+"decision_log__url=https://collector.example/v1",
		svc+"decision_log__server_id=replica-1",
	))
	want := DecisionLog{Console: true, File: "/var/log/decisions.jsonl", URL: "https://collector.example/v1", ServerID: "replica-1"}
	if c.DecisionLog != want || !c.DecisionLog.Enabled() {
		t.Errorf("config = %+v", c.DecisionLog)
	}
	if (DecisionLog{}).Enabled() {
		t.Error("an empty decision log config is enabled")
	}
	_, _, err := Load(minimalEnv(nil, svc+"decision_log__url=http://collector.example"))
	wantProblem(t, err, svc+"decision_log__url", "must use https")
}

func TestBundleKeys(t *testing.T) {
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle.tar.gz")
	keyFile := filepath.Join(dir, "key.pem")
	for _, f := range []string{bundle, keyFile} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("valid", func(t *testing.T) {
		c, _ := mustLoad(t, minimalEnv(nil,
			svc+"policy__bundle="+bundle,
			svc+"policy__bundle_public_key="+keyFile,
		))
		if c.PolicyBundle != bundle || c.PolicyBundlePublicKey != keyFile {
			t.Errorf("config = %+v", c)
		}
	})
	t.Run("inline PEM key shows as (PEM)", func(t *testing.T) {
		c, _ := mustLoad(t, minimalEnv(nil,
			svc+"policy__bundle=https://bundles.example/b.tar.gz",
			svc+`policy__bundle_public_key="-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"`,
		))
		if got := c.Summary()["policy.bundle_public_key"]; got != "(PEM)" {
			t.Errorf("summary shows %q", got)
		}
	})
	tests := []struct {
		name    string
		env     []string
		wantVar string
		want    []string
	}{
		{"bundle and dir", []string{svc + "policy__bundle=" + bundle, svc + "policy__dir=" + dir}, svc + "policy__bundle", []string{"together with", "policy__dir"}},
		{"missing bundle", []string{svc + "policy__bundle=/nonexistent/b.tar.gz"}, svc + "policy__bundle", []string{"existing bundle file"}},
		{"plain http bundle", []string{svc + "policy__bundle=http://bundles.example/b.tar.gz"}, svc + "policy__bundle", []string{"must use https"}},
		{"ftp bundle", []string{svc + "policy__bundle=ftp://bundles.example/b.tar.gz"}, svc + "policy__bundle", []string{"https URL"}},
		{"key without bundle", []string{svc + "policy__bundle_public_key=" + keyFile}, svc + "policy__bundle_public_key", []string{"policy__bundle is not"}},
		{"missing key file", []string{svc + "policy__bundle=" + bundle, svc + "policy__bundle_public_key=/nonexistent/key.pem"}, svc + "policy__bundle_public_key", []string{"PEM public key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load(minimalEnv(nil, tc.env...))
			wantProblem(t, err, tc.wantVar, tc.want...)
		})
	}
}
