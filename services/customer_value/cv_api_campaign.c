/*
 * cv_api_campaign: campaigns that respect stock -- BuildCampaign,
 * ListCampaignRecipients and SendCampaign (docs/CUSTOMER_VALUE.md,
 * "Campaigns").
 *
 * BuildCampaign, in steps:
 *   1. a campaign under this id already?  The same request is a replay,
 *      another is ALREADY_EXISTS;
 *   2. the audience: ListSegment's filters (cv_segment_members) with the
 *      campaign's region;
 *   3. the candidates: SEASONAL -- the catalogue's products in season on
 *      the window's first day, ranked by distinct buyers in the audience
 *      over the year before (1 % of all buyers and a constant break ties,
 *      so a season's new product can still be offered); GEO -- the
 *      products bought in the region in the 90 days before, by distinct
 *      buyers; the best CAMPAIGN_CANDIDATES are kept;
 *   4. their offer in every recipient region (inventory's availability,
 *      batched: one call per region and 500 SKUs, with the delivery
 *      promise of the nearest warehouse with units);
 *   5. per recipient, in customer id order, the best picks available in
 *      their region and not bought by them in the year before: SEASONAL
 *      ranks by the recipient's interest in the candidate's category
 *      (recency-weighted units, 180-day half-life), then by popularity;
 *      GEO by its regional rank alone; customers without any pick are left
 *      out, and at most max_recipients are kept;
 *   6. the campaign and its recipients (their picks packed) in one
 *      transaction.
 *
 * SendCampaign takes the PENDING recipients in batches of SEND_BATCH,
 * asks inventory again for their picks' availability, and in one
 * transaction per batch marks each recipient SENT (with the picks still
 * available) and publishes its CAMPAIGN_MESSAGE, or SKIPPED when none is
 * left.  The mark only moves a PENDING row (under its row lock), and the
 * event is published only when it moved, so a recipient is sent at most
 * once whatever the number of concurrent or repeated calls; service-desk's
 * notification key makes the delivery exactly once.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv_app.h"
#include "cv_interest.h"
#include "cv_store.h"
#include "sl_date.h"

#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

#define CAMPAIGN_MAX_RECIPIENTS 100000
#define CAMPAIGN_DEFAULT_RECIPIENTS 10000
#define CAMPAIGN_MAX_PICKS 10
#define CAMPAIGN_DEFAULT_PICKS 3
#define CAMPAIGN_CANDIDATES 200
#define SEASONAL_LOOKBACK_DAYS 365
#define GEO_LOOKBACK_DAYS 90
#define BOUGHT_LOOKBACK_DAYS 365
#define POP_TIEBREAK 1e-3
#define INTEREST_HALF_LIFE_DAYS 180.0
#define INTEREST_CATEGORIES 16
#define SEND_BATCH 500
/* URGENCY sends in smaller batches: the promotion is asked again before
 * each, so sending stops within this many messages of a sell-out. */
#define URGENCY_SEND_BATCH 50

static const char *kind_name(Shelfline__V1__CampaignKind k)
{
    switch (k) {
    case SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_SEASONAL:
        return "SEASONAL";
    case SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_GEO:
        return "GEO";
    case SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_URGENCY:
        return "URGENCY";
    case SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_UNSPECIFIED:
    case _SHELFLINE__V1__CAMPAIGN_KIND_IS_INT_SIZE:
        break;
    }
    return NULL;
}

static Shelfline__V1__CampaignKind kind_of(const char *name)
{
    return strcmp(name, "SEASONAL") == 0  ? SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_SEASONAL
           : strcmp(name, "GEO") == 0     ? SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_GEO
           : strcmp(name, "URGENCY") == 0 ? SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_URGENCY
                                          : SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_UNSPECIFIED;
}

static Shelfline__V1__RecipientState recipient_state_of(const char *name)
{
    return strcmp(name, "SENT") == 0      ? SHELFLINE__V1__RECIPIENT_STATE__RECIPIENT_STATE_SENT
           : strcmp(name, "SKIPPED") == 0 ? SHELFLINE__V1__RECIPIENT_STATE__RECIPIENT_STATE_SKIPPED
                                          : SHELFLINE__V1__RECIPIENT_STATE__RECIPIENT_STATE_PENDING;
}

/* ---- validation ---- */

/* An audience rule broken: the message and field named under "audience.". */
static sl_status audience_error(sl_status st, sl_err *err)
{
    if (err == NULL)
        return st;
    char msg[SL_ERR_MSG_MAX], field[SL_ERR_FIELD_MAX + 16];
    snprintf(msg, sizeof msg, "%s", err->msg);
    snprintf(field, sizeof field, "audience.%s", err->field[0] != '\0' ? err->field : "segment");
    sl_err_field(err, field, "audience.%s", msg);
    err->status = st;
    return st;
}

sl_status cv_valid_build_campaign_request(const ProtobufCMessage *req, sl_err *err)
{
    const Shelfline__V1__BuildCampaignRequest *r = (const Shelfline__V1__BuildCampaignRequest *)req;
    sl_status st = cv_valid_id("campaign_id", r->campaign_id, err);
    if (st != SL_OK)
        return st;
    if (kind_name(r->kind) == NULL)
        return sl_err_field(err, "kind",
                            "kind must be CAMPAIGN_KIND_SEASONAL, CAMPAIGN_KIND_GEO or "
                            "CAMPAIGN_KIND_URGENCY (got %d)",
                            (int)r->kind);
    if (r->audience != NULL) {
        if (r->audience->region[0] != '\0')
            return sl_err_field(err, "audience.region",
                                "audience.region must be empty: the campaign's region is region");
        if (r->audience->page != NULL &&
            (r->audience->page->page_size != 0 || r->audience->page->page_token[0] != '\0'))
            return sl_err_field(err, "audience.page",
                                "audience.page must be empty: a campaign takes every match");
        if ((st = cv_segment_check(r->audience, err)) != SL_OK)
            return audience_error(st, err);
    }
    if (r->region[0] != '\0' && (st = cv_valid_region("region", r->region, err)) != SL_OK)
        return st;
    if (r->kind == SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_URGENCY) {
        if ((st = cv_valid_id("promotion_id", r->promotion_id, err)) != SL_OK)
            return st;
    } else if (r->promotion_id[0] != '\0')
        return sl_err_field(err, "promotion_id", "promotion_id is only for URGENCY campaigns");
    if (r->kind == SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_GEO && r->region[0] == '\0')
        return sl_err_field(err, "region", "region is required for a GEO campaign");
    if (r->starts_at_ms <= 0)
        return sl_err_field(err, "starts_at_ms", "starts_at_ms must be positive (got %" PRId64 ")",
                            r->starts_at_ms);
    if (r->ends_at_ms <= r->starts_at_ms)
        return sl_err_field(err, "ends_at_ms",
                            "ends_at_ms must be after starts_at_ms (got %" PRId64 " <= %" PRId64
                            ")",
                            r->ends_at_ms, r->starts_at_ms);
    if (r->max_recipients < 0 || r->max_recipients > CAMPAIGN_MAX_RECIPIENTS)
        return sl_err_field(err, "max_recipients",
                            "max_recipients must be between 0 and %d (got %d)",
                            CAMPAIGN_MAX_RECIPIENTS, r->max_recipients);
    if (r->picks_per_recipient < 0 || r->picks_per_recipient > CAMPAIGN_MAX_PICKS)
        return sl_err_field(err, "picks_per_recipient",
                            "picks_per_recipient must be between 0 and %d (got %d)",
                            CAMPAIGN_MAX_PICKS, r->picks_per_recipient);
    return SL_OK;
}

