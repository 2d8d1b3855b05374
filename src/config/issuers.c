/* issuers.c - `issuers:`, the trusted issuers of session JWTs, and
 * ROOMKEY_SESSION_SECRET (/_ISSUER/_AUDIENCE), which adds the HS256 issuer
 * "env". An HS secret is owned by its issuer and wiped when the config is
 * freed; its minimum length is checked once dev mode is final. */
#include "section.h"
#include "../util/err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HS_MIN_SECRET 32 /* bytes; shorter only in dev mode */

/* The keys of one issuer, in the order of names in issuer_parse. */
enum {
    NAME,
    ALGS,
    SECRET,
    SECRET_FILE,
    SECRET_ENV,
    ISS,
    AUD,
    LEEWAY,
    SUBJ,
    NAMEC,
    ROLEC,
    JWKS,
    HTTP,
    SUBJP,
    TYP,
    REFRESH,
    COOLDOWN,
    NF
};

/* set_hs_secret hands secret (malloc'd, len bytes; NULL to clear) to is,
 * wiping the one it held. */
static void set_hs_secret(config_issuer *is, char *secret, size_t len)
{
    if (is->hs_secret) {
        OPENSSL_cleanse(is->hs_secret, is->hs_secret_len);
        free(is->hs_secret);
    }
    is->hs_secret = (unsigned char *)secret;
    is->hs_secret_len = len;
}

/* issuer_defaults names nothing yet: leeway 30 s, claims "sub" and "name",
 * typ "JWT", a JWKS URL refetched hourly and on an unknown kid at most
 * every 30 s. */
static void issuer_defaults(config_issuer *is)
{
    is->leeway = 30;
    strcpy(is->subject_claim, "sub");
    strcpy(is->name_claim, "name");
    strcpy(is->typs[0], "JWT");
    is->n_typs = 1;
    is->jwks_refresh = 3600;
    is->jwks_cooldown = 30;
}

/* parse_algs reads `algorithms:` into is; *hs says it is HS256. */
static int parse_algs(config_loader *ld, const ynode *n, const char *path, config_issuer *is,
                      bool *hs)
{
    static const char *const algs[] = {"HS256", "RS256", "PS256", "ES256", "EdDSA"};
    yaml_ctx *y = &ld->y;
    char ap[YAML_PATH_CAP];
    size_t na = 0;
    yaml_sub(ap, path, "algorithms");
    if (!n)
        return yaml_fail(y, RK_EINVAL, "config: %s: required (e.g. [HS256] or [RS256, ES256])", ap);
    int rc = yaml_seq_items(y, n, ap, CONFIG_MAX_ALGS, &na);
    if (rc)
        return rc;
    if (na == 0)
        return yaml_fail(y, RK_EINVAL, "config: %s: must list at least one algorithm", ap);
    for (size_t i = 0; i < na; i++) {
        char a[16], ip[YAML_PATH_CAP];
        yaml_path_idx(ip, sizeof ip, ap, i);
        if (yaml_get_str(y, n->kids[i], ip, a, sizeof a, 1))
            return yaml_fail(y, RK_EINVAL,
                             "config: %s: expected one of HS256, RS256, PS256, ES256, EdDSA", ip);
        size_t k = 0;
        while (k < 5 && strcmp(a, algs[k]) != 0)
            k++;
        if (k == 5)
            return yaml_fail(y, RK_EINVAL,
                             "config: %s: \"%s\" is not one of HS256, RS256, PS256, ES256, EdDSA",
                             ip, a);
        for (size_t j = 0; j < is->n_algs; j++)
            if (strcmp(is->algs[j], a) == 0)
                return yaml_fail(y, RK_EINVAL, "config: %s: %s is listed twice", ap, a);
        strcpy(is->algs[is->n_algs++], a);
        *hs = *hs || k == 0;
    }
    if (*hs && na > 1)
        return yaml_fail(y, RK_EINVAL,
                         "config: %s: HS256 cannot be mixed with asymmetric algorithms in one "
                         "issuer (RFC 8725 key confusion); declare two issuers",
                         ap);
    return RK_OK;
}

