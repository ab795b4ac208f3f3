package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/pingauthz/pingauthz/internal/store"
)

func migrateCmd(*flag.FlagSet) ([]string, adminRun) {
	return nil, func(_ context.Context, c *adminCmd, _ []string) error {
		from, to := c.st.Migrated()
		if from == to {
			fmt.Fprintf(c.stdout, "schema version %d (%s): up to date\n", to, c.st.Engine())
			return nil
		}
		fmt.Fprintf(c.stdout, "schema version %d (%s): migrated from version %d\n", to, c.st.Engine(), from)
		return nil
	}
}

func exportCmd(fs *flag.FlagSet) ([]string, adminRun) {
	noSessions := fs.Bool("no-sessions", false, "leave the sessions out (users then log in again after an import)")
	return nil, func(ctx context.Context, c *adminCmd, _ []string) error {
		d, err := c.st.Export(ctx, !*noSessions)
		if err != nil {
			return err
		}
		return writeJSON(c.stdout, d)
	}
}

func importCmd(*flag.FlagSet) ([]string, adminRun) {
	return nil, func(ctx context.Context, c *adminCmd, _ []string) error {
		var d store.Dump
		dec := json.NewDecoder(c.stdin)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return fmt.Errorf("admin import: reading the dump on standard input: %w", err)
		}
		if err := c.st.Import(ctx, &d); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "imported %d companies, %d groups, %d whitelist entries, %d users, %d memberships, %d sessions\n",
			len(d.Companies), len(d.Groups), len(d.Whitelist), len(d.Users), len(d.Memberships), len(d.Sessions))
		return nil
	}
}
