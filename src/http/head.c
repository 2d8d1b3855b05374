/* head.c - the request head's rules (see head.h). */
#include "head.h"
#include "../util/err.h"

#include <stdbool.h>
#include <strings.h>

#define CL_MAX_DIGITS 19 /* every 19-digit number fits in a uint64_t */

static int refuse(head_verdict *out, int status, const char *message)
{
    out->status = status;
    out->message = message;
    return RK_EINVAL;
}

int head_check_target(const char *target, size_t len, head_verdict *out)
{
    for (size_t i = 0; i < len; i++) {
        if (target[i] == '\0' ||
            (target[i] == '%' && i + 2 < len && target[i + 1] == '0' && target[i + 2] == '0'))
            return refuse(out, 400, "The request target must not contain a NUL byte");
    }
    return RK_OK;
}

bool head_path_has_encoded_slash(const char *target, size_t len)
{
    for (size_t i = 0; i + 2 < len && target[i] != '?'; i++)
        if (target[i] == '%' && target[i + 1] == '2' && (target[i + 2] | 0x20) == 'f')
            return true;
    return false;
}

/* is_tchar says whether c may appear in a field name (RFC 9110 5.6.2). */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    for (const char *p = "!#$%&'*+-.^_`|~"; *p; p++)
        if (c == (unsigned char)*p)
            return true;
    return false;
}

/* field_ok: a token name and a value of HTAB, SP, VCHAR and obs-text only
 * (RFC 9110 5.5): no CR, LF, NUL, other controls or DEL. */
static bool field_ok(const head_field *f)
{
    if (f->name_len == 0)
        return false;
    for (size_t i = 0; i < f->name_len; i++)
        if (!is_tchar((unsigned char)f->name[i]))
            return false;
    for (size_t i = 0; i < f->value_len; i++) {
        unsigned char c = (unsigned char)f->value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

static bool name_is(const head_field *f, const char *name, size_t len)
{
    return f->name_len == len && strncasecmp(f->name, name, len) == 0;
}

/* parse_length reads a Content-Length value: 1 to 19 digits, nothing else
 * (no sign, no list, no spaces). RK_ETOOBIG for more digits. */
static int parse_length(const head_field *f, uint64_t *out)
{
    uint64_t v = 0;
    if (f->value_len == 0)
        return RK_EINVAL;
    for (size_t i = 0; i < f->value_len; i++) {
        char c = f->value[i];
        if (c < '0' || c > '9')
            return RK_EINVAL;
        if (i == CL_MAX_DIGITS)
            return RK_ETOOBIG;
        v = v * 10 + (uint64_t)(c - '0');
    }
    *out = v;
    return RK_OK;
}

int head_check_method(const char *method, head_verdict *out)
{
    size_t n = 0;
    for (; method[n]; n++)
        if (n == HEAD_MAX_METHOD || !is_tchar((unsigned char)method[n]))
            return refuse(out, 400, "Malformed request method");
    return n ? RK_OK : refuse(out, 400, "Malformed request method");
}

/* The fields a request may carry once (none of them is a list, RFC 9110
 * 5.3): two would be two framings, two hosts or two callers, and a reader
 * taking the first would disagree with one taking the last. */
enum { ONCE_CL, ONCE_TE, ONCE_HOST, ONCE_AUTHORIZATION, ONCE_API_KEY, ONCE_COUNT };
static const struct {
    const char *name;
    size_t len;
    const char *twice;
} ONCE[ONCE_COUNT] = {
    [ONCE_CL] = {"Content-Length", 14, "More than one Content-Length header"},
    [ONCE_TE] = {"Transfer-Encoding", 17, "More than one Transfer-Encoding header"},
    [ONCE_HOST] = {"Host", 4, "More than one Host header"},
    [ONCE_AUTHORIZATION] = {"Authorization", 13, "More than one Authorization header"},
    [ONCE_API_KEY] = {"X-API-Key", 9, "More than one X-API-Key header"},
};

int head_check_fields(const head_field *f, size_t n, uint64_t max_body, uint64_t *content_length,
                      head_verdict *out)
{
    const head_field *once[ONCE_COUNT] = {0};
    *content_length = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (!field_ok(&f[i]))
            return refuse(out, 400, "Malformed header field");
        for (int k = 0; k < ONCE_COUNT; k++) {
            if (!name_is(&f[i], ONCE[k].name, ONCE[k].len))
                continue;
            if (once[k])
                return refuse(out, 400, ONCE[k].twice);
            once[k] = &f[i];
        }
    }
    const head_field *cl = once[ONCE_CL], *te = once[ONCE_TE];
    if (te && cl)
        return refuse(out, 400, "Transfer-Encoding and Content-Length together");
    if (te && !(te->value_len == 7 && strncasecmp(te->value, "chunked", 7) == 0))
        return refuse(out, 501, "Transfer-Encoding other than chunked is not implemented");
    if (cl) {
        int rc = parse_length(cl, content_length);
        if (rc == RK_ETOOBIG || (rc == RK_OK && *content_length > max_body))
            return refuse(out, 413, "Request body too large");
        if (rc != RK_OK)
            return refuse(out, 400, "Malformed Content-Length header");
    }
    return RK_OK;
}
