/* families.h - the table of route families (family.h): which exist, which
 * the configuration switches on, and the room rules they define. */
#ifndef RK_API_FAMILIES_H
#define RK_API_FAMILIES_H

#include "../config/config.h"
#include "../http/server.h"
#include "family.h"
#include "issuance.h"

/* The families, one line each in families.c. */
extern const family family_livekit;
extern const family family_voice_agent;
extern const family family_token_source;
extern const family family_supabase;
extern const family family_meetings;

/* families_register runs the setup of every family cfg switches on and
 * adds its routes to srv (ctx api, which must outlive srv). */
__attribute__((warn_unused_result)) int families_register(const config *cfg, http_server *srv,
                                                          api_ctx *api);

/* families_rules fills *out with the room rules of every family cfg
 * switches on (strings borrowed from cfg). A room given rules twice is
 * refused (RK_EINVAL, why names it): a room has one set of rules. */
__attribute__((warn_unused_result)) int families_rules(const config *cfg, policy_rules *out,
                                                       char *why, size_t cap);

#endif
