// Package sso is the vocabulary every part of pingauthz shares: the identity
// of a login, the existing user, the directory the policies consult, the
// decision and its reason codes, and the account a server shows. The policy
// engine, the plugin contract, the host and the stores all speak it.
//
// It imports nothing of this module and no policy engine, so a server that
// embeds the host links none. It holds data and sentences only: it does not
// decide, store or talk to anything.
package sso