sl_status cv_valid_campaign_id_request(const ProtobufCMessage *req, sl_err *err)
{
    /* ListCampaignRecipientsRequest and SendCampaignRequest both start
     * with campaign_id (field 1). */
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(req->descriptor, "campaign_id");
    if (f == NULL)
        return sl_err_set(err, SL_INTERNAL, "no campaign_id in %s", req->descriptor->name);
    const char *id = *(const char *const *)((const char *)req + f->offset);
    return cv_valid_id("campaign_id", id, err);
}

/* ---- the reply ---- */

static sl_status campaign_msg(sl_arena *a, const cv_campaign_row *row, bool replayed,
                              Shelfline__V1__Campaign *m, sl_err *err)
{
    (void)a;
    (void)err;
    m->campaign_id = (char *)row->campaign_id;
    m->kind = kind_of(row->kind);
    m->region = (char *)row->region;
    m->promotion_id = (char *)row->promotion_id;
    m->starts_at_ms = row->starts_at_ms;
    m->ends_at_ms = row->ends_at_ms;
    m->audience_size = row->audience_size;
    m->state = strcmp(row->state, "SENT") == 0
                   ? SHELFLINE__V1__CAMPAIGN_STATE__CAMPAIGN_STATE_SENT
                   : SHELFLINE__V1__CAMPAIGN_STATE__CAMPAIGN_STATE_BUILT;
    m->created_at_ms = row->created_ms;
    m->sent_at_ms = row->sent_ms;
    m->sent = row->sent;
    m->skipped = row->skipped;
    m->replayed = replayed;
    return SL_OK;
}

typedef struct get_ctx {
    sl_arena *a;
    const char *id;
    cv_campaign_row *row;
} get_ctx;

static sl_status get_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    get_ctx *c = p;
    return cv_store_campaign_get(conn, c->a, c->id, &c->row, err);
}

static sl_status campaign_load(sl_call *call, const char *id, cv_campaign_row **out, sl_err *err)
{
    get_ctx c = {sl_call_arena(call), id, NULL};
    sl_db_tx_options o = sl_service_tx_options(call, true);
    sl_status st = sl_db_tx(CV_APP(call)->db, &o, get_tx, &c, err);
    *out = c.row;
    return st;
}

static sl_status not_found(const char *id, sl_err *err)
{
    return sl_err_reason(err, SL_NOT_FOUND, "CAMPAIGN_NOT_FOUND",
                         "campaign_id: unknown campaign \"%s\"", id);
}

/* An existing campaign answers a BuildCampaign with the same request;
 * another request under its id is ALREADY_EXISTS. */
static sl_status replay(const cv_campaign_row *row, const uint8_t *req, size_t len, sl_arena *a,
                        Shelfline__V1__Campaign *out, sl_err *err)
{
    if (row->request_len != len || memcmp(row->request, req, len) != 0)
        return sl_err_reason(err, SL_ALREADY_EXISTS, "CAMPAIGN_EXISTS",
                             "campaign_id: campaign \"%s\" was built from another request",
                             row->campaign_id);
    return campaign_msg(a, row, true, out, err);
}

/* ---- BuildCampaign ---- */

typedef struct cand {
    const char *sku, *name, *category, *currency;
    int64_t price_minor;
    double pop;                  /* popularity (step 3) */
    int64_t seg_buyers, buyers;  /* distinct buyers counted */
    const char *last_seg, *last; /* the last buyer counted (lines come by customer) */
} cand;

typedef struct region_offers {
    const char *region;
    cv_offer *offers; /* per candidate */
} region_offers;

typedef struct build {
    sl_call *call;
    sl_arena *a;
    const Shelfline__V1__BuildCampaignRequest *r;
    bool seasonal, urgency;
    const Shelfline__V1__Promotion *promo; /* URGENCY */
    double *rank;                          /* URGENCY: per recipient, its interest */
    int32_t start_day;
    size_t want, max_recipients;
    const cv_summary_row **aud;
    size_t naud;
    cv_history_row *lines;
    size_t nlines;
    cand *cands;
    size_t ncands;
    double max_pop; /* the best candidate's popularity */
    region_offers *regs;
    size_t nregs;
    cv_recipient_row *recips;
    size_t nrecips;
} build;

typedef struct lines_ctx {
    sl_arena *a;
    cv_history_row *rows;
    size_t n;
} lines_ctx;

static sl_status lines_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    lines_ctx *c = p;
    int64_t version;
    return cv_store_history(conn, c->a, &version, &c->rows, &c->n, err);
}

static int cand_sku_cmp(const void *x, const void *y)
{
    return strcmp(((const cand *)x)->sku, ((const cand *)y)->sku);
}

static int cand_pop_cmp(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    if (a->pop != b->pop)
        return a->pop > b->pop ? -1 : 1;
    return strcmp(a->sku, b->sku);
}

static cand *cand_find(const build *b, const char *sku)
{
    cand key = {.sku = sku};
    return bsearch(&key, b->cands, b->ncands, sizeof key, cand_sku_cmp);
}

/* Whether id is in the audience (sorted by id); *pos walks forward. */
static bool in_audience(const build *b, const char *id, size_t *pos)
{
    while (*pos < b->naud && strcmp(b->aud[*pos]->customer_id, id) < 0)
        (*pos)++;
    return *pos < b->naud && strcmp(b->aud[*pos]->customer_id, id) == 0;
}

