/* console.h - the admin console in the browser (docs/console.md): the
 * static files of src/api/console/, compiled in (console_files.h), served
 * at /console/ when console.enabled is on; otherwise those paths are 404.
 *
 *   GET /console    308 to /console/
 *   GET /console/   index.html
 *   GET /console/{file}
 *
 * The files are public: every datum they show comes from the admin API,
 * which needs the admin key. Every answer under /console (errors too)
 * carries CONSOLE_CSP, X-Frame-Options: DENY and Referrer-Policy:
 * no-referrer (the server adds X-Content-Type-Options: nosniff to all);
 * files have a strong ETag and Cache-Control: no-cache (revalidated, 304
 * when unchanged). */
#ifndef RK_API_CONSOLE_H
#define RK_API_CONSOLE_H

#include "../http/server.h"
#include "console_files.h"
#include "issuance.h"

/* No inline script or style, nothing from another origin. */
#define CONSOLE_CSP "default-src 'self'"

/* api_console_register adds the console's routes; api must outlive s. */
int api_console_register(http_server *s, api_ctx *api);

/* console_find returns the compiled-in file called name (exact match, no
 * folders), or NULL. */
const console_file *console_find(const char *name);

/* console_content_type returns the Content-Type of a file called name
 * (by its extension), or NULL for a type the console does not serve. */
const char *console_content_type(const char *name);

/* console_error renders a console error: plain text with the console's
 * security headers. */
void console_error(http_resp *resp, int status, const char *message);

#endif
