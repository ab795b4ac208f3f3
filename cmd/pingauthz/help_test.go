package main

import (
	"bytes"
	"context"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// commandWord is a word of a command's name, as a usage line spells it;
// placeholders (COMMAND, ID), flags and brackets are not.
var commandWord = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// leadingWords returns the command words that start fields.
func leadingWords(fields []string) []string {
	var out []string
	for _, f := range fields {
		if !commandWord.MatchString(f) {
			break
		}
		out = append(out, f)
	}
	return out
}

// subcommands returns the command paths a help text names below path: the
// words its Usage line adds after path ("pingauthz config check"), and the
// entries of its "Commands:" section (each indented by two spaces; the
// command words before the arguments or the summary).
func subcommands(path []string, help string) [][]string {
	var out [][]string
	add := func(words []string) {
		if len(words) > len(path) && slices.Equal(words[:len(path)], path) {
			out = append(out, words)
		}
	}
	lines := strings.Split(help, "\n")
	if usage, ok := strings.CutPrefix(lines[0], "Usage: pingauthz "); ok {
		add(leadingWords(strings.Fields(usage)))
	}
	inCommands := false
	for _, l := range lines {
		switch {
		case l == "Commands:":
			inCommands = true
		case inCommands && strings.TrimSpace(l) == "":
			inCommands = false
		case inCommands && strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   "):
			synopsis, _, _ := strings.Cut(strings.TrimSpace(l), "  ")
			add(append(slices.Clone(path), leadingWords(strings.Fields(synopsis))...))
		}
	}
	return out
}

// help runs one command line with a deadline, so a command that ignores
// -h and starts working instead fails the test rather than hanging it.
func help(t *testing.T, args []string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, baseEnv, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestHelpEverywhere walks every pingauthz command at every level, found
// in the command tables and in the help texts themselves, and asks each
// for -h and --help: the usage on stdout, nothing on stderr, exit 0, and
// the same text for both.
func TestHelpEverywhere(t *testing.T) {
	queue := [][]string{{}}
	for name := range commands() {
		queue = append(queue, []string{name})
	}
	for _, c := range adminCommands() {
		queue = append(queue, append([]string{"admin"}, strings.Fields(c.name)...))
	}
	seen := map[string]bool{}
	parsed := map[string]bool{} // paths some help text named
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		key := strings.Join(path, " ")
		if seen[key] {
			continue
		}
		seen[key] = true
		var texts []string
		for _, h := range []string{"-h", "--help"} {
			args := append(slices.Clone(path), h)
			code, stdout, stderr := help(t, args)
			if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "Usage: pingauthz") {
				t.Errorf("pingauthz %s: exit %d, stdout %q, stderr %q; want 0 and the usage on stdout only",
					strings.Join(args, " "), code, firstLine(stdout), stderr)
				continue
			}
			for _, w := range path {
				if !strings.Contains(firstLine(stdout), " "+w) {
					t.Errorf("pingauthz %s: the usage line %q does not name %q", strings.Join(args, " "), firstLine(stdout), w)
				}
			}
			texts = append(texts, stdout)
		}
		if len(texts) == 2 && texts[0] != texts[1] {
			t.Errorf("pingauthz %s: -h and --help print different texts", key)
		}
		if len(texts) > 0 && len(path) < 4 {
			for _, sub := range subcommands(path, texts[0]) {
				parsed[strings.Join(sub, " ")] = true
				queue = append(queue, sub)
			}
		}
	}
	// The help texts list what the tables hold: the parse is what finds
	// the commands no table names (policy's, config's).
	for name := range commands() {
		if !parsed[name] {
			t.Errorf("pingauthz -h does not list %q", name)
		}
	}
	for _, c := range adminCommands() {
		if !parsed["admin "+c.name] {
			t.Errorf("pingauthz admin -h does not list %q", c.name)
		}
	}
	if !parsed["policy eval"] || !parsed["config check"] {
		t.Errorf("the walk did not find policy eval and config check in the help texts; found %v", slices.Sorted(maps.Keys(seen)))
	}
	t.Logf("%d command paths answered -h and --help: %q", len(seen), slices.Sorted(maps.Keys(seen)))
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
