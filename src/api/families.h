/* families.h - the table of route families (family.h): which exist, which
 * are served (`families:`, ROOMKEY_FAMILIES, and whether each is
 * configured), and the room rules they define. */
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

/* families_count and families_at list the table, in order. */
size_t families_count(void);
const family *families_at(size_t i);

/* families_on reports whether cfg serves family f: as `families:` or
 * ROOMKEY_FAMILIES switch it, and when neither does, whether it is
 * configured (family.missing). */
__attribute__((warn_unused_result)) bool families_on(const config *cfg, const family *f);

/* families_names writes the names of the families cfg serves (on) or
 * does not serve (!on) into buf[0..cap), ", "-separated; one not served
 * for want of configuration says what it needs. Returns how many were
 * written (a list cut short at cap stops at the last name that fit). */
#define FAMILIES_NAMES_CAP 512
size_t families_names(const config *cfg, bool on, char *buf, size_t cap);

/* What a configuration lacks for its families to issue tokens
 * (families_check). */
typedef struct families_gaps {
    bool no_key;      /* no LiveKit key: no family can mint */
    bool no_family;   /* no family is served */
    bool no_caller;   /* no issuer, no API key, and no family served admits callers
                         without credentials: every caller is refused */
    bool no_url;      /* no LiveKit URL while some family served puts it in its answer */
    bool no_url_only; /* ... and every family served does: none can answer */
    char need_url[FAMILIES_NAMES_CAP]; /* the families served that need the URL */
} families_gaps;

/* families_check fills *g with what cfg lacks; it can issue no token at all
 * when families_hopeless(g). */
void families_check(const config *cfg, families_gaps *g);
bool families_hopeless(const families_gaps *g);

/* families_same_switches reports whether a and b serve the same families. */
__attribute__((warn_unused_result)) bool families_same_switches(const config *a, const config *b);

/* families_rules fills *out with the room rules of every family cfg
 * switches on (strings borrowed from cfg). A room given rules twice is
 * refused (RK_EINVAL, why names it): a room has one set of rules. */
__attribute__((warn_unused_result)) int families_rules(const config *cfg, policy_rules *out,
                                                       char *why, size_t cap);

#endif