/* check_key_kind refuses key sources that do not fit the algorithms: HS256
 * needs exactly one secret and no JWKS; asymmetric needs a JWKS and issuer. */
static int check_key_kind(config_loader *ld, const ynode *const *v, const char *path,
                          const config_issuer *is, bool hs)
{
    yaml_ctx *y = &ld->y;
    char p[YAML_PATH_CAP];
    int nsec = !!v[SECRET] + !!v[SECRET_FILE] + !!v[SECRET_ENV];
    if (nsec > 1)
        return yaml_fail(y, RK_EINVAL,
                         "config: %s: set only one of secret, secret_file, secret_env",
                         yaml_sub(p, path, "secret"));
    if (hs && nsec == 0)
        return yaml_fail(y, RK_EINVAL,
                         "config: %s: required for HS256 (or secret_file / secret_env)",
                         yaml_sub(p, path, "secret"));
    if (hs && v[JWKS])
        return yaml_fail(y, RK_EINVAL,
                         "config: %s: not allowed for an HS256 issuer (HS keys never come from "
                         "a JWKS)",
                         yaml_sub(p, path, "jwks"));
    if (hs)
        return RK_OK;
    if (nsec)
        return yaml_fail(y, RK_EINVAL,
                         "config: %s: not allowed for asymmetric algorithms (use jwks)",
                         yaml_sub(p, path,
                                  v[SECRET]        ? "secret"
                                  : v[SECRET_FILE] ? "secret_file"
                                                   : "secret_env"));
    if (!v[JWKS])
        return yaml_fail(y, RK_EINVAL, "config: %s: required for %s (a URL or a file path)",
                         yaml_sub(p, path, "jwks"), is->algs[0]);
    if (!v[ISS])
        return yaml_fail(y, RK_EINVAL, "config: %s: required for asymmetric algorithms",
                         yaml_sub(p, path, "issuer"));
    return RK_OK;
}

/* parse_secret reads the HS secret from secret, secret_file or secret_env
 * into is (owned by is from then on). */
static int parse_secret(config_loader *ld, const ynode *const *v, const char *path,
                        config_issuer *is)
{
    yaml_ctx *y = &ld->y;
    char p[YAML_PATH_CAP];
    char *sec = NULL;
    size_t slen = 0;
    int rc = RK_OK;
    if (v[SECRET])
        rc =
            yaml_get_secret(y, v[SECRET], yaml_sub(p, path, "secret"), CONFIG_MAX_STR, &sec, &slen);
    if (v[SECRET_FILE]) {
        const char *k = yaml_sub(p, path, "secret_file");
        if ((rc = config_secret_file(ld, v[SECRET_FILE], k, &sec, &slen)))
            return rc;
        if (slen > CONFIG_MAX_STR) {
            OPENSSL_cleanse(sec, slen);
            free(sec);
            return yaml_fail(y, RK_ETOOBIG, "config: %s: the secret is longer than %d bytes", k,
                             CONFIG_MAX_STR);
        }
    }
    if (v[SECRET_ENV])
        rc = config_secret_env(ld, v[SECRET_ENV], yaml_sub(p, path, "secret_env"), CONFIG_MAX_STR,
                               &sec, &slen);
    if (sec)
        set_hs_secret(is, sec, slen);
    return rc;
}

