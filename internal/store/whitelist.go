package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// WhitelistAdd lets new users sign up into a company: entry is an email
// ("user@example.com") or a domain written with a leading "@" ("@example.com").
// Entries are lower-cased. Adding an entry that exists replaces its company
// and admin flag.
func (s *Store) WhitelistAdd(ctx context.Context, company, entry string, isAdmin bool) error {
	if _, _, err := parseEntry(entry); err != nil {
		return err
	}
	return s.writeDirectory(ctx, func(t *tx) error {
		if _, err := companyName(ctx, t, company); err != nil {
			return err
		}
		return insertWhitelist(ctx, t, company, entry, isAdmin)
	})
}

// insertWhitelist adds or replaces a whitelist entry in t.
func insertWhitelist(ctx context.Context, t *tx, company, entry string, isAdmin bool) error {
	email, domain, err := parseEntry(entry)
	if err != nil {
		return err
	}
	admin := 0
	if isAdmin {
		admin = 1
	}
	if email != "" {
		_, err = t.exec(ctx, `
INSERT INTO whitelist_emails (email, company, is_admin) VALUES (?, ?, ?)
ON CONFLICT (email) DO UPDATE SET company = excluded.company, is_admin = excluded.is_admin`,
			email, company, admin)
	} else {
		_, err = t.exec(ctx, `
INSERT INTO whitelist_domains (domain, company, is_admin) VALUES (?, ?, ?)
ON CONFLICT (domain) DO UPDATE SET company = excluded.company, is_admin = excluded.is_admin`,
			domain, company, admin)
	}
	if err != nil {
		return fmt.Errorf("store: whitelist %q: %w", entry, err)
	}
	return nil
}

// WhitelistRemove removes an email or "@domain" entry; a missing entry is a
// NotFoundError. It does not touch users who already signed up.
func (s *Store) WhitelistRemove(ctx context.Context, entry string) error {
	return s.WhitelistRemoveIn(ctx, "", entry)
}

// WhitelistRemoveIn is WhitelistRemove that, when company is not "",
// refuses to remove an entry that belongs to another company.
func (s *Store) WhitelistRemoveIn(ctx context.Context, company, entry string) error {
	email, domain, err := parseEntry(entry)
	if err != nil {
		return err
	}
	table, col, key := "whitelist_emails", "email", email
	if email == "" {
		table, col, key = "whitelist_domains", "domain", domain
	}
	return s.writeDirectory(ctx, func(t *tx) error {
		var owner string
		err := t.queryRow(ctx, "SELECT company FROM "+table+" WHERE "+col+" = ?", key).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("whitelist entry", entryKey(email, domain))
		}
		if err != nil {
			return fmt.Errorf("store: look up whitelist entry %q: %w", entry, err)
		}
		if company != "" && owner != company {
			return fmt.Errorf("store: whitelist entry %s belongs to company %s, not %s", entryKey(email, domain), owner, company)
		}
		if _, err := t.exec(ctx, "DELETE FROM "+table+" WHERE "+col+" = ?", key); err != nil {
			return fmt.Errorf("store: remove whitelist entry %q: %w", entry, err)
		}
		return nil
	})
}

// WhitelistKey returns the form an entry is stored and compared in:
// "user@domain" or "@domain", lower-cased. It fails for what is not an
// entry.
func WhitelistKey(entry string) (string, error) {
	email, domain, err := parseEntry(entry)
	if err != nil {
		return "", err
	}
	return entryKey(email, domain), nil
}

// entryKey renders a parsed entry.
func entryKey(email, domain string) string {
	if email != "" {
		return email
	}
	return "@" + domain
}

// parseEntry splits a whitelist entry into a lower-cased email or domain
// (exactly one of them is set). It checks the shape only, not deliverability.
func parseEntry(entry string) (email, domain string, err error) {
	e := strings.ToLower(strings.TrimSpace(entry))
	bad := func(why string) error {
		return fmt.Errorf("store: whitelist entry %q: %s; want \"user@domain\" or \"@domain\"", entry, why)
	}
	if e == "" {
		return "", "", bad("empty")
	}
	if strings.IndexFunc(e, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", "", bad("has white space or a control character")
	}
	at := strings.LastIndexByte(e, '@')
	if at < 0 {
		return "", "", bad("no @")
	}
	local, dom := e[:at], e[at+1:]
	if strings.Contains(local, "@") {
		return "", "", bad("more than one @")
	}
	if dom == "" || strings.HasPrefix(dom, ".") || strings.HasSuffix(dom, ".") || strings.Contains(dom, "..") {
		return "", "", bad("bad domain")
	}
	if local == "" {
		return "", dom, nil
	}
	return e, "", nil
}
