package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/pingauthz/pingauthz/internal/email"
)

// WhitelistAdd lets new users sign up into a company: entry is an email
// ("user@example.com") or a domain written with a leading "@" ("@example.com").
// Entries are stored as the relying party compares them (see parseEntry), so
// "Kate@Bücher.Example" is stored as "kate@xn--bcher-kva.example". Adding an entry that exists replaces its company
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
// "user@domain" or "@domain", ASCII letters lower-cased and the domain an
// A-label. It fails for what is not an entry, naming why.
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

// parseEntry splits a whitelist entry into its email or domain (exactly
// one of them is set) in the form the relying party compares: ASCII letters
// lower-cased (only those: strings.ToLower would fold U+212A KELVIN SIGN to
// "k"), a Unicode domain as its A-label, and exactly one plain ASCII
// addr-spec (package email). It checks the shape only, not deliverability.
func parseEntry(entry string) (emailKey, domain string, err error) {
	e := strings.TrimSpace(entry)
	bad := func(err error) error {
		return fmt.Errorf("store: whitelist entry %q: %w; want \"user@domain\" or \"@domain\"", entry, err)
	}
	if e == "" {
		return "", "", bad(errors.New("it is empty"))
	}
	if d, ok := strings.CutPrefix(e, "@"); ok {
		if domain, err = email.ParseDomain(d); err != nil {
			return "", "", bad(err)
		}
		return "", domain, nil
	}
	if emailKey, err = email.Parse(e); err != nil {
		return "", "", bad(err)
	}
	return emailKey, "", nil
}