/* parse_claims reads issuer, audience, leeway and the claim names. */
static int parse_claims(config_loader *ld, const ynode *const *v, const char *path,
                        config_issuer *is, bool hs)
{
    yaml_ctx *y = &ld->y;
    char p[YAML_PATH_CAP];
    int rc;
    if (v[ISS]) {
        const char *k = yaml_sub(p, path, "issuer");
        if ((rc = yaml_get_str(y, v[ISS], k, is->iss, sizeof is->iss, 0)))
            return rc;
        if (!hs && !is->iss[0])
            return yaml_fail(y, RK_EINVAL,
                             "config: %s: must not be empty for asymmetric algorithms", k);
    }
    if ((v[AUD] && (rc = yaml_get_str(y, v[AUD], yaml_sub(p, path, "audience"), is->aud,
                                      sizeof is->aud, 0))) ||
        (v[LEEWAY] &&
         (rc = yaml_get_dur(y, v[LEEWAY], yaml_sub(p, path, "leeway"), 0, 300, &is->leeway))) ||
        (v[SUBJ] && (rc = yaml_get_str(y, v[SUBJ], yaml_sub(p, path, "subject_claim"),
                                       is->subject_claim, sizeof is->subject_claim, 1))) ||
        (v[NAMEC] && (rc = yaml_get_str(y, v[NAMEC], yaml_sub(p, path, "name_claim"),
                                        is->name_claim, sizeof is->name_claim, 1))))
        return rc;
    if (v[ROLEC]) {
        const char *k = yaml_sub(p, path, "role_claim");
        if ((rc = yaml_get_str(y, v[ROLEC], k, is->role_claim, sizeof is->role_claim, 0)))
            return rc;
        const char *r = is->role_claim;
        size_t l = strlen(r);
        if (l && (r[0] == '.' || r[l - 1] == '.' || strstr(r, "..")))
            return yaml_fail(y, RK_EINVAL,
                             "config: %s: a dotted claim path such as app_metadata.role", k);
    }
    return RK_OK;
}

/* prefix_error says why p is not a usable subject_prefix, or NULL: at most
 * 64 bytes without control characters or spaces, and not inside the API
 * keys' namespace (every subject would be refused). */
static const char *prefix_error(const char *p)
{
    for (const unsigned char *c = (const unsigned char *)p; *c; c++)
        if (*c <= ' ' || *c == 0x7f)
            return "must not contain spaces or control characters";
    if (!strncmp(p, CONFIG_APIKEY_PREFIX, strlen(CONFIG_APIKEY_PREFIX)))
        return "must not start with \"" CONFIG_APIKEY_PREFIX "\" (the API keys' subjects)";
    return NULL;
}

/* add_typ adds one `typ:` value to the issuer being read (the last one):
 * 1-32 bytes of visible ASCII, an "application/" prefix dropped (RFC 7515
 * 4.1.9), no repeats (without case). */
static int add_typ(config_loader *ld, const char *where, const char *item, size_t len)
{
    config_issuer *is = &ld->cfg->issuers[ld->cfg->n_issuers - 1];
    if (!strncasecmp(item, "application/", 12)) {
        item += 12;
        len -= 12;
    }
    bool ok = len > 0 && len < sizeof is->typs[0];
    for (size_t i = 0; ok && i < len; i++)
        ok = item[i] > ' ' && item[i] < 0x7f;
    if (!ok)
        return yaml_fail(&ld->y, RK_EINVAL,
                         "%s: expected a media type such as JWT or at+jwt (1-32 visible "
                         "characters)",
                         where);
    for (size_t i = 0; i < is->n_typs; i++)
        if (!strcasecmp(is->typs[i], item))
            return yaml_fail(&ld->y, RK_EINVAL, "%s: %s is listed twice", where, item);
    memcpy(is->typs[is->n_typs], item, len);
    is->typs[is->n_typs++][len] = '\0';
    return RK_OK;
}

/* parse_typ reads `typ:` (n may be NULL: the default ["JWT"] stays). */
static int parse_typ(config_loader *ld, const ynode *n, const char *path, config_issuer *is)
{
    if (!n)
        return RK_OK;
    char p[YAML_PATH_CAP];
    const char *k = yaml_sub(p, path, "typ");
    memset(is->typs, 0, sizeof is->typs);
    is->n_typs = 0;
    int rc = config_str_list(ld, n, k, CONFIG_MAX_TYPS, add_typ);
    if (!rc && is->n_typs == 0)
        rc =
            yaml_fail(&ld->y, RK_EINVAL, "config: %s: must list at least one type (e.g. [JWT])", k);
    return rc;
}