/* Step 3: the candidates, copied out of the catalogue snapshot, by
 * popularity, at most CAMPAIGN_CANDIDATES. */
static sl_status build_candidates(build *b, sl_err *err)
{
    cv_catalog *cat = CV_APP(b->call)->catalog;
    cv_snapshot *snap;
    sl_status st = cv_catalog_acquire(cat, b->call, NULL, 0, &snap, err);
    if (st != SL_OK)
        return st;
    size_t np;
    const cv_product *prods = cv_snapshot_products(snap, &np);
    b->cands = sl_arena_zalloc(b->a, (np > 0 ? np : 1) * sizeof *b->cands);
    if (b->cands == NULL)
        st = OOM(err);
    for (size_t i = 0; i < np && st == SL_OK; i++) {
        const cv_product *p = &prods[i];
        if (b->seasonal && !cv_tags_in_season(p->tags, b->start_day))
            continue;
        cand *c = &b->cands[b->ncands++];
        c->sku = sl_arena_strdup(b->a, p->sku);
        c->name = sl_arena_strdup(b->a, p->name);
        c->category = sl_arena_strdup(b->a, p->category);
        c->currency = sl_arena_strdup(b->a, p->currency);
        c->price_minor = p->price_minor;
        if (c->sku == NULL || c->name == NULL || c->category == NULL || c->currency == NULL)
            st = OOM(err);
    }
    cv_catalog_release(cat, snap);
    if (st != SL_OK)
        return st;
    /* Distinct buyers over the look-back (the catalogue is in SKU order). */
    int32_t since = b->start_day - (b->seasonal ? SEASONAL_LOOKBACK_DAYS : GEO_LOOKBACK_DAYS);
    size_t pos = 0;
    for (size_t i = 0; i < b->nlines; i++) {
        const cv_history_row *l = &b->lines[i];
        if (l->order_id == NULL || l->day < since || l->day >= b->start_day ||
            l->qty <= l->returned_qty)
            continue;
        cand *c = cand_find(b, l->sku);
        if (c == NULL)
            continue;
        if (b->seasonal) {
            if (c->last == NULL || strcmp(c->last, l->customer_id) != 0) {
                c->buyers++;
                c->last = l->customer_id;
            }
            if (in_audience(b, l->customer_id, &pos) &&
                (c->last_seg == NULL || strcmp(c->last_seg, l->customer_id) != 0)) {
                c->seg_buyers++;
                c->last_seg = l->customer_id;
            }
        } else if (strcmp(l->region, b->r->region) == 0 &&
                   (c->last == NULL || strcmp(c->last, l->customer_id) != 0)) {
            c->buyers++;
            c->last = l->customer_id;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < b->ncands; i++) {
        cand *c = &b->cands[i];
        c->pop = b->seasonal ? (double)c->seg_buyers + 0.01 * (double)c->buyers + 0.001
                             : (double)c->buyers;
        if (c->pop > 0)
            b->cands[kept++] = *c;
    }
    qsort(b->cands, kept, sizeof *b->cands, cand_pop_cmp);
    b->max_pop = kept > 0 ? b->cands[0].pop : 1;
    b->ncands = kept < CAMPAIGN_CANDIDATES ? kept : CAMPAIGN_CANDIDATES;
    qsort(b->cands, b->ncands, sizeof *b->cands, cand_sku_cmp);
    if (b->ncands > 0)
        return SL_OK;
    int y, m, d;
    sl_civil_from_days(b->start_day, &y, &m, &d);
    if (b->seasonal)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "NO_SEASONAL_PRODUCTS",
                             "starts_at_ms: no product of the catalogue is in season on "
                             "%04d-%02d-%02d",
                             y, m, d);
    return sl_err_reason(err, SL_FAILED_PRECONDITION, "NO_REGIONAL_BESTSELLERS",
                         "region: no product was bought in \"%s\" in the %d days before "
                         "%04d-%02d-%02d",
                         b->r->region, GEO_LOOKBACK_DAYS, y, m, d);
}

static region_offers *region_find(const build *b, const char *region);

/* URGENCY, before the audience: the promotion, checked against the
 * request. */
static sl_status urgency_promotion(build *b, sl_err *err)
{
    Shelfline__V1__Promotion *p;
    sl_status st =
        cv_catalog_promotion(CV_APP(b->call)->catalog, b->call, b->r->promotion_id, b->a, &p, err);
    if (st != SL_OK)
        return st;
    if (p->status == SHELFLINE__V1__PROMOTION__STATUS__ENDED)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "PROMOTION_ENDED",
                             "promotion_id: promotion \"%s\" has ended", p->promotion_id);
    if (p->remaining <= 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "PROMOTION_SOLD_OUT",
                             "promotion_id: promotion \"%s\" has no units left", p->promotion_id);
    if (b->r->ends_at_ms > p->ends_at_ms)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "CAMPAIGN_OUTLASTS_PROMOTION",
                             "ends_at_ms: the campaign would end after promotion \"%s\" (%" PRId64
                             " > %" PRId64 ")",
                             p->promotion_id, b->r->ends_at_ms, p->ends_at_ms);
    if (p->region[0] != '\0' && b->r->region[0] != '\0' && strcmp(p->region, b->r->region) != 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "PROMOTION_REGION",
                             "region: promotion \"%s\" is for region \"%s\"", p->promotion_id,
                             p->region);
    b->promo = p;
    return SL_OK;
}

/* URGENCY's steps 3 and 4: the promotion's product, at its price, and what
 * of its fence reaches each recipient region; the audience is capped at
 * ceil(remaining / per-customer limit), the recipients who could take the
 * whole quota. */
