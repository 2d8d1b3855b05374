/* grant_tmpl.c - a payload's tail, written once per grants. */
#include "grant_tmpl.h"
#include "../util/b64url.h"
#include "../util/err.h"
#include "../util/jsonw.h"

#include <stdlib.h>
#include <string.h>

struct grant_tmpl {
    lk_grants_copy grants; /* what the tail was written for */
    bool valid;            /* grants and tail are set */
    char *tail;            /* the grant members and '}' (owned) */
    size_t tail_len, tail_cap;
    /* enc[k]: base64url of tail[k..] when enc_ok[k] (owned, enc_cap[k]
     * bytes; kept for the next tail) */
    char *enc[3];
    size_t enc_len[3], enc_cap[3];
    bool enc_ok[3];
};

int grant_tmpl_new(grant_tmpl **out)
{
    grant_tmpl *t = calloc(1, sizeof *t);
    if (!t)
        return RK_ENOMEM;
    *out = t;
    return RK_OK;
}

void grant_tmpl_free(grant_tmpl *t)
{
    if (!t)
        return;
    for (int k = 0; k < 3; k++)
        free(t->enc[k]);
    free(t->tail);
    free(t);
}

bool grant_tmpl_usable(const lk_claims *c)
{
    return !c->metadata && !c->n_attrs && !c->room_config;
}

bool grant_tmpl_matches(const grant_tmpl *t, const lk_claims *c)
{
    return t->valid && lk_grants_copy_matches(&t->grants, c);
}

int grant_tmpl_set(grant_tmpl *t, const lk_claims *c, size_t json_bound)
{
    t->valid = false;
    for (int k = 0; k < 3; k++)
        t->enc_ok[k] = false; /* they encode the previous tail */
    if (t->tail_cap < json_bound) {
        char *p = malloc(json_bound);
        if (!p)
            return RK_ENOMEM;
        free(t->tail);
        t->tail = p;
        t->tail_cap = json_bound;
    }
    jsonw w;
    jsonw_init(&w, t->tail, t->tail_cap);
    w.comma = true; /* members follow the per-token part's */
    lk_claims_write_rest(&w, c);
    jsonw_obj_close(&w);
    if (w.err)
        return w.err;
    t->tail_len = w.len;
    lk_grants_copy_set(&t->grants, c);
    t->valid = true;
    return RK_OK;
}

size_t grant_tmpl_encoded_max(const grant_tmpl *t)
{
    return B64URL_ENCODED_LEN(t->tail_len + 2);
}

/* enc_from returns the base64url of tail[k..], encoding it on first use;
 * NULL when out of memory. */
static const char *enc_from(grant_tmpl *t, size_t k)
{
    if (t->enc_ok[k])
        return t->enc[k];
    size_t cap = B64URL_ENCODED_LEN(t->tail_len - k) + 1;
    if (t->enc_cap[k] < cap) {
        char *p = malloc(cap);
        if (!p)
            return NULL;
        free(t->enc[k]);
        t->enc[k] = p;
        t->enc_cap[k] = cap;
    }
    b64url_encode((const uint8_t *)t->tail + k, t->tail_len - k, t->enc[k], cap, &t->enc_len[k]);
    t->enc_ok[k] = true;
    return t->enc[k];
}

int grant_tmpl_encode(grant_tmpl *t, const char *carry, size_t carry_len, char *out, size_t cap,
                      size_t *len)
{
    /* carry and the first bytes of the tail make one whole group of 3
     * (or end the payload); the tail's encoding from there on is fixed. */
    size_t k = carry_len ? 3 - carry_len : 0;
    if (k > t->tail_len)
        k = t->tail_len;
    uint8_t group[3];
    memcpy(group, carry, carry_len);
    memcpy(group + carry_len, t->tail, k);
    size_t n = 0;
    int rc = b64url_encode(group, carry_len + k, out, cap, &n);
    if (rc)
        return rc;
    const char *rest = enc_from(t, k);
    if (!rest)
        return RK_ENOMEM;
    if (cap - n < t->enc_len[k] + 1)
        return RK_ETOOBIG;
    memcpy(out + n, rest, t->enc_len[k] + 1);
    *len = n + t->enc_len[k];
    return RK_OK;
}
