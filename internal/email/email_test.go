package email

import (
	"errors"
	"net/mail"
	"strings"
	"testing"
)

// addressCases are addresses with whether they are valid exactly as written.
var addressCases = []struct {
	addr  string
	valid bool
}{
	{"alice@example.com", true},
	{"Alice.Smith@Example.COM", true},
	{"a!#$%&'*+/=?^_`{|}~-z@x-y.example", true},
	{"user@xn--bcher-kva.example", true},
	{"x@localhost", true},
	{"1@2.3", true},
	{"o'brien+tag@sub.corp.example", true},
	{"", false},
	{"alice", false},
	{"attacker@evil.com@example.com", false},
	{`"alice"@example.com`, false},
	{`"a@b"@example.com`, false},
	{`"al ice"@example.com`, false},
	{"Alice <alice@example.com>", false},
	{"<alice@example.com>", false},
	{"alice@example.com (Alice)", false},
	{"(comment)alice@example.com", false},
	{"alice@example.com ", false},
	{" alice@example.com", false},
	{"al ice@example.com", false},
	{"alice@example.com\n", false},
	{"alice@example.com\x00", false},
	{"admİn@example.com", false},       // U+0130
	{"\u212Aate@example.com", false},   // KELVIN SIGN
	{"kate@e\u212Aample.com", false},   // KELVIN SIGN in the domain
	{"user@bücher.example", false},     // Unicode domain: Normalize converts it
	{"ａlice@example.com", false},       // fullwidth a
	{"alice@example.com\u200b", false}, // zero-width space
	{"alice@[127.0.0.1]", false},
	{"alice@example.com.", false},
	{".alice@example.com", false},
	{"alice.@example.com", false},
	{"al..ice@example.com", false},
	{"alice@-example.com", false},
	{"alice@example-.com", false},
	{"alice@exa_mple.com", false},
	{"alice@example..com", false},
	{"@example.com", false},
	{"alice@", false},
	{"alice@example.com,bob@example.com", false},
	{"alice@" + strings.Repeat("a", 64) + ".example", false},
	{"alice@" + strings.Repeat("a", 63) + ".example", true},
	{"\xff@example.com", false},
}

func TestValid(t *testing.T) {
	for _, tc := range addressCases {
		if got := Valid(tc.addr); got != tc.valid {
			t.Errorf("Valid(%q) = %v, want %v", tc.addr, got, tc.valid)
		}
		if tc.valid {
			checkNetMail(t, tc.addr)
		}
	}
}

// checkNetMail fails unless net/mail reads addr as one address, itself,
// without a display name.
func checkNetMail(t *testing.T, addr string) {
	t.Helper()
	a, err := mail.ParseAddress(addr)
	if err != nil {
		t.Errorf("Valid(%q), but net/mail refuses it: %v", addr, err)
		return
	}
	if a.Address != addr || a.Name != "" {
		t.Errorf("Valid(%q), but net/mail reads it as address %q, name %q", addr, a.Address, a.Name)
	}
}

func TestValidDomain(t *testing.T) {
	for _, tc := range []struct {
		domain string
		valid  bool
	}{
		{"example.com", true},
		{"Corp.Example", true},
		{"xn--bcher-kva.example", true},
		{"localhost", true},
		{"a-b.c1", true},
		{"", false},
		{"@example.com", false},
		{"alice@example.com", false},
		{"example.com.", false},
		{".example.com", false},
		{"exa mple.com", false},
		{"bücher.example", false},
		{"e\u212Aample.com", false},
		{"-x.example", false},
		{"x-.example", false},
		{"x_y.example", false},
	} {
		if got := ValidDomain(tc.domain); got != tc.valid {
			t.Errorf("ValidDomain(%q) = %v, want %v", tc.domain, got, tc.valid)
		}
	}
}