static sl_status urgency_candidates(build *b, sl_err *err)
{
    const Shelfline__V1__Promotion *p = b->promo;
    cv_catalog *cat = CV_APP(b->call)->catalog;
    cv_snapshot *snap;
    const char *need[1] = {p->sku};
    sl_status st = cv_catalog_acquire(cat, b->call, need, 1, &snap, err);
    if (st != SL_OK)
        return st;
    const cv_product *prod = cv_snapshot_find(snap, p->sku);
    b->cands = sl_arena_zalloc(b->a, sizeof *b->cands);
    if (prod == NULL)
        st = sl_err_reason(err, SL_FAILED_PRECONDITION, "SKU_NOT_FOUND",
                           "promotion_id: the catalogue has no product \"%s\"", p->sku);
    else if (b->cands == NULL)
        st = OOM(err);
    else {
        cand *c = &b->cands[0];
        c->sku = sl_arena_strdup(b->a, prod->sku);
        c->name = sl_arena_strdup(b->a, prod->name);
        c->category = sl_arena_strdup(b->a, prod->category);
        c->currency = p->price != NULL ? p->price->currency : sl_arena_strdup(b->a, prod->currency);
        c->price_minor = p->price != NULL ? p->price->minor_units : prod->price_minor;
        c->pop = 1;
        if (c->sku == NULL || c->name == NULL || c->category == NULL || c->currency == NULL)
            st = OOM(err);
    }
    cv_catalog_release(cat, snap);
    if (st != SL_OK)
        return st;
    b->ncands = 1;
    b->max_pop = 1;
    b->want = 1;
    int64_t limit = p->per_customer_limit > 0 ? p->per_customer_limit : 1;
    size_t cap = (size_t)((p->remaining + limit - 1) / limit);
    if (cap < b->max_recipients)
        b->max_recipients = cap;
    b->regs = sl_arena_zalloc(b->a, (b->naud > 0 ? b->naud : 1) * sizeof *b->regs);
    if (b->regs == NULL)
        return OOM(err);
    for (size_t i = 0; i < b->naud; i++) {
        if (region_find(b, b->aud[i]->region) != NULL)
            continue;
        region_offers *ro = &b->regs[b->nregs++];
        ro->region = b->aud[i]->region;
        if ((ro->offers = sl_arena_alloc(b->a, sizeof *ro->offers)) == NULL)
            return OOM(err);
        if ((st = cv_catalog_promotion_reach(cat, b->call, p, ro->region, ro->offers, err)) !=
            SL_OK)
            return st;
    }
    return SL_OK;
}

static region_offers *region_find(const build *b, const char *region)
{
    for (size_t i = 0; i < b->nregs; i++)
        if (strcmp(b->regs[i].region, region) == 0)
            return &b->regs[i];
    return NULL;
}

/* Step 4: every candidate's offer in every recipient region. */
static sl_status build_offers(build *b, sl_err *err)
{
    b->regs = sl_arena_zalloc(b->a, (b->naud > 0 ? b->naud : 1) * sizeof *b->regs);
    const char **skus = sl_arena_alloc(b->a, b->ncands * sizeof *skus);
    if (b->regs == NULL || skus == NULL)
        return OOM(err);
    for (size_t i = 0; i < b->ncands; i++)
        skus[i] = b->cands[i].sku;
    for (size_t i = 0; i < b->naud; i++) {
        if (region_find(b, b->aud[i]->region) != NULL)
            continue;
        region_offers *ro = &b->regs[b->nregs++];
        ro->region = b->aud[i]->region;
        if ((ro->offers = sl_arena_alloc(b->a, b->ncands * sizeof *ro->offers)) == NULL)
            return OOM(err);
        sl_status st = cv_catalog_offer(CV_APP(b->call)->catalog, b->call, ro->region, skus,
                                        b->ncands, NULL, ro->offers, err);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

/* The recipient's interest in category among ints (0 when none). */
static double interest_in(const cv_interest *ints, size_t n, const char *category)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ints[i].category, category) == 0)
            return ints[i].score;
    return 0;
}

static Shelfline__V1__CampaignPick *pick_msg(sl_arena *a, const cand *c, const cv_offer *o)
{
    Shelfline__V1__CampaignPick *m = sl_arena_alloc(a, sizeof *m);
    if (m == NULL || (m->price = cv_money(a, c->price_minor, c->currency)) == NULL)
        return NULL;
    Shelfline__V1__Money *price = m->price;
    shelfline__v1__campaign_pick__init(m);
    m->price = price;
    m->sku = (char *)c->sku;
    m->name = (char *)c->name;
    m->category = (char *)c->category;
    m->available = o->available;
    m->only_left = o->only_left;
    m->delivery_p50_days = o->transit_p50;
    m->delivery_p90_days = o->transit_p90;
    return m;
}

/* Step 5 for one recipient whose lines are lines[0..n): its picks, best
 * first, into a packed CampaignRecipient (*row; recipient NULL when no
 * candidate is available for them). */
static sl_status recipient_picks(build *b, const cv_summary_row *s, const cv_history_row *lines,
                                 size_t n, double *score, bool *bought, cv_recipient_row *row,
                                 sl_err *err)
{
    region_offers *ro = region_find(b, s->region);
    cv_interest ints[INTEREST_CATEGORIES];
    size_t nints = 0;
    memset(bought, 0, b->ncands * sizeof *bought);
    row->recipient = NULL;
    if ((b->seasonal || b->urgency) && n > 0) {
        cv_purchase_line *pl = sl_arena_alloc(b->a, n * sizeof *pl);
        if (pl == NULL)
            return OOM(err);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (lines[i].day < b->start_day && lines[i].qty > lines[i].returned_qty)
                pl[k++] = (cv_purchase_line){lines[i].category, lines[i].day,
                                             (double)(lines[i].qty - lines[i].returned_qty)};
        if (k > 0 && cv_interest_rank(pl, k, b->start_day, INTEREST_HALF_LIFE_DAYS, ints,
                                      INTEREST_CATEGORIES, &nints, err) != SL_OK)
            nints = 0;
    }
    for (size_t i = 0; i < n; i++) {
        const cand *c =
            lines[i].day < b->start_day && lines[i].day >= b->start_day - BOUGHT_LOOKBACK_DAYS
                ? cand_find(b, lines[i].sku)
                : NULL;
        if (c != NULL && !b->urgency) /* a promotion is for past buyers too */
            bought[c - b->cands] = true;
    }
    for (size_t i = 0; i < b->ncands; i++) {
        const cand *c = &b->cands[i];
        score[i] = -1;
        if (ro == NULL || ro->offers[i].available <= 0 || bought[i])
            continue;
        /* SEASONAL: interest first, popularity (scaled below 1e-3) breaks
         * ties -- a coffee drinker gets the season's coffee bestseller
         * before a more popular gift. */
        score[i] = b->seasonal || b->urgency
                       ? interest_in(ints, nints, c->category) + POP_TIEBREAK * c->pop / b->max_pop
                       : c->pop;
    }
    Shelfline__V1__CampaignRecipient m = SHELFLINE__V1__CAMPAIGN_RECIPIENT__INIT;
    Shelfline__V1__CampaignPick **picks = sl_arena_alloc(b->a, b->want * sizeof *picks);
    if (picks == NULL)
        return OOM(err);
    size_t k = 0;
    while (k < b->want) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < b->ncands; i++)
            if (score[i] >= 0 && (best == SIZE_MAX || score[i] > score[best]))
                best = i; /* ties: the first in SKU order */
        if (best == SIZE_MAX)
            break;
        if ((picks[k++] = pick_msg(b->a, &b->cands[best], &ro->offers[best])) == NULL)
            return OOM(err);
        score[best] = -1;
    }
    if (k == 0)
        return SL_OK;
    if (b->urgency)
        b->rank[b->nrecips] = interest_in(ints, nints, b->cands[0].category);
    m.customer_id = (char *)s->customer_id;
    m.region = (char *)s->region;
    m.picks = picks;
    m.n_picks = k;
    m.state = SHELFLINE__V1__RECIPIENT_STATE__RECIPIENT_STATE_PENDING;
    size_t len = protobuf_c_message_get_packed_size(&m.base);
    uint8_t *buf = sl_arena_alloc(b->a, len + 1);
    if (buf == NULL)
        return OOM(err);
    row->recipient_len = protobuf_c_message_pack(&m.base, buf);
    row->recipient = buf;
    row->customer_id = s->customer_id;
    row->region = s->region;
    return SL_OK;
}

