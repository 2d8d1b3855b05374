/* pipeline.h - the one request path of every token route:
 *
 *   authenticate (family_auth)
 *   -> per-subject limit (always, once, right after authentication; a
 *      caller without credentials is limited by its client address)
 *   -> read the body into the one token request (the family's read)
 *   -> is LiveKit configured?
 *   -> policy decides (and takes a seat when one was asked)
 *   -> mint, audit and hold the response until the record is committed
 *   -> render (the family's render)
 *
 * Every refusal is a verdict or an outcome that the family's answer table
 * turns into its status and message. A limited request is answered 429
 * with Retry-After by the server, in the family's shape. */
#ifndef RK_API_PIPELINE_H
#define RK_API_PIPELINE_H

#include "family.h"

/* pipeline_run serves one request of family f's token route (ctx: the
 * request's api_ctx). Returns RK_OK once resp is filled (or the request is
 * limited), or an error for the server to answer 500. */
int pipeline_run(const family *f, void *ctx, const http_req *req, http_resp *resp);

/* pipeline_authenticate fills c->who (or sets c->anonymous) as f->auth
 * says, for token and other routes alike. Returns 0, or the outcome or
 * verdict to answer (pipeline_answer) - the failure is already logged. */
__attribute__((warn_unused_result)) int pipeline_authenticate(family_call *c);

/* pipeline_configured returns 0 when LiveKit is configured for c's family
 * (keys, and LIVEKIT_URL when needs_url), else OUTCOME_NOT_CONFIGURED. */
__attribute__((warn_unused_result)) int pipeline_configured(const family_call *c);

/* pipeline_decide runs policy for c's caller with c's snapshot (config,
 * store, room rules, live rooms' bans): the decision a token route would
 * get, for routes that answer without minting. d and why as policy_decide. */
__attribute__((warn_unused_result)) verdict
pipeline_decide(const family_call *c, const policy_ask *ask, decision *d, verdict_detail *why);

/* pipeline_answer renders the family's answer for a verdict or outcome
 * (why: the verdict's detail, may be NULL). Returns RK_OK. */
int pipeline_answer(family_call *c, int what, const verdict_detail *why);

#endif
