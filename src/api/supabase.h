/* supabase.h - the route family of the Supabase Edge Function contract (a talent show whose token
 * endpoint is a Supabase Edge Function):
 *   POST    /functions/v1/livekit-token               mint {token, livekitUrl}
 *   POST    /functions/v1/livekit-token/release-seat  give a judge seat back
 *   OPTIONS both paths                                CORS preflight, as the function answers it
 * The caller is a Supabase user session (role "authenticated"); the
 * project's anon and service_role keys are refused. The request names a
 * roomType, which config (supabase.room_types) maps to a room, to the role
 * each session role (app_metadata.role) gets there, and to the room's
 * judge seats. Errors in the function's shape: {"error": message}; every
 * response carries the function's CORS headers. */
#ifndef RK_API_SUPABASE_H
#define RK_API_SUPABASE_H

#include "../http/server.h"
#include "issuance.h"

/* api_supabase_error renders {"error": message} with the CORS headers. */
void api_supabase_error(http_resp *resp, int status, const char *message);

#endif