typedef struct ranked {
    cv_recipient_row row;
    double rank;
} ranked;

static int ranked_cmp(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->rank != b->rank)
        return a->rank > b->rank ? -1 : 1;
    return strcmp(a->row.customer_id, b->row.customer_id);
}

static int recip_id_cmp(const void *x, const void *y)
{
    return strcmp(((const cv_recipient_row *)x)->customer_id,
                  ((const cv_recipient_row *)y)->customer_id);
}

/* URGENCY: the audience sized to the quota keeps the recipients most
 * interested in the product's category (then by id), stored in id order.
 * Out of memory leaves the first ones in id order. */
static void keep_most_interested(build *b)
{
    ranked *v = sl_arena_alloc(b->a, b->nrecips * sizeof *v);
    if (v != NULL) {
        for (size_t i = 0; i < b->nrecips; i++)
            v[i] = (ranked){b->recips[i], b->rank[i]};
        qsort(v, b->nrecips, sizeof *v, ranked_cmp);
        for (size_t i = 0; i < b->max_recipients; i++)
            b->recips[i] = v[i].row;
    }
    b->nrecips = b->max_recipients;
    qsort(b->recips, b->nrecips, sizeof *b->recips, recip_id_cmp);
}

/* Step 5: every recipient's picks (the audience and the lines are both
 * in byte order of the customer id). */
static sl_status build_recipients(build *b, sl_err *err)
{
    double *score = sl_arena_alloc(b->a, b->ncands * sizeof *score);
    bool *bought = sl_arena_alloc(b->a, b->ncands * sizeof *bought);
    b->recips = sl_arena_zalloc(b->a, (b->naud > 0 ? b->naud : 1) * sizeof *b->recips);
    if (score == NULL || bought == NULL || b->recips == NULL)
        return OOM(err);
    size_t li = 0;
    b->rank = sl_arena_zalloc(b->a, (b->naud > 0 ? b->naud : 1) * sizeof *b->rank);
    if (b->rank == NULL)
        return OOM(err);
    for (size_t i = 0; i < b->naud && (b->urgency || b->nrecips < b->max_recipients); i++) {
        const cv_summary_row *s = b->aud[i];
        while (li < b->nlines && (b->lines[li].customer_id == NULL ||
                                  strcmp(b->lines[li].customer_id, s->customer_id) < 0))
            li++;
        size_t lj = li;
        while (lj < b->nlines && b->lines[lj].customer_id != NULL &&
               strcmp(b->lines[lj].customer_id, s->customer_id) == 0)
            lj++;
        cv_recipient_row *row = &b->recips[b->nrecips];
        sl_status st = recipient_picks(b, s, b->lines + li, lj - li, score, bought, row, err);
        if (st != SL_OK)
            return st;
        if (row->recipient != NULL)
            b->nrecips++;
        li = lj;
    }
    if (b->urgency && b->nrecips > b->max_recipients)
        keep_most_interested(b);
    return SL_OK;
}

typedef struct store_ctx {
    build *b;
    cv_campaign_row row;
    bool inserted;
} store_ctx;

static sl_status store_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    store_ctx *c = p;
    sl_status st = cv_store_campaign_insert(conn, &c->row, &c->inserted, err);
    for (size_t i = 0; st == SL_OK && c->inserted && i < c->b->nrecips; i++)
        st = cv_store_recipient_insert(conn, c->row.campaign_id, &c->b->recips[i], err);
    return st;
}

sl_status cv_api_build_campaign(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    const Shelfline__V1__BuildCampaignRequest *r = (const Shelfline__V1__BuildCampaignRequest *)req;
    Shelfline__V1__Campaign *out = (Shelfline__V1__Campaign *)resp;
    sl_arena *a = sl_call_arena(call);
    /* The request was checked by cv_valid_build_campaign_request. */
    size_t len;
    const uint8_t *packed = cv_pack(call, req, &len);
    if (packed == NULL)
        return OOM(err);
    cv_campaign_row *row;
    sl_status st = campaign_load(call, r->campaign_id, &row, err);
    if (st != SL_OK)
        return st;
    if (row != NULL)
        return replay(row, packed, len, a, out, err);

    build b = {.call = call, .a = a, .r = r};
    b.seasonal = r->kind == SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_SEASONAL;
    b.urgency = r->kind == SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_URGENCY;
    b.start_day = cv_day(r->starts_at_ms);
    b.want = r->picks_per_recipient > 0 ? (size_t)r->picks_per_recipient : CAMPAIGN_DEFAULT_PICKS;
    b.max_recipients =
        r->max_recipients > 0 ? (size_t)r->max_recipients : CAMPAIGN_DEFAULT_RECIPIENTS;
    Shelfline__V1__ListSegmentRequest filter = SHELFLINE__V1__LIST_SEGMENT_REQUEST__INIT;
    if (r->audience != NULL)
        filter = *r->audience;
    filter.region = r->region;
    filter.page = NULL;
    if (b.urgency) {
        if ((st = urgency_promotion(&b, err)) != SL_OK)
            return st;
        if (filter.region[0] == '\0')
            filter.region = b.promo->region;
    }
    if ((st = cv_segment_members(call, &filter, &b.aud, &b.naud, err)) != SL_OK)
        return st == SL_INVALID_ARGUMENT ? audience_error(st, err) : st;
    lines_ctx lc = {a, NULL, 0};
    sl_db_tx_options o = sl_service_tx_options(call, true);
    if ((st = sl_db_tx(CV_APP(call)->db, &o, lines_tx, &lc, err)) != SL_OK)
        return st;
    b.lines = lc.rows;
    b.nlines = lc.n;
    if (b.urgency)
        st = urgency_candidates(&b, err);
    else if ((st = build_candidates(&b, err)) == SL_OK)
        st = build_offers(&b, err);
    if (st != SL_OK || (st = build_recipients(&b, err)) != SL_OK)
        return st;

    store_ctx sc = {.b = &b};
    sc.row = (cv_campaign_row){.campaign_id = r->campaign_id,
                               .kind = kind_name(r->kind),
                               .region = b.urgency ? filter.region : r->region,
                               .promotion_id = r->promotion_id,
                               .starts_at_ms = r->starts_at_ms,
                               .ends_at_ms = r->ends_at_ms,
                               .audience_size = (int32_t)b.nrecips,
                               .request = packed,
                               .request_len = len};
    o = sl_service_tx_options(call, false);
    if ((st = sl_db_tx(CV_APP(call)->db, &o, store_tx, &sc, err)) != SL_OK)
        return st;
    /* Stored now, by this call or (inserted false) a racing one. */
    if ((st = campaign_load(call, r->campaign_id, &row, err)) != SL_OK)
        return st;
    if (row == NULL)
        return sl_err_set(err, SL_INTERNAL, "campaign \"%s\" vanished after it was stored",
                          r->campaign_id);
    if (!sc.inserted)
        return replay(row, packed, len, a, out, err);
    return campaign_msg(a, row, false, out, err);
}