func TestKey(t *testing.T) {
	for _, tc := range []struct {
		in, key string
		ok      bool
	}{
		{"Alice@Example.COM", "alice@example.com", true},
		{"alice@example.com", "alice@example.com", true},
		{"\u212Aate@example.com", "", false},
		{"admİn@example.com", "", false},
		{"attacker@evil.com@example.com", "", false},
		{"user@bücher.example", "", false},
	} {
		key, ok := Key(tc.in)
		if key != tc.key || ok != tc.ok {
			t.Errorf("Key(%q) = %q, %v; want %q, %v", tc.in, key, ok, tc.key, tc.ok)
		}
	}
	if key, ok := DomainKey("Corp.EXAMPLE"); key != "corp.example" || !ok {
		t.Errorf("DomainKey = %q, %v", key, ok)
	}
	if _, ok := DomainKey("e\u212Aample.com"); ok {
		t.Error("DomainKey accepted a KELVIN SIGN")
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Alice@Example.COM", "alice@example.com"},
		{"User@Bücher.Example", "user@xn--bcher-kva.example"},
		{"user@例え.テスト", "user@xn--r8jz45g.xn--zckzah"},
		{"user@xn--bcher-kva.example", "user@xn--bcher-kva.example"},
		// No Unicode folding, in the local part or the domain: these stay
		// as they are and are not valid.
		{"\u212Aate@Example.com", "\u212Aate@example.com"},
		{"admİn@example.com", "admİn@example.com"},
		{"kate@e\u212Aample.com", "kate@e\u212Aample.com"},
		{"kate@bÜcher.example", "kate@bÜcher.example"},
		{"a@b@bücher.example", "a@b@bücher.example"},
		{"Alice <alice@bücher.example>", "alice <alice@bücher.example>"},
		{"", ""},
	} {
		got := Normalize(tc.in)
		if got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := Normalize(got); again != got {
			t.Errorf("Normalize is not idempotent on %q: %q", got, again)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"Corp.Example", "corp.example"},
		{"Bücher.example", "xn--bcher-kva.example"},
		{"e\u212Aample.com", "e\u212Aample.com"},
	} {
		if got := NormalizeDomain(tc.in); got != tc.want {
			t.Errorf("NormalizeDomain(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want, problem string }{
		{"Bob@Bücher.Example", "bob@xn--bcher-kva.example", ""},
		{"", "", "empty"},
		{"Alice <alice@example.com>", "", "display name"},
		{"al ice@example.com", "", "white space"},
		{"alice.example.com", "", `no "@"`},
		{"attacker@evil.com@example.com", "", `more than one "@"`},
		{"\u212Aate@example.com", "", "not ASCII"},
		{"kate@e\u212Aample.com", "", "A-label"},
		{`"alice"@example.com`, "", "quoted"},
		{"alice@exa_mple.com", "", "domain is not valid"},
		{"al..ice@example.com", "", "single dots"},
	} {
		got, err := Parse(tc.in)
		if tc.problem == "" {
			if err != nil || got != tc.want {
				t.Errorf("Parse(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Value != tc.in || ie.Domain || got != "" ||
			!strings.Contains(err.Error(), tc.problem) || !strings.HasPrefix(err.Error(), "email: address ") {
			t.Errorf("Parse(%q) = %q, %v; want an *InvalidError about %q", tc.in, got, err, tc.problem)
		}
	}
	for _, tc := range []struct{ in, want, problem string }{
		{"Bücher.Example", "xn--bcher-kva.example", ""},
		{"@corp.example", "", `contains "@"`},
		{"e\u212Aample.com", "", "A-label"},
		{"corp.example.", "", "labels"},
		{"", "", "empty"},
	} {
		got, err := ParseDomain(tc.in)
		var ie *InvalidError
		switch {
		case tc.problem == "" && (err != nil || got != tc.want):
			t.Errorf("ParseDomain(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		case tc.problem != "" && (!errors.As(err, &ie) || !ie.Domain || !strings.Contains(err.Error(), tc.problem)):
			t.Errorf("ParseDomain(%q) = %q, %v; want an error about %q", tc.in, got, err, tc.problem)
		}
	}
}

// FuzzValid checks that every address Valid accepts is one net/mail
// addr-spec, read back as itself, and that Normalize keeps a valid address
// valid with the same key.
func FuzzValid(f *testing.F) {
	for _, tc := range addressCases {
		f.Add(tc.addr)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		n := Normalize(addr)
		if Normalize(n) != n {
			t.Errorf("Normalize is not idempotent on %q", addr)
		}
		if !Valid(addr) {
			return
		}
		checkNetMail(t, addr)
		key, _ := Key(addr)
		if !Valid(n) || n != key {
			t.Errorf("Normalize(%q) = %q, Key = %q", addr, n, key)
		}
	})
}
