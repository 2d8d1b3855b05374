/* head.h - the rules a request head (request target and header fields)
 * must follow before RoomKey reads a body or routes the request: the
 * message framing of RFC 9112 sections 6.1-6.3 (one Content-Length at
 * most, digits only; Transfer-Encoding only alone and only "chunked"),
 * one Host, one Authorization and one X-API-Key (two credentials would be
 * two callers), a method and header names that are tokens, header values
 * without CR, NUL or other control characters, and no NUL, raw or %00, in
 * the target.
 *
 * The checks are pure functions over the head as text, so the server
 * (server.c) and the fuzz targets apply the same rules. A head that breaks
 * one gets one answer (the status and message below) and the connection is
 * closed after it: a peer whose framing is in doubt may not send another
 * request on the same connection. */
#ifndef RK_HEAD_H
#define RK_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One header field as received (not NUL-terminated: lengths count). */
typedef struct head_field {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} head_field;

/* Why a head was refused: status (400, 413 or 501) and a static message. */
typedef struct head_verdict {
    int status;
    const char *message;
} head_verdict;

/* head_check_target checks the raw request target (len bytes, before any
 * percent-decoding): RK_EINVAL with a 400 in out when it holds a NUL byte
 * or %00 (in the path or the query). */
int head_check_target(const char *target, size_t len, head_verdict *out);

/* head_path_has_encoded_slash says whether the path of the raw request
 * target (len bytes, up to the first '?') holds %2F (any case). Routes
 * match the decoded path segment by segment, so such a path names no
 * route: an encoded slash would make one segment (a room's name) look like
 * several and reach another route (/rooms/a%2Fmembers%2Fb). */
bool head_path_has_encoded_slash(const char *target, size_t len);

/* HEAD_MAX_METHOD bounds a method's length (the longest RoomKey serves
 * is 7, OPTIONS). */
#define HEAD_MAX_METHOD 32

/* head_check_method checks the request method: RK_EINVAL with a 400 in
 * out unless it is a token (RFC 9110 9.1) of 1 to HEAD_MAX_METHOD
 * characters. */
int head_check_method(const char *method, head_verdict *out);

/* head_check_fields checks n header fields in order: RK_EINVAL with the
 * verdict in out on the first rule broken; on RK_OK *content_length is the
 * declared body length (UINT64_MAX when none or chunked). A declared body
 * longer than max_body is a 413. */
int head_check_fields(const head_field *f, size_t n, uint64_t max_body, uint64_t *content_length,
                      head_verdict *out);

#endif
