package pingcheck

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// textWidth is where WriteChecks wraps sentences.
const textWidth = 100

// WriteChecks prints one line per check, "PASS name sentence", the
// sentence wrapped under itself.
func WriteChecks(w io.Writer, checks []Check) {
	const nameWidth = 20
	indent := strings.Repeat(" ", 2+4+2+nameWidth)
	for _, c := range checks {
		status := "PASS"
		if !c.OK {
			status = "FAIL"
		}
		lines := wrap(c.Sentence, textWidth-len(indent))
		fmt.Fprintf(w, "  %s  %-*s%s\n", status, nameWidth, c.Name, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%s%s\n", indent, l)
		}
	}
}

// wrap breaks s into lines of at most width runes where it has spaces.
func wrap(s string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, word := range strings.Fields(s) {
		if cur.Len() > 0 && cur.Len()+1+len(word) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(word)
	}
	return append(lines, cur.String())
}

// WriteLogin prints the claims, the identity and the decision of a login.
func WriteLogin(w io.Writer, l *Login) {
	if l.IDTokenClaims != nil {
		fmt.Fprintln(w, "\nID token claims (verified; the token itself is not shown):")
		writeJSONIndented(w, l.IDTokenClaims)
	}
	if l.UserinfoClaims != nil {
		fmt.Fprintln(w, "\nUserinfo claims:")
		writeJSONIndented(w, l.UserinfoClaims)
	}
	if id := l.Identity; id != nil {
		verified := "email_verified not sent"
		if id.EmailVerified != nil && *id.EmailVerified {
			verified = "verified"
		} else if id.EmailVerified != nil {
			verified = "not verified"
		}
		g := l.GroupsClaim
		from := "absent"
		if g.Source != "" {
			from = "from " + strings.ReplaceAll(g.Source, "+", " and ")
		}
		if g.FromDN {
			from += ", CN of each DN"
		}
		fmt.Fprintf(w, "\nIdentity, as the relying party extracted it:\n")
		fmt.Fprintf(w, "  issuer    %s\n  subject   %s\n  user id   %s\n  email     %s (%s)\n  name      %s\n  groups    %s (claim %q %s)\n",
			id.Issuer, id.Subject, id.UserID, orDash(id.Email), verified, orDash(id.Name), quoteList(id.Groups), g.Name, from)
	}
	if d := l.Decision; d != nil && d.Decision != nil {
		fmt.Fprintf(w, "\nDecision against %s (policy revision %s):\n", d.Directory, d.Revision)
		if d.User != nil {
			fmt.Fprintf(w, "  existing user %s in company %s, role %s\n", d.User.ID, d.User.Company, d.User.Role)
		} else {
			fmt.Fprintln(w, "  no existing user: a first login")
		}
		dec := d.Decision
		if dec.Allow {
			role := "(unchanged)"
			if dec.Role != nil {
				role = *dec.Role
			}
			fmt.Fprintf(w, "  ALLOW  sign-up %v, company %s, role %s", dec.Signup, dec.Company, role)
			if dec.SyncGroups {
				fmt.Fprintf(w, ", groups %s", quoteList(dec.Groups))
			}
			fmt.Fprintln(w)
		} else {
			fmt.Fprintln(w, "  DENY")
		}
		if dec.Message != "" {
			fmt.Fprintf(w, "  message: %s\n", dec.Message)
		}
		for _, r := range d.Reasons {
			fmt.Fprintf(w, "  %-26s %s\n", r.Code, r.Sentence)
		}
	}
}

func writeJSONIndented(w io.Writer, v any) {
	b, err := json.MarshalIndent(v, "  ", "  ")
	if err != nil {
		fmt.Fprintf(w, "  (unprintable: %v)\n", err)
		return
	}
	fmt.Fprintf(w, "  %s\n", b)
}

// WriteSummary prints how many checks passed.
func WriteSummary(w io.Writer, r *Report) {
	passed := 0
	for _, c := range r.Checks {
		if c.OK {
			passed++
		}
	}
	fmt.Fprintf(w, "\n%d of %d checks passed.\n", passed, len(r.Checks))
}