/* ---- ListCampaignRecipients ---- */

typedef struct page_ctx {
    sl_arena *a;
    const char *id, *after;
    int limit;
    cv_campaign_row *row;
    cv_recipient_row *rows;
    size_t n;
} page_ctx;

static sl_status page_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    page_ctx *c = p;
    sl_status st = cv_store_campaign_get(conn, c->a, c->id, &c->row, err);
    if (st != SL_OK || c->row == NULL)
        return st;
    return cv_store_recipients(conn, c->a, c->id, c->after, false, c->limit + 1, &c->rows, &c->n,
                               err);
}

/* A stored recipient as a message (arena memory), its state from the row. */
static sl_status recipient_msg(sl_arena *a, const cv_recipient_row *row,
                               Shelfline__V1__CampaignRecipient **out, sl_err *err)
{
    Shelfline__V1__CampaignRecipient *m = shelfline__v1__campaign_recipient__unpack(
        sl_arena_pb_allocator(a), row->recipient_len, row->recipient);
    if (m == NULL)
        return sl_err_set(err, SL_INTERNAL, "could not decode the stored recipient \"%s\"",
                          row->customer_id);
    m->state = recipient_state_of(row->state);
    m->sent_picks = row->sent_picks;
    *out = m;
    return SL_OK;
}

sl_status cv_api_list_campaign_recipients(sl_call *call, const ProtobufCMessage *req,
                                          ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__ListCampaignRecipientsRequest *r =
        (const Shelfline__V1__ListCampaignRecipientsRequest *)req;
    Shelfline__V1__ListCampaignRecipientsResponse *out =
        (Shelfline__V1__ListCampaignRecipientsResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    int limit;
    char after[80];
    sl_status st = sl_page_read(r->page, &limit, after, sizeof after, err);
    if (st != SL_OK)
        return st;
    page_ctx c = {a, r->campaign_id, after, limit, NULL, NULL, 0};
    sl_db_tx_options o = sl_service_tx_options(call, true);
    if ((st = sl_db_tx(CV_APP(call)->db, &o, page_tx, &c, err)) != SL_OK)
        return st;
    if (c.row == NULL)
        return not_found(r->campaign_id, err);
    size_t n = c.n > (size_t)limit ? (size_t)limit : c.n;
    out->recipients = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *out->recipients);
    if (out->recipients == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++)
        if ((st = recipient_msg(a, &c.rows[i], &out->recipients[i], err)) != SL_OK)
            return st;
    out->n_recipients = n;
    if (c.n > n &&
        (out->next_page_token = sl_page_token_encode(a, c.rows[n - 1].customer_id)) == NULL)
        return OOM(err);
    return SL_OK;
}

/* ---- SendCampaign ---- */

typedef struct pending_ctx {
    sl_arena *a;
    int limit;
    const char *id, *after;
    cv_recipient_row *rows;
    size_t n;
} pending_ctx;

static sl_status pending_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    pending_ctx *c = p;
    return cv_store_recipients(conn, c->a, c->id, c->after, true, c->limit, &c->rows, &c->n, err);
}

/* A recipient of a batch with its picks re-checked. */
typedef struct outgoing {
    const cv_recipient_row *row;
    Shelfline__V1__CampaignRecipient *rec;
    size_t kept; /* picks still available, moved to the front of rec->picks */
} outgoing;

static int pick_ref_cmp(const void *x, const void *y)
{
    const Shelfline__V1__CampaignPick *a = *(Shelfline__V1__CampaignPick *const *)x,
                                      *b = *(Shelfline__V1__CampaignPick *const *)y;
    return strcmp(a->sku, b->sku);
}