/* parse_prefix reads subject_prefix (n may be NULL: not set) into is. */
static int parse_prefix(config_loader *ld, const ynode *n, const char *path, config_issuer *is)
{
    if (!n)
        return RK_OK;
    yaml_ctx *y = &ld->y;
    char p[YAML_PATH_CAP];
    const char *k = yaml_sub(p, path, "subject_prefix");
    int rc = yaml_get_str(y, n, k, is->subject_prefix, sizeof is->subject_prefix, 0);
    if (rc)
        return rc;
    const char *why = prefix_error(is->subject_prefix);
    if (why)
        return yaml_fail(y, RK_EINVAL, "config: %s: %s", k, why);
    is->subject_prefix_set = true;
    return RK_OK;
}

/* loopback_url reports whether an http:// URL's host is exactly a loopback
 * name ("127.0.0.1.evil.example" is not loopback). A URL with userinfo is
 * not: in "http://localhost:x@idp.example/" the host is idp.example. */
static bool loopback_url(const char *url)
{
    static const char *const LOOPBACK[] = {"127.0.0.1", "localhost", "[::1]"};
    const char *h = url + 7;
    size_t authority = strcspn(h, "/?#");
    if (memchr(h, '@', authority))
        return false;
    for (size_t l = 0; l < sizeof LOOPBACK / sizeof LOOPBACK[0]; l++) {
        size_t n = strlen(LOOPBACK[l]);
        if (!strncmp(h, LOOPBACK[l], n) && (h[n] == ':' || h[n] == '/' || !h[n]))
            return true;
    }
    return false;
}

/* parse_jwks reads allow_http_jwks, jwks_refresh (1s..12h), jwks_cooldown
 * (1s..1h) and jwks (a file path or https:// URL; http:// only to loopback
 * with allow_http_jwks). */
static int parse_jwks(config_loader *ld, const ynode *const *v, const char *path, config_issuer *is)
{
    yaml_ctx *y = &ld->y;
    char p[YAML_PATH_CAP];
    int rc;
    if ((v[HTTP] && (rc = yaml_get_bool(y, v[HTTP], yaml_sub(p, path, "allow_http_jwks"),
                                        &is->allow_http_jwks))) ||
        (v[REFRESH] && (rc = yaml_get_dur(y, v[REFRESH], yaml_sub(p, path, "jwks_refresh"), 1,
                                          12 * 3600, &is->jwks_refresh))) ||
        (v[COOLDOWN] && (rc = yaml_get_dur(y, v[COOLDOWN], yaml_sub(p, path, "jwks_cooldown"), 1,
                                           3600, &is->jwks_cooldown))))
        return rc;
    if (!v[JWKS])
        return RK_OK;
    const char *k = yaml_sub(p, path, "jwks");
    if ((rc = yaml_get_str(y, v[JWKS], k, is->jwks, sizeof is->jwks, 1)))
        return rc;
    if (strncmp(is->jwks, "http://", 7) == 0) {
        if (!is->allow_http_jwks || !loopback_url(is->jwks))
            return yaml_fail(y, RK_EINVAL,
                             "config: %s: http:// is refused (use https://; plain http only to "
                             "a loopback host with allow_http_jwks)",
                             k);
    } else if (strstr(is->jwks, "://") && strncmp(is->jwks, "https://", 8) != 0) {
        return yaml_fail(y, RK_EINVAL, "config: %s: expected an https:// URL or a file path", k);
    } else if (!strcmp(is->jwks, "https://")) {
        return yaml_fail(y, RK_EINVAL, "config: %s: the URL has no host", k);
    }
    return RK_OK;
}

/* issuer_parse reads one issuer into is; an HS secret it reads is owned by
 * is (freed by config_free, even when a later key fails). */
