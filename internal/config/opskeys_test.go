package config

import "testing"

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
