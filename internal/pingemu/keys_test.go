package pingemu

import (
	"slices"
	"testing"
)

func publishedKids(t *testing.T, s *Server) []string {
	t.Helper()
	var kids []string
	for _, k := range fetchJWKS(t, s).Keys {
		if !k.IsPublic() || k.Algorithm != "RS256" || k.Use != "sig" {
			t.Errorf("JWKS key %s: public=%v alg=%s use=%s", k.KeyID, k.IsPublic(), k.Algorithm, k.Use)
		}
		kids = append(kids, k.KeyID)
	}
	slices.Sort(kids)
	return kids
}

func sorted(s ...string) []string { slices.Sort(s); return s }

func TestKeyRotation(t *testing.T) {
	s := startServer(t, Options{})
	first := s.KeyIDs()[0]
	oldToken, _ := issueIDToken(t, s, Faults{})

	spare, err := s.AddKey()
	if err != nil {
		t.Fatal(err)
	}
	if got := publishedKids(t, s); !slices.Equal(got, sorted(first, spare)) {
		t.Fatalf("after AddKey JWKS kids = %v", got)
	}
	if tok, _ := issueIDToken(t, s, Faults{}); kidOf(t, s, tok) != first {
		t.Errorf("AddKey changed the signing key")
	}

	second, err := s.RotateKey()
	if err != nil {
		t.Fatal(err)
	}
	if second == first || second == spare {
		t.Fatalf("RotateKey reused a kid")
	}
	if got := publishedKids(t, s); !slices.Equal(got, sorted(first, spare, second)) {
		t.Fatalf("after RotateKey JWKS kids = %v", got)
	}
	newToken, _ := issueIDToken(t, s, Faults{})
	if kidOf(t, s, newToken) != second {
		t.Errorf("RotateKey did not switch the signing key")
	}
	if _, _, err := verifyJWT(t, s, oldToken); err != nil {
		t.Errorf("token of the old key no longer verifies before retirement: %v", err)
	}

	s.RetireOldKeys()
	if got := publishedKids(t, s); !slices.Equal(got, []string{second}) {
		t.Fatalf("after RetireOldKeys JWKS kids = %v", got)
	}
	if _, _, err := verifyJWT(t, s, oldToken); err == nil {
		t.Errorf("token of a retired key still verifies")
	}
	if _, _, err := verifyJWT(t, s, newToken); err != nil {
		t.Errorf("current token: %v", err)
	}
}

func kidOf(t *testing.T, s *Server, raw string) string {
	t.Helper()
	_, kid, err := verifyJWT(t, s, raw)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return kid
}
