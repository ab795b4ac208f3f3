package config

import "testing"

func TestRequiredEnvLoads(t *testing.T) {
	env := RequiredEnv("https://auth.pingone.com/e/as/authorize", "https://auth.pingone.com/e/as/token", "id", "secret")
	cfg, _, err := Load(env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientID != "id" || cfg.ClientSecret != "secret" || cfg.AccessTokenURL != "https://auth.pingone.com/e/as/token" {
		t.Fatalf("loaded %+v", cfg)
	}
	if _, _, err := Load(env[:3]); err == nil {
		t.Fatal("an environment without client_secret loaded")
	}
}
