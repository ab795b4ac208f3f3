package rego

import (
	"fmt"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/open-policy-agent/opa/v1/ast"
)

// inputValue converts in to the policy input without a JSON round trip.
// Absent groups become [] and absent claims {}; a nil EmailVerified leaves
// email_verified out; a nil sso.User is null.
func inputValue(in *sso.Input) (ast.Value, error) {
	id := in.Identity
	claims := ast.NewObject()
	if len(id.Claims) > 0 {
		v, err := ast.InterfaceToValue(id.Claims)
		if err != nil {
			return nil, fmt.Errorf("rego: input: identity claims: %w", err)
		}
		obj, ok := v.(ast.Object)
		if !ok {
			return nil, fmt.Errorf("rego: input: identity claims are not an object")
		}
		claims = obj
	}
	identity := ast.NewObject(
		ast.Item(ast.InternedTerm("issuer"), ast.StringTerm(id.Issuer)),
		ast.Item(ast.InternedTerm("subject"), ast.StringTerm(id.Subject)),
		ast.Item(ast.InternedTerm("user_id"), ast.StringTerm(id.UserID)),
		ast.Item(ast.InternedTerm("email"), ast.StringTerm(id.Email)),
		ast.Item(ast.InternedTerm("name"), ast.StringTerm(id.Name)),
		ast.Item(ast.InternedTerm("groups"), ast.ArrayTerm(stringTerms(id.Groups)...)),
		ast.Item(ast.InternedTerm("claims"), ast.NewTerm(claims)),
	)
	if id.EmailVerified != nil {
		identity.Insert(ast.InternedTerm("email_verified"), ast.InternedTerm(*id.EmailVerified))
	}
	user := ast.InternedNullTerm
	if u := in.User; u != nil {
		user = ast.ObjectTerm(
			ast.Item(ast.InternedTerm("id"), ast.StringTerm(u.ID)),
			ast.Item(ast.InternedTerm("company"), ast.StringTerm(u.Company)),
			ast.Item(ast.InternedTerm("role"), ast.StringTerm(u.Role)),
			ast.Item(ast.InternedTerm("groups"), ast.ArrayTerm(stringTerms(u.Groups)...)),
		)
	}
	return ast.NewObject(
		ast.Item(ast.InternedTerm("identity"), ast.NewTerm(identity)),
		ast.Item(ast.InternedTerm("user"), user),
	), nil
}
