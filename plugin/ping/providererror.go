package ping

// providerErrorSentences are the messages a user sees for the error codes an
// authorization endpoint may put on the callback: RFC 6749 section 4.1.2.1
// and OpenID Connect Core 1.0 section 3.1.2.6. The callback's
// error_description is never shown, only logged: anyone can craft a link to
// the callback, so its text must not appear on the server's page.
var providerErrorSentences = map[string]string{
	// RFC 6749 section 4.1.2.1
	"invalid_request":           "the identity provider rejected the sign-in request as malformed; contact your administrator",
	"unauthorized_client":       "the identity provider does not allow this application to sign in this way; contact your administrator",
	"access_denied":             "the sign-in was canceled or refused at the identity provider",
	"unsupported_response_type": "the identity provider does not allow this application's sign-in flow; contact your administrator",
	"invalid_scope":             "the identity provider rejected the access this application asked for; contact your administrator",
	"server_error":              "the identity provider had an internal error; try again later",
	"temporarily_unavailable":   "the identity provider is temporarily unavailable; try again later",
	// OpenID Connect Core 1.0 section 3.1.2.6
	"interaction_required":       "the identity provider needs you to complete a step of the sign-in; sign in again",
	"login_required":             "the identity provider needs you to sign in again",
	"account_selection_required": "the identity provider needs you to choose an account; sign in again",
	"consent_required":           "the identity provider needs your consent for this application; sign in again and give it",
	"invalid_request_uri":        "the identity provider rejected the sign-in request's reference; contact your administrator",
	"invalid_request_object":     "the identity provider rejected the sign-in request object; contact your administrator",
	"request_not_supported":      "the identity provider does not support the sign-in request object; contact your administrator",
	"request_uri_not_supported":  "the identity provider does not support sign-in request references; contact your administrator",
	"registration_not_supported": "the identity provider does not support client registration in the sign-in request; contact your administrator",
}

// providerErrorGeneric is the message for any other code.
const providerErrorGeneric = "the identity provider refused the sign-in; try again, or contact your administrator"

// providerErrorMessage is the fixed message for a callback's error code. A
// known code is named after the sentence; an unknown one is not, since its
// text comes from the link.
func providerErrorMessage(code string) string {
	if s, ok := providerErrorSentences[code]; ok {
		return s + " (" + code + ")"
	}
	return providerErrorGeneric
}