static int str_ref_cmp(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* URGENCY: what of the promotion reaches the region of out[lo..hi) now;
 * the offer states it. */
static sl_status recheck_promotion(sl_call *call, const Shelfline__V1__Promotion *promo,
                                   outgoing *out, size_t lo, size_t hi, int32_t *dropped,
                                   sl_err *err)
{
    cv_offer o;
    sl_status st = cv_catalog_promotion_reach(CV_APP(call)->catalog, call, promo,
                                              out[lo].row->region, &o, err);
    if (st != SL_OK)
        return st;
    for (size_t i = lo; i < hi; i++) {
        Shelfline__V1__CampaignRecipient *rec = out[i].rec;
        out[i].kept = 0;
        if (rec->n_picks == 0)
            continue;
        if (o.available <= 0) {
            *dropped += (int32_t)rec->n_picks;
            continue;
        }
        Shelfline__V1__CampaignPick *p = rec->picks[0];
        p->available = o.available;
        p->only_left = o.available;
        p->delivery_p50_days = o.transit_p50;
        p->delivery_p90_days = o.transit_p90;
        out[i].kept = 1;
    }
    return SL_OK;
}

/* Re-checks the picks of the recipients of one region (out[lo..hi)):
 * one availability question per distinct SKU, in batches. */
static sl_status recheck_region(sl_call *call, sl_arena *a, const Shelfline__V1__Promotion *promo,
                                outgoing *out, size_t lo, size_t hi, int32_t *dropped, sl_err *err)
{
    if (promo != NULL)
        return recheck_promotion(call, promo, out, lo, hi, dropped, err);
    size_t total = 0;
    for (size_t i = lo; i < hi; i++)
        total += out[i].rec->n_picks;
    Shelfline__V1__CampaignPick **all = sl_arena_alloc(a, (total > 0 ? total : 1) * sizeof *all);
    const char **skus = sl_arena_alloc(a, (total > 0 ? total : 1) * sizeof *skus);
    cv_offer *offers = sl_arena_alloc(a, (total > 0 ? total : 1) * sizeof *offers);
    if (all == NULL || skus == NULL || offers == NULL)
        return OOM(err);
    size_t k = 0, ns = 0;
    for (size_t i = lo; i < hi; i++)
        for (size_t j = 0; j < out[i].rec->n_picks; j++)
            all[k++] = out[i].rec->picks[j];
    qsort(all, total, sizeof *all, pick_ref_cmp);
    for (size_t i = 0; i < total; i++)
        if (ns == 0 || strcmp(skus[ns - 1], all[i]->sku) != 0)
            skus[ns++] = all[i]->sku;
    sl_status st = cv_catalog_offer(CV_APP(call)->catalog, call, out[lo].row->region, skus, ns,
                                    NULL, offers, err);
    if (st != SL_OK)
        return st;
    for (size_t i = lo; i < hi; i++) {
        Shelfline__V1__CampaignRecipient *rec = out[i].rec;
        size_t kept = 0;
        for (size_t j = 0; j < rec->n_picks; j++) {
            Shelfline__V1__CampaignPick *p = rec->picks[j];
            const char *const *hit = bsearch(&p->sku, skus, ns, sizeof *skus, str_ref_cmp);
            const cv_offer *o = hit != NULL ? &offers[hit - skus] : NULL;
            if (o == NULL || o->available <= 0) {
                (*dropped)++;
                continue;
            }
            p->available = o->available;
            p->only_left = o->only_left;
            p->delivery_p50_days = o->transit_p50;
            p->delivery_p90_days = o->transit_p90;
            rec->picks[kept++] = p;
        }
        out[i].kept = kept;
    }
    return SL_OK;
}

/* "YYYY-MM-DD" of a Unix-ms time. */
static void date_text(int64_t ms, char *out, size_t cap)
{
    int y, m, d;
    sl_civil_from_days(cv_day(ms), &y, &m, &d);
    snprintf(out, cap, "%04d-%02d-%02d", y, m, d);
}

/* The message's text: the kind's headline, each pick with its price (and
 * "only N left" when inventory says so; GEO: its delivery promise), and
 * the offer's end. */
static char *message_body(sl_arena *a, const cv_campaign_row *c,
                          const Shelfline__V1__CampaignRecipient *rec, size_t kept,
                          const Shelfline__V1__Promotion *promo)
{
    size_t cap = 160 + kept * 320, len = 0;
    char *buf = sl_arena_alloc(a, cap), end[16];
    if (buf == NULL)
        return NULL;
    bool geo = strcmp(c->kind, "GEO") == 0;
    date_text(c->ends_at_ms - 1, end, sizeof end);
    if (promo != NULL && kept > 0) {
        const Shelfline__V1__CampaignPick *p = rec->picks[0];
        int64_t minor = p->price != NULL ? p->price->minor_units : 0;
        snprintf(buf, cap,
                 "Limited offer: %.64s (%s) at %" PRId64 ".%02d %s, only %" PRId64
                 " left at this price, at most %" PRId64 " per customer. Offer ends %s.",
                 p->name, p->sku, minor / 100, (int)(minor % 100),
                 p->price != NULL ? p->price->currency : "", p->available,
                 promo->per_customer_limit, end);
        return buf;
    }
    if (geo)
        len += (size_t)snprintf(buf, cap, "Popular in %s, in stock near you:", rec->region);
    else
        len += (size_t)snprintf(buf, cap, "Picked for you this season:");
    for (size_t i = 0; i < kept && len < cap; i++) {
        const Shelfline__V1__CampaignPick *p = rec->picks[i];
        int64_t minor = p->price != NULL ? p->price->minor_units : 0;
        len += (size_t)snprintf(buf + len, cap - len, "%s %.64s (%s) %" PRId64 ".%02d %s",
                                i == 0 ? "" : ";", p->name, p->sku, minor / 100, (int)(minor % 100),
                                p->price != NULL ? p->price->currency : "");
        if (len < cap && p->only_left > 0)
            len += (size_t)snprintf(buf + len, cap - len, ", only %" PRId64 " left", p->only_left);
        if (len < cap && geo && p->delivery_p90_days > 0)
            len += (size_t)snprintf(buf + len, cap - len, ", delivered in %d-%d days",
                                    p->delivery_p50_days, p->delivery_p90_days);
    }
    if (len < cap)
        snprintf(buf + len, cap - len, ". Offer ends %s.", end);
    return buf;
}

typedef struct send_ctx {
    sl_call *call;
    const cv_campaign_row *c;
    const Shelfline__V1__Promotion *promo; /* URGENCY */
    outgoing *out;
    size_t n;
    int32_t sent, skipped; /* by this batch's committed transaction */
} send_ctx;

static sl_status send_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    send_ctx *c = p;
    sl_arena *a = sl_call_arena(c->call);
    c->sent = c->skipped = 0; /* a retried transaction starts over */
    for (size_t i = 0; i < c->n; i++) {
        const outgoing *o = &c->out[i];
        bool marked;
        sl_status st = cv_store_recipient_mark(conn, c->c->campaign_id, o->row->customer_id,
                                               o->kept > 0 ? "SENT" : "SKIPPED", (int32_t)o->kept,
                                               &marked, err);
        if (st != SL_OK)
            return st;
        if (!marked)
            continue; /* another call sent it */
        if (o->kept == 0) {
            c->skipped++;
            continue;
        }
        Shelfline__V1__CampaignMessage m = SHELFLINE__V1__CAMPAIGN_MESSAGE__INIT;
        m.campaign_id = (char *)c->c->campaign_id;
        m.kind = kind_of(c->c->kind);
        m.customer_id = (char *)o->row->customer_id;
        m.region = (char *)o->row->region;
        m.picks = o->rec->picks;
        m.n_picks = o->kept;
        m.ends_at_ms = c->c->ends_at_ms;
        if ((m.body = message_body(a, c->c, o->rec, o->kept, c->promo)) == NULL)
            return OOM(err);
        if ((st = sl_events_publish(CV_APP(c->call)->events, conn, "CAMPAIGN_MESSAGE",
                                    o->row->customer_id, &m.base, err)) != SL_OK)
            return st;
        c->sent++;
    }
    return SL_OK;
}