static int issuer_parse(config_loader *ld, const ynode *n, const char *path, config_issuer *is)
{
    static const char *const names[NF] = {
        "name",         "algorithms",   "secret",          "secret_file",    "secret_env",
        "issuer",       "audience",     "leeway",          "subject_claim",  "name_claim",
        "role_claim",   "jwks",         "allow_http_jwks", "subject_prefix", "typ",
        "jwks_refresh", "jwks_cooldown"};
    yaml_ctx *y = &ld->y;
    const ynode *v[NF];
    char p[YAML_PATH_CAP];
    bool hs = false;
    int rc = yaml_map_fields(y, n, path, names, NF, v);
    if (rc)
        return rc;
    issuer_defaults(is);
    if (!v[NAME])
        return yaml_fail(y, RK_EINVAL, "config: %s: required", yaml_sub(p, path, "name"));
    if ((rc = yaml_get_str(y, v[NAME], yaml_sub(p, path, "name"), is->name, sizeof is->name, 1)))
        return rc;
    if (!config_ident_ok(is->name, true))
        return yaml_fail(y, RK_EINVAL, "config: %s: use 1-64 letters, digits, '-', '_' or '.'", p);
    if ((rc = parse_algs(ld, v[ALGS], path, is, &hs)) ||
        (rc = check_key_kind(ld, v, path, is, hs)) || (rc = parse_secret(ld, v, path, is)) ||
        (rc = parse_claims(ld, v, path, is, hs)) || (rc = parse_prefix(ld, v[SUBJP], path, is)) ||
        (rc = parse_typ(ld, v[TYP], path, is)))
        return rc;
    return parse_jwks(ld, v, path, is);
}

/* issuer_entry reads the i-th `issuers:` entry; names are unique. */
static int issuer_entry(config_loader *ld, const ynode *n, const char *path, size_t i)
{
    config *c = ld->cfg;
    config_issuer *is = &c->issuers[c->n_issuers++];
    int rc = issuer_parse(ld, n, path, is);
    for (size_t j = 0; !rc && j < i; j++)
        if (strcmp(c->issuers[j].name, is->name) == 0)
            return yaml_fail(&ld->y, RK_EINVAL, "config: %s.name: issuer \"%s\" is defined twice",
                             path, is->name);
    return rc;
}

/* issuers_parse reads the `issuers:` list into ld->cfg. */
static int issuers_parse(config_loader *ld, const ynode *n)
{
    return config_each(ld, n, "issuers", CONFIG_MAX_ISSUERS, issuer_entry);
}

/* env_prefix reads ROOMKEY_SESSION_SUBJECT_PREFIX (when set) into is. */
static int env_prefix(config_loader *ld, config_issuer *is)
{
    const char *v = config_env("ROOMKEY_SESSION_SUBJECT_PREFIX");
    if (!v)
        return RK_OK;
    const char *why =
        strlen(v) >= sizeof is->subject_prefix ? "is longer than 64 bytes" : prefix_error(v);
    if (why)
        return yaml_fail(&ld->y, RK_EINVAL, "env: ROOMKEY_SESSION_SUBJECT_PREFIX %s", why);
    strcpy(is->subject_prefix, v);
    is->subject_prefix_set = true;
    return RK_OK;
}

/* issuers_env adds (or replaces) the HS256 issuer "env" from
 * ROOMKEY_SESSION_SECRET / _ISSUER / _AUDIENCE. */
