package rego

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/pingauthz/pingauthz/internal/email"
	"github.com/pingauthz/pingauthz/sso"
)

// IndexVersion is the layout of data.clearml.directory.index the default
// policy understands.
const IndexVersion = 1

// directoryValue validates dir and returns the document written at
// data.clearml.directory: companies and whitelist as given, and the lookup
// indexes under "index":
//
//	index.version                        IndexVersion
//	index.companies[id].exact[name]      name
//	index.companies[id].folded[lower]    every name with that lower-case form, sorted
//	index.whitelist.emails[email.Key]    entry
//	index.whitelist.domains[email.DomainKey] entry
//
// Group names fold with strings.ToLower (Unicode simple lower-case mapping,
// as Rego's lower() does). Whitelist keys follow package email: ASCII letters
// lower-cased, and a key that is not a valid address or domain is left out
// of the index, since no login could match it; ignored lists those keys.
// Empty ids, group names, whitelist keys or companies are errors, and so are
// two whitelist keys with the same index key but different entries.
func directoryValue(dir *sso.Directory) (v ast.Value, ignored []string, err error) {
	if dir == nil {
		return nil, nil, errors.New("rego: directory: nil directory")
	}
	companies := ast.NewObject()
	companyIndex := ast.NewObject()
	for _, id := range sortedKeys(dir.Companies) {
		c := dir.Companies[id]
		if id == "" {
			return nil, nil, errors.New("rego: directory: a company has an empty id")
		}
		exact := ast.NewObject()
		folded := map[string][]string{}
		groups := make([]*ast.Term, 0, len(c.Groups))
		seen := make(map[string]bool, len(c.Groups))
		for _, name := range c.Groups {
			if name == "" {
				return nil, nil, fmt.Errorf("rego: directory: company %q has a group with an empty name", id)
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			t := ast.StringTerm(name)
			groups = append(groups, t)
			exact.Insert(t, t)
			lower := strings.ToLower(name)
			folded[lower] = append(folded[lower], name)
		}
		foldedObj := ast.NewObject()
		for lower, names := range folded {
			slices.Sort(names)
			foldedObj.Insert(ast.StringTerm(lower), ast.ArrayTerm(stringTerms(names)...))
		}
		companies.Insert(ast.StringTerm(id), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("name"), ast.StringTerm(c.Name)),
			ast.Item(ast.InternedTerm("groups"), ast.ArrayTerm(groups...)),
		))
		companyIndex.Insert(ast.StringTerm(id), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("exact"), ast.NewTerm(exact)),
			ast.Item(ast.InternedTerm("folded"), ast.NewTerm(foldedObj)),
		))
	}

	emails, emailIndex, ignoredEmails, err := whitelistValue("email", dir.Whitelist.Emails, email.Key)
	if err != nil {
		return nil, nil, err
	}
	domains, domainIndex, ignoredDomains, err := whitelistValue("domain", dir.Whitelist.Domains, email.DomainKey)
	if err != nil {
		return nil, nil, err
	}

	return ast.NewObject(
		ast.Item(ast.InternedTerm("companies"), ast.NewTerm(companies)),
		ast.Item(ast.InternedTerm("whitelist"), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("emails"), ast.NewTerm(emails)),
			ast.Item(ast.InternedTerm("domains"), ast.NewTerm(domains)),
		)),
		ast.Item(ast.InternedTerm("index"), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("version"), ast.IntNumberTerm(IndexVersion)),
			ast.Item(ast.InternedTerm("companies"), ast.NewTerm(companyIndex)),
			ast.Item(ast.InternedTerm("whitelist"), ast.ObjectTerm(
				ast.Item(ast.InternedTerm("emails"), ast.NewTerm(emailIndex)),
				ast.Item(ast.InternedTerm("domains"), ast.NewTerm(domainIndex)),
			)),
		)),
	), append(ignoredEmails, ignoredDomains...), nil
}

// whitelistValue returns the entries as given, and keyed by indexKey (see
// directoryValue), with the keys indexKey refuses.
func whitelistValue(kind string, entries map[string]sso.WhitelistEntry, indexKey func(string) (string, bool)) (raw, index ast.Object, ignored []string, err error) {
	raw, index = ast.NewObject(), ast.NewObject()
	firstKey := map[string]string{}
	for _, key := range sortedKeys(entries) {
		e := entries[key]
		switch {
		case strings.TrimSpace(key) == "":
			return nil, nil, nil, fmt.Errorf("rego: directory: whitelist has an empty %s", kind)
		case kind == "domain" && strings.Contains(key, "@"):
			return nil, nil, nil, fmt.Errorf("rego: directory: whitelist domain %q contains \"@\"; write the domain alone", key)
		case e.Company == "":
			return nil, nil, nil, fmt.Errorf("rego: directory: whitelist %s %q has no company", kind, key)
		}
		entry := ast.ObjectTerm(
			ast.Item(ast.InternedTerm("company"), ast.StringTerm(e.Company)),
			ast.Item(ast.InternedTerm("is_admin"), ast.InternedTerm(e.IsAdmin)),
		)
		raw.Insert(ast.StringTerm(key), entry)
		k, ok := indexKey(key)
		if !ok {
			ignored = append(ignored, kind+" "+strconv.QuoteToASCII(key))
			continue
		}
		if other, dup := firstKey[k]; dup {
			if entries[other] != e {
				return nil, nil, nil, fmt.Errorf("rego: directory: whitelist %ss %q and %q differ only in letter case but name different entries", kind, other, key)
			}
			continue
		}
		firstKey[k] = key
		index.Insert(ast.StringTerm(k), entry)
	}
	return raw, index, ignored, nil
}

func stringTerms(ss []string) []*ast.Term {
	out := make([]*ast.Term, len(ss))
	for i, s := range ss {
		out[i] = ast.StringTerm(s)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
