package config

import (
	"errors"
	"strings"
	"testing"
)

func str(s string) Value   { return Value{Kind: KindString, Str: s} }
func num(s string) Value   { return Value{Kind: KindNumber, Str: s} }
func boolean(b bool) Value { return Value{Kind: KindBool, Bool: b} }
func list(vs ...Value) Value {
	if vs == nil {
		vs = []Value{}
	}
	return Value{Kind: KindList, List: vs}
}

func TestParseValue(t *testing.T) {
	tests := []struct {
		name, in string
		want     Value
	}{
		{"true", "true", boolean(true)},
		{"false", "false", boolean(false)},
		{"true any case", "TRUE", boolean(true)},
		{"false padded", "  False \t", boolean(false)},
		{"yes stays a string", "yes", str("yes")},
		{"off stays a string", "off", str("off")},
		{"null", "null", Value{Kind: KindNull}},
		{"null any case", "NULL", Value{Kind: KindNull}},
		{"integer", "42", num("42")},
		{"negative float", "-1.5e3", num("-1.5e3")},
		{"leading zero keeps spelling", "0123", num("0123")},
		{"plus sign", "+7", num("+7")},
		{"fraction without integer part", ".5", num(".5")},
		{"not quite a number", "1.2.3", str("1.2.3")},
		{"unquoted string", "hello", str("hello")},
		{"unquoted string trimmed", "  hello  ", str("hello")},
		{"unquoted keeps inner spaces", "openid profile  email", str("openid profile  email")},
		{"unquoted URL", "https://auth.pingone.com/abc/as/authorize", str("https://auth.pingone.com/abc/as/authorize")},
		{"unquoted URL with port and double slash in path", "http://127.0.0.1:9031/a//b", str("http://127.0.0.1:9031/a//b")},
		{"colon in unquoted", "urn:ping:groups", str("urn:ping:groups")},
		{"blank is empty string", "  ", str("")},
		{"empty is empty string", "", str("")},
		{"trailing newline", "abc\n", str("abc")},
		{"words that look like keywords", "true false", str("true false")},
		{"quoted", `"hello world"`, str("hello world")},
		{"quoted keeps spaces", `"  x  "`, str("  x  ")},
		{"quoted substitution is literal", `"${X}"`, str("${X}")},
		{"quoted escapes", `"a\"b\\c\/d\n\t\r\b\f"`, str("a\"b\\c/d\n\t\r\b\f")},
		{"quoted unicode escape", `"caf\u00e9"`, str("café")},
		{"quoted surrogate pair", `"\ud83d\ude00"`, str("😀")},
		{"quoted raw UTF-8", `"Équipe ML"`, str("Équipe ML")},
		{"quoted forbidden chars", `"a#b!c$d,e[f]"`, str("a#b!c$d,e[f]")},
		{"quoted true is a string", `"true"`, str("true")},
		{"quoted number is a string", `"42"`, str("42")},
		{"empty quoted", `""`, str("")},
		{"empty list", "[]", list()},
		{"empty list with spaces", "[  ]", list()},
		{"quoted list", `["a", "b"]`, list(str("a"), str("b"))},
		{"unquoted list", "[a, b]", list(str("a"), str("b"))},
		{"unquoted list with spaces in names", "[ ML Admins , Ops ]", list(str("ML Admins"), str("Ops"))},
		{"mixed list", `[a, "b c", 3, true, null]`, list(str("a"), str("b c"), num("3"), boolean(true), Value{Kind: KindNull})},
		{"trailing comma", `["a", "b",]`, list(str("a"), str("b"))},
		{"newline separated", "[a\nb]", list(str("a"), str("b"))},
		{"newline and comma", "[a\n, b]", list(str("a"), str("b"))},
		{"list padded", "  [a]  ", list(str("a"))},
		{"list with quoted comma", `["a,b"]`, list(str("a,b"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseValue(tc.in)
			if err != nil {
				t.Fatalf("ParseValue(%q): %v", tc.in, err)
			}
			if !got.Equal(tc.want) {
				t.Fatalf("ParseValue(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseValueErrors(t *testing.T) {
	tests := []struct {
		name, in string
		column   int
		msg      string
	}{
		{"unclosed quote", `"abc`, 1, "not closed"},
		{"text after quoted", `"a" b`, 5, "after the value"},
		{"unknown escape", `"a\qb"`, 3, `unknown escape \q`},
		{"short unicode escape", `"\u12"`, 2, "four hex digits"},
		{"lone high surrogate", `"\ud83d"`, 2, "surrogate"},
		{"lone low surrogate", `"\ude00x"`, 2, "surrogate"},
		{"raw newline in quotes", "\"a\nb\"", 3, "control character"},
		{"triple quotes", `"""abc"""`, 1, "triple-quoted"},
		{"unquoted substitution", "${X}", 1, "substitutions"},
		{"substitution inside unquoted", "abc${X}", 4, "substitutions"},
		{"hash comment", "abc#def", 4, "comment"},
		{"slash comment after space", "abc //def", 5, "comment"},
		{"slash comment at start", "//abc", 1, "comment"},
		{"forbidden char", "abc!def", 4, `'!'`},
		{"backslash", `a\b`, 2, `'\\'`},
		{"equals", "a=b", 2, `'='`},
		{"comma outside list", "a,b", 2, `','`},
		{"line break in unquoted", "a\nb", 2, "line break"},
		{"object", "{a: 1}", 1, "objects are not supported"},
		{"unclosed list", "[a, b", 1, "not closed"},
		{"nested list", "[[a]]", 2, "nested lists"},
		{"nested list later", "[a, [b]]", 5, "nested lists"},
		{"double comma", "[a,,b]", 4, "missing list element"},
		{"leading comma", "[,a]", 2, "missing list element"},
		{"missing comma", `["a" "b"]`, 6, "expected ','"},
		{"text after list", "[a] b", 5, "after the value"},
		{"object in list", "[{a: 1}]", 2, "objects"},
		{"unclosed quote in list", `["a]`, 2, "not closed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ParseValue(tc.in)
			if err == nil {
				t.Fatalf("ParseValue(%q) = %v, want an error", tc.in, v)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is %T, want *SyntaxError", err, err)
			}
			if se.Column != tc.column {
				t.Errorf("column = %d, want %d (%v)", se.Column, tc.column, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestValueStringRoundTrip(t *testing.T) {
	values := []Value{
		{Kind: KindNull},
		boolean(true),
		boolean(false),
		num("-0.5E+2"),
		str(""),
		str("plain"),
		str("${X}"),
		str("quote \" backslash \\ newline \n tab \t cr \r nul \x00 del \x7f"),
		str("invalid utf-8 \xff\xfe"),
		str("ünïcödé 😀"),
		list(),
		list(str("a"), num("1"), boolean(false), Value{Kind: KindNull}, str("x, y]")),
	}
	for _, v := range values {
		t.Run(v.String(), func(t *testing.T) {
			got, err := ParseValue(v.String())
			if err != nil {
				t.Fatalf("ParseValue(%q): %v", v.String(), err)
			}
			if !got.Equal(v) {
				t.Fatalf("round trip of %q gave %#v, want %#v", v.String(), got, v)
			}
		})
	}
}

func TestAsBool(t *testing.T) {
	tests := []struct {
		in     Value
		want   bool
		wantOK bool
	}{
		{boolean(true), true, true},
		{boolean(false), false, true},
		{str("yes"), true, true},
		{str("On"), true, true},
		{str("true"), true, true},
		{str("NO"), false, true},
		{str("off"), false, true},
		{str("false"), false, true},
		{str("maybe"), false, false},
		{str(""), false, false},
		{num("1"), false, false},
		{list(), false, false},
		{Value{Kind: KindNull}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.in.String(), func(t *testing.T) {
			got, ok := tc.in.AsBool()
			if got != tc.want || ok != tc.wantOK {
				t.Fatalf("AsBool() = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestAsString(t *testing.T) {
	tests := []struct {
		in     Value
		want   string
		wantOK bool
	}{
		{str("abc"), "abc", true},
		{num("0123"), "0123", true},
		{boolean(true), "", false},
		{list(str("a")), "", false},
		{Value{Kind: KindNull}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in.String(), func(t *testing.T) {
			got, ok := tc.in.AsString()
			if got != tc.want || ok != tc.wantOK {
				t.Fatalf("AsString() = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func FuzzParseValue(f *testing.F) {
	// More seeds are committed under testdata/fuzz/FuzzParseValue.
	for _, s := range []string{"true", `["a", b,]`, `"${X}"`, "https://x/y", "1e5", "[a\n,b]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		v, err := ParseValue(in)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseValue(%q) error %v is %T, want *SyntaxError", in, err, err)
			}
			if se.Column < 1 || se.Column > len(in)+1 {
				t.Fatalf("ParseValue(%q) error column %d outside 1..%d", in, se.Column, len(in)+1)
			}
			return
		}
		for _, e := range v.List {
			if e.Kind == KindList {
				t.Fatalf("ParseValue(%q) returned a nested list", in)
			}
		}
		out := v.String()
		v2, err := ParseValue(out)
		if err != nil {
			t.Fatalf("ParseValue(%q) = %#v renders as %q, which does not parse: %v", in, v, out, err)
		}
		if !v2.Equal(v) {
			t.Fatalf("ParseValue(%q) = %#v renders as %q, which parses as %#v", in, v, out, v2)
		}
		if out2 := v2.String(); out2 != out {
			t.Fatalf("rendering is not stable: %q then %q", out, out2)
		}
	})
}