static int issuers_env(config_loader *ld)
{
    yaml_ctx *y = &ld->y;
    config *c = ld->cfg;
    const char *secret = config_env("ROOMKEY_SESSION_SECRET");
    if (!secret) {
        if (config_env("ROOMKEY_SESSION_ISSUER") || config_env("ROOMKEY_SESSION_AUDIENCE") ||
            config_env("ROOMKEY_SESSION_SUBJECT_PREFIX"))
            return yaml_fail(y, RK_EINVAL,
                             "env: ROOMKEY_SESSION_ISSUER/_AUDIENCE/_SUBJECT_PREFIX set "
                             "without ROOMKEY_SESSION_SECRET");
        return RK_OK;
    }
    size_t slen = strlen(secret);
    if (slen > CONFIG_MAX_STR)
        return yaml_fail(y, RK_ETOOBIG, "env: ROOMKEY_SESSION_SECRET is longer than %d bytes",
                         CONFIG_MAX_STR);
    size_t i = 0;
    while (i < c->n_issuers && strcmp(c->issuers[i].name, "env") != 0)
        i++;
    if (i == CONFIG_MAX_ISSUERS)
        return yaml_fail(y, RK_ETOOBIG, "env: ROOMKEY_SESSION_SECRET: already %d issuers",
                         CONFIG_MAX_ISSUERS);
    config_issuer *is = &c->issuers[i];
    set_hs_secret(is, NULL, 0);
    config_issuer keep = *is; /* a YAML issuer "env" keeps its subject_prefix */
    memset(is, 0, sizeof *is);
    strcpy(is->name, "env");
    strcpy(is->algs[0], "HS256");
    is->n_algs = 1;
    issuer_defaults(is);
    if (i < c->n_issuers && keep.subject_prefix_set) {
        strcpy(is->subject_prefix, keep.subject_prefix);
        is->subject_prefix_set = true;
    }
    int rc;
    if ((rc = config_env_str(ld, "ROOMKEY_SESSION_ISSUER", is->iss, sizeof is->iss)) ||
        (rc = config_env_str(ld, "ROOMKEY_SESSION_AUDIENCE", is->aud, sizeof is->aud)) ||
        (rc = env_prefix(ld, is)))
        return rc;
    char *copy = strdup(secret);
    if (!copy)
        return yaml_fail(y, RK_ENOMEM, "env: out of memory");
    set_hs_secret(is, copy, slen);
    if (i == c->n_issuers)
        c->n_issuers++;
    ld->issuer_env[i] = true;
    return RK_OK;
}

/* check_namespaces refuses several issuers of which two leave
 * subject_prefix unset: alice of one would silently be alice of the other.
 * One issuer may leave it unset (its subjects stay bare, as with a single
 * issuer); an issuer given the same prefix as another shares its subjects
 * on purpose. */
static int check_namespaces(config_loader *ld)
{
    const config *c = ld->cfg;
    size_t first = c->n_issuers; /* the first issuer without a prefix */
    for (size_t k = 0; k < c->n_issuers; k++) {
        if (c->issuers[k].subject_prefix_set)
            continue;
        if (first == c->n_issuers) {
            first = k;
            continue;
        }
        const char *other = c->issuers[first].name;
        if (ld->issuer_env[k] || ld->issuer_env[first])
            return yaml_fail(&ld->y, RK_EINVAL,
                             "env: ROOMKEY_SESSION_SUBJECT_PREFIX is required: the issuer "
                             "\"env\" and \"%s\" would share subjects (alice of one would be "
                             "alice of the other); give one a prefix such as \"env:\"",
                             ld->issuer_env[k] ? other : c->issuers[k].name);
        return yaml_fail(&ld->y, RK_EINVAL,
                         "config: issuers[%zu].subject_prefix: required: issuers \"%s\" and "
                         "\"%s\" would share subjects (alice of one would be alice of the "
                         "other); give it its own prefix such as \"%s:\", or the same prefix "
                         "as \"%s\" to share them on purpose",
                         k, c->issuers[k].name, other, c->issuers[k].name, other);
    }
    return RK_OK;
}

/* check_prefix_overlap refuses two different prefixes of which one starts
 * with the other ("p:" and "p:x"): every subject of the shorter one's
 * issuer that starts with the rest ("xavier": "p:xavier") would lie in the
 * longer one's namespace and be refused. */
static int check_prefix_overlap(config_loader *ld)
{
    const config *c = ld->cfg;
    for (size_t k = 0; k < c->n_issuers; k++)
        for (size_t j = 0; j < c->n_issuers; j++) {
            const config_issuer *a = &c->issuers[k], *b = &c->issuers[j];
            size_t n = strlen(a->subject_prefix);
            if (!a->subject_prefix_set || !b->subject_prefix_set || !n ||
                strlen(b->subject_prefix) <= n || strncmp(a->subject_prefix, b->subject_prefix, n))
                continue;
            return yaml_fail(&ld->y, RK_EINVAL,
                             "config: issuers[%zu].subject_prefix: \"%s\" starts with issuer "
                             "\"%s\"'s prefix \"%s\": subjects of \"%s\" would fall into the "
                             "namespace of \"%s\"; choose prefixes that do not start one another "
                             "(e.g. end each with \":\")",
                             j, b->subject_prefix, a->name, a->subject_prefix, a->name, b->name);
        }
    return RK_OK;
}

