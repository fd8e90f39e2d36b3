package oauth

import (
	"fmt"
	"net/http"
	"strings"
)

// Error is an OAuth error from the org authorization server or from the OAuth check of a
// resource call. Token-endpoint errors render as {"error","error_description"}; resource
// errors render as a WWW-Authenticate challenge (see Server.WriteError).
type Error struct {
	// Status is the HTTP status Okta answers with.
	Status int
	// Code is the OAuth error code, e.g. "invalid_client" or "invalid_dpop_proof".
	Code string
	// Internal is Okta's internal error code from its OAuth error catalog, e.g.
	// "client_assertion_invalid_kid"; it is what Okta logs, never sent to the client.
	Internal string
	// Description is the error_description Okta sends.
	Description string
	// Scheme is the authentication scheme of a resource challenge ("DPoP" or "Bearer").
	Scheme string
	// Scope is the scope a resource call needed, for insufficient_scope challenges.
	Scope string
	// Nonce, when set, is sent as the DPoP-Nonce header.
	Nonce string
	// OktaCode, when set, makes a resource error carry an Okta error object body with this
	// errorCode (E0000011 for rejected tokens); other resource errors have an empty body.
	OktaCode string
}

// Error reports the OAuth code and description; it never contains a token or key.
func (e *Error) Error() string { return e.Code + ": " + e.Description }

// Okta internal error codes used by this package (Okta's OAuth 2.0 error catalog).
const (
	codeInvalidClient              = "invalid_client"
	codeMissingClientCredentials   = "missing_client_credentials"
	codeInvalidClientID            = "invalid_client_id"
	codeUnsupportedAuthClientCreds = "unsupported_auth_method_client_creds"
	codeInvalidAppTypeClientCreds  = "invalid_application_type_client_credentials"
	codeAssertionInvalidIssuer     = "client_assertion_invalid_issuer"
	codeAssertionInvalidSubject    = "client_assertion_invalid_subject"
	codeAssertionInvalidAudience   = "client_assertion_invalid_audience"
	codeAssertionExpRequired       = "client_assertion_expiration_required"
	codeAssertionExpired           = "client_assertion_expired_token"
	codeAssertionTooFar            = "client_assertion_expires_too_far_in_future"
	codeAssertionIatFuture         = "client_assertion_issued_at_in_future"
	codeAssertionAlreadyUsed       = "client_assertion_already_used"
	codeAssertionInvalidSignature  = "client_assertion_invalid_signature"
	codeAssertionInvalidJWT        = "client_assertion_invalid_jwt"
	codeAssertionInvalidKid        = "client_assertion_invalid_kid"
	codeAssertionInvalidAlg        = "client_assertion_invalid_signature_algorithm"
	codeAssertionJWKSNotConfigured = "client_assertion_jwks_not_configured"
	codeAssertionInvalidKeyUse     = "client_assertion_invalid_key_use"
	codeAssertionTypeInvalid       = "client_assertion_type_invalid"
	codeMultipleClientCredentials  = "multiple_client_credentials"
	codeDuplicateParams            = "duplicate_oauth_params"
	codeInvalidRequest             = "invalid_request"
	codeMissingGrantType           = "token_request_missing_grant_type"
	codeUnsupportedGrantType       = "unsupported_grant_type"
	codeMissingScopes              = "missing_scopes"
	codeInvalidScope               = "invalid_scope"
	codeOpenIDNotAllowed           = "openid_not_allowed_client_creds"
	codeDPoP                       = "invalid_dpop_proof"
	codeDPoPMissing                = "invalid_dpop_proof_missing_header"
	codeDPoPMultiple               = "invalid_dpop_proof_multiple_headers_not_allowed"
	codeDPoPType                   = "invalid_dpop_proof_invalid_type"
	codeDPoPAlg                    = "invalid_dpop_proof_invalid_signature_algorithm"
	codeDPoPJWT                    = "invalid_dpop_proof_invalid_jwt"
	codeDPoPSignature              = "invalid_dpop_proof_invalid_signature"
	codeDPoPHTM                    = "invalid_dpop_proof_invalid_htm"
	codeDPoPHTU                    = "invalid_dpop_proof_invalid_htu"
	codeDPoPIat                    = "invalid_dpop_proof_invalid_iat"
	codeDPoPFuture                 = "invalid_dpop_proof_jwt_issued_in_future"
	codeDPoPTooOld                 = "invalid_dpop_proof_jwt_too_old"
	codeDPoPExpired                = "invalid_dpop_proof_jwt_expired"
	codeDPoPJti                    = "invalid_dpop_proof_invalid_jti"
	codeDPoPReplay                 = "dpop_proof_already_used"
	codeDPoPAth                    = "dpop_proof_invalid_ath"
	codeDPoPBinding                = "invalid_access_token_dpop_binding"
	codeDPoPRequiredForToken       = "dpop_proof_required_for_token"
	codeDPoPSchemeRequired         = "dpop_authentication_scheme_required"
	codeNotDPoPBound               = "access_token_not_dpop_bound"
	codeUseDPoPNonce               = "use_dpop_nonce"
	codeTokenInvalid               = "access_token_invalid"
	codeTokenExpired               = "token_expired"
	codeTokenRevoked               = "access_token_revoked"
	codeInsufficientScope          = "access_token_insufficient_scopes"
	codeServerError                = "server_error"
	codeTemporarilyUnavailable     = "temporarily_unavailable"
)