static int outgoing_cmp(const void *x, const void *y)
{
    const outgoing *a = x, *b = y;
    int r = strcmp(a->row->region, b->row->region);
    return r != 0 ? r : strcmp(a->row->customer_id, b->row->customer_id);
}

/* One batch of PENDING recipients: re-checked per region, then sent. */
static sl_status send_batch(sl_call *call, const cv_campaign_row *camp,
                            const Shelfline__V1__Promotion *promo, const cv_recipient_row *rows,
                            size_t n, Shelfline__V1__SendCampaignResponse *resp, sl_err *err)
{
    sl_arena *a = sl_call_arena(call);
    outgoing *out = sl_arena_zalloc(a, n * sizeof *out);
    if (out == NULL)
        return OOM(err);
    sl_status st;
    for (size_t i = 0; i < n; i++) {
        out[i].row = &rows[i];
        cv_recipient_row r = rows[i];
        Shelfline__V1__CampaignRecipient *rec = NULL;
        if ((st = recipient_msg(a, &r, &rec, err)) != SL_OK)
            return st;
        out[i].rec = rec;
    }
    qsort(out, n, sizeof *out, outgoing_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(out[j].row->region, out[i].row->region) == 0)
            j++;
        if ((st = recheck_region(call, a, promo, out, i, j, &resp->picks_dropped, err)) != SL_OK)
            return st;
        i = j;
    }
    send_ctx sc = {call, camp, promo, out, n, 0, 0};
    sl_db_tx_options o = sl_service_tx_options(call, false);
    if ((st = sl_db_tx(CV_APP(call)->db, &o, send_tx, &sc, err)) != SL_OK)
        return st;
    resp->sent += sc.sent;
    resp->skipped += sc.skipped;
    return SL_OK;
}

static sl_status finish_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    return cv_store_campaign_finish(conn, p, err);
}

typedef struct skip_ctx {
    const char *id;
    int32_t n;
} skip_ctx;

static sl_status skip_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    skip_ctx *c = p;
    return cv_store_recipients_skip_pending(conn, c->id, &c->n, err);
}

/* URGENCY, before each batch: the promotion as it is now.  Sold out or
 * ended: every recipient not sent yet is skipped and resp->sold_out set,
 * which ends the sending. */
static sl_status promotion_now(sl_call *call, const cv_campaign_row *camp,
                               Shelfline__V1__Promotion **promo,
                               Shelfline__V1__SendCampaignResponse *resp, sl_err *err)
{
    sl_status st = cv_catalog_promotion(CV_APP(call)->catalog, call, camp->promotion_id,
                                        sl_call_arena(call), promo, err);
    if (st == SL_NOT_FOUND) /* inventory lost it: as good as ended */
        sl_err_clear(err);
    else if (st != SL_OK)
        return st;
    if (st == SL_OK && (*promo)->remaining > 0 &&
        (*promo)->status != SHELFLINE__V1__PROMOTION__STATUS__ENDED)
        return SL_OK;
    skip_ctx sc = {camp->campaign_id, 0};
    sl_db_tx_options o = sl_service_tx_options(call, false);
    if ((st = sl_db_tx(CV_APP(call)->db, &o, skip_tx, &sc, err)) != SL_OK)
        return st;
    resp->skipped += sc.n;
    resp->sold_out = true;
    return SL_OK;
}

sl_status cv_api_send_campaign(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                               sl_err *err)
{
    const Shelfline__V1__SendCampaignRequest *r = (const Shelfline__V1__SendCampaignRequest *)req;
    Shelfline__V1__SendCampaignResponse *out = (Shelfline__V1__SendCampaignResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    cv_campaign_row *camp;
    sl_status st = campaign_load(call, r->campaign_id, &camp, err);
    if (st != SL_OK)
        return st;
    if (camp == NULL)
        return not_found(r->campaign_id, err);
    if (strcmp(camp->state, "SENT") != 0) {
        int64_t now = sl_db_now_ms();
        char when[16];
        if (now < camp->starts_at_ms) {
            date_text(camp->starts_at_ms, when, sizeof when);
            return sl_err_reason(err, SL_FAILED_PRECONDITION, "CAMPAIGN_NOT_STARTED",
                                 "campaign_id: campaign \"%s\" starts on %s", camp->campaign_id,
                                 when);
        }
        if (now >= camp->ends_at_ms) {
            date_text(camp->ends_at_ms - 1, when, sizeof when);
            return sl_err_reason(err, SL_FAILED_PRECONDITION, "CAMPAIGN_ENDED",
                                 "campaign_id: campaign \"%s\" ended on %s", camp->campaign_id,
                                 when);
        }
        /* Each batch moves its recipients out of PENDING (or fails the
         * call), so this ends after audience_size / SEND_BATCH + 1
         * batches. */
        const char *after = "";
        bool urgency = strcmp(camp->kind, "URGENCY") == 0;
        for (;;) {
            Shelfline__V1__Promotion *promo = NULL;
            if (urgency && (st = promotion_now(call, camp, &promo, out, err)) != SL_OK)
                return st;
            if (out->sold_out)
                break;
            pending_ctx pc = {
                a, urgency ? URGENCY_SEND_BATCH : SEND_BATCH, camp->campaign_id, after, NULL, 0};
            sl_db_tx_options o = sl_service_tx_options(call, true);
            if ((st = sl_db_tx(CV_APP(call)->db, &o, pending_tx, &pc, err)) != SL_OK)
                return st;
            if (pc.n == 0)
                break;
            if ((st = send_batch(call, camp, promo, pc.rows, pc.n, out, err)) != SL_OK)
                return st;
            after = pc.rows[pc.n - 1].customer_id;
        }
        sl_db_tx_options o = sl_service_tx_options(call, false);
        if ((st = sl_db_tx(CV_APP(call)->db, &o, finish_tx, (void *)camp->campaign_id, err)) !=
            SL_OK)
            return st;
        if ((st = campaign_load(call, r->campaign_id, &camp, err)) != SL_OK)
            return st;
    }
    Shelfline__V1__Campaign *m = sl_arena_alloc(a, sizeof *m);
    if (m == NULL)
        return OOM(err);
    shelfline__v1__campaign__init(m);
    out->campaign = m;
    return campaign_msg(a, camp, false, m, err);
}
