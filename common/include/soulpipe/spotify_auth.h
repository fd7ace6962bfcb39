/*  spotify_auth.h: Spotify OAuth pieces shared by the CLI (`soulpipe login
    spotify`) and the analyzer: the PKCE verifier and challenge (openssl
    SHA-256 + base64url), the authorize URL, the redirect's query, and the
    token requests (authorization code, refresh, client credentials) through
    http.h. Tokens are secrets: never logged, never put in error strings.

    Return codes: SP_SPOTIFY_AUTH_OK (0) or a negative code below; functions
    with err/n write a one-line reason there.
*/
#ifndef SOULPIPE_SPOTIFY_AUTH_H
#define SOULPIPE_SPOTIFY_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define SP_SPOTIFY_AUTH_OK     0
#define SP_SPOTIFY_AUTH_DENIED -1 /* the user refused consent (error=access_denied) */
#define SP_SPOTIFY_AUTH_BAD_GRANT                                                                  \
    -2                                /* invalid_grant: wrong verifier, expired/used code or
                                          refresh token: log in again */
#define SP_SPOTIFY_AUTH_BAD_CLIENT -3 /* invalid_client: check SPOTIFY_CLIENT_ID/_SECRET */
#define SP_SPOTIFY_AUTH_NET        -4 /* accounts service unreachable / 5xx / 429: retry */
#define SP_SPOTIFY_AUTH_PROTO      -5 /* unexpected answer, state mismatch, other error */
#define SP_SPOTIFY_AUTH_INVAL      -6 /* bad argument */

/*  The scopes soulpipe asks for. */
#define SP_SPOTIFY_SCOPES "playlist-read-private playlist-read-collaborative user-library-read"

#define SP_SPOTIFY_VERIFIER_LEN  64 /* characters of a generated verifier */
#define SP_SPOTIFY_CHALLENGE_LEN 43 /* base64url of 32 bytes, no padding */

/*  A random code verifier: SP_SPOTIFY_VERIFIER_LEN characters from
    [A-Za-z0-9-._~] (RAND_bytes). out needs n > SP_SPOTIFY_VERIFIER_LEN.
    Also good as the `state` value. */
int sp_spotify_pkce_verifier (char *out, size_t n);

/*  code_challenge = base64url(SHA-256(verifier)) without '=' padding.
    out needs n > SP_SPOTIFY_CHALLENGE_LEN. The verifier must be 43..128
    characters of [A-Za-z0-9-._~] (else SP_SPOTIFY_AUTH_INVAL). */
int sp_spotify_pkce_challenge (const char *verifier, char *out, size_t n);

/*  ACCOUNTS/authorize?response_type=code&client_id=..&redirect_uri=..
    &scope=..&state=..&code_challenge_method=S256&code_challenge=..
    (values percent-encoded; scope NULL = SP_SPOTIFY_SCOPES). Caller owns
    the result (free). NULL on bad arguments or out of memory. */
char *sp_spotify_authorize_url (const char *accounts_url, const char *client_id,
                                const char *redirect_uri, const char *scope, const char *state,
                                const char *challenge);

/*  Read the redirect's query string ("code=..&state=.." or
    "error=access_denied&state=..", with or without a leading '?' or path).
    Checks state against expected_state. On SP_SPOTIFY_AUTH_OK *code_out is
    the decoded code (caller frees). SP_SPOTIFY_AUTH_DENIED when the user
    refused, SP_SPOTIFY_AUTH_PROTO for a state mismatch, a missing code or
    another error. */
int sp_spotify_parse_callback (const char *query, const char *expected_state, char **code_out,
                               char *err, size_t n);

/*  Tokens from the accounts service. Heap strings (refresh_token and scope
    may be NULL); clear with sp_spotify_tokens_clear. */
typedef struct {
    char *access_token;
    char *refresh_token; /* NULL when none was sent (keep the old one) */
    char *scope;
    int64_t expires_in; /* seconds */
} sp_spotify_tokens_t;

void sp_spotify_tokens_clear (sp_spotify_tokens_t *tokens);

/*  POST ACCOUNTS/api/token grant_type=authorization_code with code,
    redirect_uri, client_id and code_verifier (no secret). */
int sp_spotify_exchange_code (const char *accounts_url, const char *client_id, const char *code,
                              const char *redirect_uri, const char *verifier,
                              sp_spotify_tokens_t *out, char *err, size_t n);

/*  POST ACCOUNTS/api/token grant_type=refresh_token with refresh_token and
    client_id (PKCE tokens need no secret). out->refresh_token is set when
    Spotify rotated it: store it, the old one may no longer work. */
int sp_spotify_refresh (const char *accounts_url, const char *client_id, const char *refresh_token,
                        sp_spotify_tokens_t *out, char *err, size_t n);

/*  POST ACCOUNTS/api/token grant_type=client_credentials with HTTP Basic
    client_id:client_secret. */
int sp_spotify_client_credentials (const char *accounts_url, const char *client_id,
                                   const char *client_secret, sp_spotify_tokens_t *out, char *err,
                                   size_t n);

/*  A static English name of a return code. */
const char *sp_spotify_auth_strerror (int rc);

#endif