// catalogEntry is one row of Okta's OAuth error catalog.
type catalogEntry struct {
	status int
	code   string
	desc   string
}

// catalog holds the rows this server can answer with, keyed by Okta's internal code; the
// statuses and descriptions are Okta's.
var catalog = map[string]catalogEntry{
	codeInvalidClient:              {401, "invalid_client", "Client authentication failed. Either the client or the client credentials are invalid."},
	codeMissingClientCredentials:   {401, "invalid_client", "No client credentials found."},
	codeInvalidClientID:            {401, "invalid_client", "Invalid value for 'client_id' parameter."},
	codeUnsupportedAuthClientCreds: {401, "invalid_client", "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method."},
	codeInvalidAppTypeClientCreds:  {401, "invalid_client", "Only clients with 'application_type' of 'service' may use the client_credentials 'grant_type' with the Org Authorization Server."},
	codeAssertionInvalidIssuer:     {401, "invalid_client", "The issuer claim for client_assertion is not a valid client_id."},
	codeAssertionInvalidSubject:    {401, "invalid_client", "The subject claim for client_assertion is not a valid client_id."},
	codeAssertionInvalidAudience:   {401, "invalid_client", "The audience claim for client_assertion must be the endpoint invoked for the request."},
	codeAssertionExpRequired:       {401, "invalid_client", "The client_assertion must contain the 'exp' claim as seconds since epoch."},
	codeAssertionExpired:           {401, "invalid_client", "The client_assertion token is expired."},
	codeAssertionTooFar:            {401, "invalid_client", "The client_assertion token has an expiration too far into the future."},
	codeAssertionIatFuture:         {401, "invalid_client", "The client_assertion token must be issued before the current time."},
	codeAssertionAlreadyUsed:       {401, "invalid_client", "The client_assertion token has already been used."},
	codeAssertionInvalidSignature:  {401, "invalid_client", "The client_assertion signature is invalid."},
	codeAssertionInvalidJWT:        {401, "invalid_client", "The parsing of the client_assertion failed."},
	codeAssertionInvalidKid:        {401, "invalid_client", "The client_assertion JWT kid is invalid."},
	codeAssertionInvalidAlg:        {401, "invalid_client", "The client_assertion JWT signature algorithm is invalid."},
	codeAssertionJWKSNotConfigured: {401, "invalid_client", "The client does not have a JWKSet configured, but the client_assertion requires one."},
	codeAssertionInvalidKeyUse:     {401, "invalid_client", "The public key being used for client assertion has an invalid 'use' parameter. Valid values for the 'use' parameter are sig."},
	codeAssertionTypeInvalid:       {400, "invalid_request", "The client_assertion_type is invalid."},
	codeMultipleClientCredentials:  {401, "invalid_request", "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body."},
	codeDuplicateParams:            {400, "invalid_request", "The request contained multiple parameters with the same name."},
	codeInvalidRequest:             {400, "invalid_request", "Invalid request"},
	codeMissingGrantType:           {400, "invalid_request", "The token request must specify a 'grant_type'. Valid values: [client_credentials]"},
	codeUnsupportedGrantType:       {400, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials]."},
	codeMissingScopes:              {400, "invalid_scope", "No scopes were requested."},
	codeInvalidScope:               {400, "invalid_scope", "The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource owner."},
	codeOpenIDNotAllowed:           {400, "invalid_scope", "Cannot request 'openid' scopes using client credentials."},
	codeDPoP:                       {400, "invalid_dpop_proof", "The DPoP proof JWT is invalid."},
	codeDPoPMissing:                {400, "invalid_dpop_proof", "The DPoP proof JWT header is missing."},
	codeDPoPMultiple:               {400, "invalid_dpop_proof", "Multiple DPoP proof JWT headers are not allowed."},
	codeDPoPType:                   {400, "invalid_dpop_proof", "'typ' must be 'dpop+jwt' in the DPoP proof JWT."},
	codeDPoPAlg:                    {400, "invalid_dpop_proof", "The DPoP proof JWT signature algorithm is invalid."},
	codeDPoPJWT:                    {400, "invalid_dpop_proof", "The DPoP proof JWT cannot be parsed."},
	codeDPoPSignature:              {400, "invalid_dpop_proof", "The DPoP proof JWT signature is invalid."},
	codeDPoPHTM:                    {400, "invalid_dpop_proof", "'htm' claim in the DPoP proof JWT is invalid."},
	codeDPoPHTU:                    {400, "invalid_dpop_proof", "'htu' claim in the DPoP proof JWT is invalid."},
	codeDPoPIat:                    {400, "invalid_dpop_proof", "'iat' claim in the DPoP proof JWT is invalid."},
	codeDPoPFuture:                 {400, "invalid_dpop_proof", "The DPoP proof JWT is issued in the future."},
	codeDPoPTooOld:                 {400, "invalid_dpop_proof", "The DPoP proof JWT is issued more than five minutes in the past."},
	codeDPoPExpired:                {400, "invalid_dpop_proof", "The DPoP proof JWT is expired."},
	codeDPoPJti:                    {400, "invalid_dpop_proof", "'jti' claim in the DPoP proof JWT is invalid."},
	codeDPoPReplay:                 {400, "invalid_dpop_proof", "The DPoP proof JWT has already been used."},
	codeDPoPAth:                    {400, "invalid_dpop_proof", "'ath' claim in the DPoP proof does not match the presented access_token."},
	codeDPoPBinding:                {400, "invalid_dpop_proof", "The access_token is not bound to the provided DPoP proof."},
	codeDPoPRequiredForToken:       {400, "invalid_request", "The resource request requires a DPoP proof."},
	codeDPoPSchemeRequired:         {400, "invalid_request", "The resource request must use the DPoP authentication scheme when using a DPoP bound token."},
	codeNotDPoPBound:               {401, "invalid_token", "The presented access_token is not DPoP bound."},
	codeUseDPoPNonce:               {400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof."},
	codeTokenInvalid:               {401, "invalid_token", "The access token is invalid."},
	codeTokenExpired:               {401, "invalid_token", "The token has expired."},
	codeTokenRevoked:               {401, "invalid_token", "The access token has been revoked."},
	codeInsufficientScope:          {403, "insufficient_scope", "The access token provided does not contain the required scopes."},
	codeServerError:                {500, "server_error", "The authorization server encountered an unexpected condition that prevented it from fulfilling the request."},
	codeTemporarilyUnavailable:     {400, "temporarily_unavailable", "The authorization server is currently unable to handle the request due to a temporary overloading or maintenance of the server."},
}

// oerr builds the catalog error for an Okta internal code.
func oerr(internal string) *Error {
	c, ok := catalog[internal]
	if !ok {
		c = catalog[codeServerError]
	}
	return &Error{Status: c.status, Code: c.code, Internal: internal, Description: c.desc}
}

// resourceErr builds a resource-call error: the catalog row plus the challenge scheme.
func resourceErr(internal, scheme string) *Error {
	e := oerr(internal)
	e.Scheme = scheme
	if e.Status == http.StatusUnauthorized {
		e.OktaCode = "E0000011"
	}
	return e
}

// supportedAlgs is the signing-algorithm list Okta advertises in DPoP challenges.
const supportedAlgs = "RS256 RS384 RS512 ES256 ES384 ES512"

// Challenge renders the WWW-Authenticate value Okta sends for a resource error, e.g.
// `DPoP algs="…", authorization_uri="…", realm="…", scope="…", error="…", error_description="…", resource="/api/v1/…"`.
func (e *Error) Challenge(issuer, resource string) string {
	scheme := e.Scheme
	if scheme == "" {
		scheme = "Bearer"
	}
	var parts []string
	if scheme == "DPoP" {
		parts = append(parts, fmt.Sprintf("algs=%q", supportedAlgs))
	}
	parts = append(parts,
		fmt.Sprintf("authorization_uri=%q", issuer+"/oauth2/v1/authorize"),
		fmt.Sprintf("realm=%q", issuer))
	if e.Scope != "" {
		parts = append(parts, fmt.Sprintf("scope=%q", e.Scope))
	}
	parts = append(parts,
		fmt.Sprintf("error=%q", e.Code),
		fmt.Sprintf("error_description=%q", e.Description))
	if resource != "" {
		parts = append(parts, fmt.Sprintf("resource=%q", resource))
	}
	return scheme + " " + strings.Join(parts, ", ")
}