/* check_livekit_secrets refuses an HS issuer whose secret is one of the
 * LiveKit API secrets: every LiveKit token RoomKey mints would then pass
 * as a session of that issuer, and a short login would renew itself. The
 * keyring holds its secrets only as keyed HMAC contexts, so the two are
 * compared by their HMAC of one message (equal exactly when a signature by
 * one verifies with the other). */
static int check_livekit_secrets(config_loader *ld)
{
    static const char probe[] = "roomkey: a session secret is not a LiveKit secret";
    const config *c = ld->cfg;
    for (size_t i = 0; c->keys && i < c->n_issuers; i++) {
        const config_issuer *is = &c->issuers[i];
        unsigned char mine[32], theirs[32];
        size_t len = 0;
        if (!is->hs_secret)
            continue;
        if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, is->hs_secret, is->hs_secret_len,
                       (const unsigned char *)probe, sizeof probe - 1, mine, sizeof mine, &len))
            return yaml_fail(&ld->y, RK_ECRYPTO, "config: HMAC-SHA256 failed");
        for (size_t k = 0; k < keyring_count(c->keys); k++) {
            const keyring_entry *e = keyring_at(c->keys, k);
            if (keyring_hmac(e, probe, sizeof probe - 1, theirs) != RK_OK ||
                CRYPTO_memcmp(mine, theirs, sizeof mine) != 0)
                continue;
            OPENSSL_cleanse(mine, sizeof mine);
            return yaml_fail(&ld->y, RK_EINVAL,
                             "%s: the session secret of issuer \"%s\" is the secret of LiveKit API "
                             "key %s: every LiveKit token would pass as a session; give the "
                             "issuer a secret of its own",
                             ld->issuer_env[i] ? "env: ROOMKEY_SESSION_SECRET" : "config", is->name,
                             e->id);
        }
        OPENSSL_cleanse(mine, sizeof mine);
    }
    return RK_OK;
}

/* issuers_validate checks subject namespaces, and HS secret lengths
 * against the final dev mode. */
static int issuers_validate(config_loader *ld)
{
    config *c = ld->cfg;
    int rc = check_namespaces(ld);
    if (!rc)
        rc = check_prefix_overlap(ld);
    if (rc)
        return rc;
    for (size_t i = 0; i < c->n_issuers; i++) {
        const config_issuer *is = &c->issuers[i];
        if (!is->hs_secret || is->hs_secret_len >= HS_MIN_SECRET || c->dev_mode)
            continue;
        if (ld->issuer_env[i])
            return yaml_fail(&ld->y, RK_EINVAL,
                             "env: ROOMKEY_SESSION_SECRET is %zu bytes; at least %d are required "
                             "(for development only: ROOMKEY_DEV_MODE=1 or dev_mode: true "
                             "allows shorter)",
                             is->hs_secret_len, HS_MIN_SECRET);
        return yaml_fail(&ld->y, RK_EINVAL,
                         "config: issuers[%zu].secret is %zu bytes; at least %d are required "
                         "(for development only: dev_mode: true or ROOMKEY_DEV_MODE=1 allows "
                         "shorter)",
                         i, is->hs_secret_len, HS_MIN_SECRET);
    }
    return RK_OK;
}

/* issuers_release wipes and frees every issuer's HS secret. */
static void issuers_release(config *c)
{
    for (size_t i = 0; i < CONFIG_MAX_ISSUERS; i++)
        set_hs_secret(&c->issuers[i], NULL, 0);
}

const config_section config_issuers_section = {.key = "issuers",
                                               .parse = issuers_parse,
                                               .env = issuers_env,
                                               .validate = issuers_validate,
                                               .release = issuers_release};

/* Runs once the LiveKit keyring is built (config.c's section order). */
const config_section config_issuer_secrets_section = {.validate = check_livekit_secrets};
