package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the type of a parsed HOCON value.
type Kind int

// The kinds of value ParseValue returns.
const (
	KindNull Kind = iota
	KindBool
	KindNumber
	KindString
	KindList
)

// String names the kind: "null", "boolean", "number", "string" or "list".
func (k Kind) String() string {
	switch k {
	case KindNull:
		return "null"
	case KindBool:
		return "boolean"
	case KindNumber:
		return "number"
	case KindString:
		return "string"
	case KindList:
		return "list"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Value is one HOCON value from the subset ClearML environment variables use:
// null, booleans, numbers, strings and flat lists of those. Objects,
// substitutions, comments and concatenations other than spaces inside an
// unquoted string are not part of the subset.
type Value struct {
	Kind Kind
	// Bool is set for KindBool.
	Bool bool
	// Str is the text of a KindString, or the literal spelling of a
	// KindNumber (so "0123" stays "0123" when read as a string).
	Str string
	// List holds the elements of a KindList; none of them is a list.
	List []Value
}

// SyntaxError reports where and why a value could not be parsed. Column is
// the 1-based byte position in the value. Its message never repeats the
// value itself beyond the one offending character.
type SyntaxError struct {
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("config: column %d: %s", e.Column, e.Msg)
}

// numberRE is the number grammar of the HOCON parser ClearML uses (pyhocon).
var numberRE = regexp.MustCompile(`^[+-]?(?:[0-9]*\.[0-9]+|[0-9]+(?:\.[0-9]+)?)(?:[eE][+-]?[0-9]+)?$`)

// forbiddenUnquoted are the characters HOCON gives a meaning to, or that the
// ClearML parser does not accept, inside an unquoted string.
const forbiddenUnquoted = "^`+?!@*&\"[]{}#,=$\\"

// ParseValue parses s as a HOCON value of the subset described on Value.
// Surrounding white space is ignored. An unquoted string keeps its inner
// spaces; a quoted string takes JSON escapes, so `"${X}"` is the literal
// text ${X}. true, false and null are matched without regard to case, as
// ClearML does; yes/no/on/off stay strings (see AsBool). Blank input is the
// empty string. ParseValue does not resolve substitutions or read comments.
func ParseValue(s string) (Value, error) {
	p := &parser{s: s}
	p.skipSpace(true)
	if p.eof() {
		return Value{Kind: KindString}, nil
	}
	var v Value
	var err error
	if p.peek() == '[' {
		v, err = p.list()
	} else {
		v, err = p.scalar(false)
	}
	if err != nil {
		return Value{}, err
	}
	p.skipSpace(true)
	if !p.eof() {
		return Value{}, p.errf(p.pos, "unexpected %q after the value; quote the whole value if it is one string", p.peekRune())
	}
	return v, nil
}

type parser struct {
	s   string
	pos int
}

func (p *parser) eof() bool  { return p.pos >= len(p.s) }
func (p *parser) peek() byte { return p.s[p.pos] }

func (p *parser) peekRune() rune {
	r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
	return r
}

func (p *parser) errf(pos int, format string, args ...any) error {
	return &SyntaxError{Column: pos + 1, Msg: fmt.Sprintf(format, args...)}
}

// skipSpace skips spaces and tabs, and line breaks too when newlines is set.
func (p *parser) skipSpace(newlines bool) {
	for !p.eof() {
		switch p.peek() {
		case ' ', '\t':
		case '\n', '\r':
			if !newlines {
				return
			}
		default:
			return
		}
		p.pos++
	}
}

// list parses a flat list; elements are separated by a comma, line breaks,
// or both, and one trailing comma is allowed.
func (p *parser) list() (Value, error) {
	start := p.pos
	p.pos++ // '['
	v := Value{Kind: KindList, List: []Value{}}
	afterElem := false // an element was read and no separator followed yet
	comma := false     // a comma followed the last element
	for {
		p.skipSpace(false)
		if p.eof() {
			return Value{}, p.errf(start, "list is not closed with ']'")
		}
		switch c := p.peek(); {
		case c == ']':
			p.pos++
			return v, nil
		case c == '\n' || c == '\r':
			p.pos++
			afterElem = false
		case c == ',':
			if len(v.List) == 0 || comma {
				return Value{}, p.errf(p.pos, "missing list element before ','")
			}
			p.pos++
			afterElem, comma = false, true
		case afterElem:
			return Value{}, p.errf(p.pos, "expected ',' or ']' after a list element, found %q", p.peekRune())
		case c == '[':
			return Value{}, p.errf(p.pos, "nested lists are not supported")
		default:
			e, err := p.scalar(true)
			if err != nil {
				return Value{}, err
			}
			v.List = append(v.List, e)
			afterElem, comma = true, false
		}
	}
}

// scalar parses a quoted string, or an unquoted token that is a number,
// boolean, null or string. Inside a list, an unquoted token ends at ',', ']'
// or a line break.
func (p *parser) scalar(inList bool) (Value, error) {
	switch p.peek() {
	case '"':
		return p.quoted()
	case '{':
		return Value{}, p.errf(p.pos, "objects are not supported; set each key in its own variable")
	}
	start := p.pos
	end := len(p.s)
	if inList {
		if i := strings.IndexAny(p.s[start:], ",]\n\r"); i >= 0 {
			end = start + i
		}
	} else if i := strings.IndexAny(p.s[start:], "\n\r"); i >= 0 && strings.Trim(p.s[start+i:], " \t\r\n") == "" {
		end = start + i
	}
	tok := strings.TrimRight(p.s[start:end], " \t")
	if numberRE.MatchString(tok) {
		p.pos = end
		return Value{Kind: KindNumber, Str: tok}, nil
	}
	for ; p.pos < end; p.pos++ {
		c := p.peek()
		if c == '\n' || c == '\r' {
			return Value{}, p.errf(p.pos, "line break in an unquoted value; quote it and write \\n")
		}
		if c == '$' && strings.HasPrefix(p.s[p.pos:], "${") {
			return Value{}, p.errf(p.pos, "substitutions (${...}) are not supported; quote the value to use it literally")
		}
		// '#' always starts a comment; '//' does at the start of a word.
		atWord := p.pos == start || p.s[p.pos-1] == ' ' || p.s[p.pos-1] == '\t'
		if c == '#' || atWord && strings.HasPrefix(p.s[p.pos:], "//") {
			return Value{}, p.errf(p.pos, "%q starts a comment in HOCON; quote the value if it is part of it", comment(p.s[p.pos:]))
		}
		if strings.IndexByte(forbiddenUnquoted, c) >= 0 {
			return Value{}, p.errf(p.pos, "character %q is not allowed in an unquoted value; quote the value", c)
		}
		if c < 0x20 && c != '\t' || c == 0x7f {
			return Value{}, p.errf(p.pos, "control character %q in an unquoted value; quote it and use an escape", c)
		}
	}
	switch {
	case strings.EqualFold(tok, "true"):
		return Value{Kind: KindBool, Bool: true}, nil
	case strings.EqualFold(tok, "false"):
		return Value{Kind: KindBool}, nil
	case strings.EqualFold(tok, "null"):
		return Value{Kind: KindNull}, nil
	}
	return Value{Kind: KindString, Str: tok}, nil
}

func comment(s string) string {
	if s[0] == '#' {
		return "#"
	}
	return "//"
}

// quoted parses a JSON string literal starting at the opening quote.
func (p *parser) quoted() (Value, error) {
	start := p.pos
	if strings.HasPrefix(p.s[p.pos:], `"""`) {
		return Value{}, p.errf(p.pos, `triple-quoted strings are not supported; use "..." with escapes`)
	}
	p.pos++
	var b strings.Builder
	for {
		if p.eof() {
			return Value{}, p.errf(start, "quoted string is not closed with '\"'")
		}
		c := p.peek()
		switch {
		case c == '"':
			p.pos++
			return Value{Kind: KindString, Str: b.String()}, nil
		case c == '\\':
			if err := p.escape(&b); err != nil {
				return Value{}, err
			}
		case c < 0x20:
			return Value{}, p.errf(p.pos, "control character %q in a quoted string; use an escape such as \\n", c)
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
}

// escape decodes one JSON escape at p.pos into b.
func (p *parser) escape(b *strings.Builder) error {
	at := p.pos
	if p.pos+1 >= len(p.s) {
		return p.errf(at, "unfinished escape at the end of the value")
	}
	c := p.s[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		b.WriteByte(c)
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'u':
		r, err := p.hex4(at)
		if err != nil {
			return err
		}
		if utf16.IsSurrogate(r) {
			if r >= 0xDC00 || !strings.HasPrefix(p.s[p.pos:], `\u`) {
				return p.errf(at, "unpaired UTF-16 surrogate in \\u escape")
			}
			at2 := p.pos
			p.pos += 2
			r2, err := p.hex4(at2)
			if err != nil {
				return err
			}
			if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
				return p.errf(at, "unpaired UTF-16 surrogate in \\u escape")
			}
		}
		b.WriteRune(r)
	default:
		return p.errf(at, "unknown escape \\%c; JSON escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uHHHH (four hex digits)", rune(c))
	}
	return nil
}

// hex4 reads the four hex digits of a \u escape that started at at.
func (p *parser) hex4(at int) (rune, error) {
	if p.pos+4 > len(p.s) {
		return 0, p.errf(at, "\\u escape needs four hex digits")
	}
	n, err := strconv.ParseUint(p.s[p.pos:p.pos+4], 16, 32)
	if err != nil {
		return 0, p.errf(at, "\\u escape needs four hex digits")
	}
	p.pos += 4
	return rune(n), nil
}

// String renders v in the syntax ParseValue reads, so that parsing the
// result gives v back. Strings are always quoted.
func (v Value) String() string {
	switch v.Kind {
	case KindNull:
		return "null"
	case KindBool:
		return strconv.FormatBool(v.Bool)
	case KindNumber:
		return v.Str
	case KindString:
		return quote(v.Str)
	case KindList:
		parts := make([]string, len(v.List))
		for i, e := range v.List {
			parts[i] = e.String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprintf("<invalid %v>", v.Kind)
}

// quote writes s as a JSON string literal, escaping only what JSON requires
// (and DEL); other bytes, valid UTF-8 or not, are kept as they are.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Equal reports whether v and w are the same value.
func (v Value) Equal(w Value) bool {
	if v.Kind != w.Kind || v.Bool != w.Bool || v.Str != w.Str || len(v.List) != len(w.List) {
		return false
	}
	for i := range v.List {
		if !v.List[i].Equal(w.List[i]) {
			return false
		}
	}
	return true
}

// AsBool converts v to a boolean the way HOCON does: a boolean, or one of
// the strings true/false/yes/no/on/off in any case. ok is false otherwise.
func (v Value) AsBool() (b, ok bool) {
	switch v.Kind {
	case KindBool:
		return v.Bool, true
	case KindString:
		switch strings.ToLower(strings.TrimSpace(v.Str)) {
		case "true", "yes", "on":
			return true, true
		case "false", "no", "off":
			return false, true
		}
	}
	return false, false
}

// AsString converts v to a string the way HOCON does for the kinds where
// that is unambiguous: a string, or a number in its literal spelling.
func (v Value) AsString() (s string, ok bool) {
	if v.Kind == KindString || v.Kind == KindNumber {
		return v.Str, true
	}
	return "", false
}
