/*
 * sd_net: the fulfilment network as the ETA engine needs it -- inventory's
 * warehouses (time zone, cut-off, shipping weekdays and holidays) built
 * into sd_warehouse calendars and cached per process, so that GetOrderEta
 * and QuoteEta never fan out to inventory for them.
 *
 * The cache is a snapshot replaced as a whole: after its TTL, or when a
 * caller meets a warehouse it does not know (refreshed at most once a
 * second).  The TTL (SHELFLINE_SD_NETWORK_TTL) is therefore the bound on
 * how stale a calendar or cut-off can be on every replica: refreshing is
 * chosen over an event because only one replica holds the event
 * subscription, and every replica answers ETAs.  Readers hold a reference to the snapshot they use,
 * so a refresh never frees a warehouse under a computation.  Transit times are not cached here:
 * inventory returns them with every allocation and every availability answer, and orders store
 * them.
 */
#ifndef SD_NET_H
#define SD_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "sd_eta.h"
#include "sd_time.h"
#include "sl_client.h"
#include "sl_status.h"

typedef struct sd_net sd_net;
typedef struct sd_net_snap sd_net_snap;

/* Creates the cache over inventory's channel (borrowed; must outlive it)
 * and the zone set tz (borrowed).  Nothing is fetched until the first
 * acquire.  The caller owns *out (sd_net_destroy). */
sl_status sd_net_create(sl_channel *inventory, sd_tzdb *tz, int64_t ttl_ms, int handling_days,
                        int64_t call_timeout_ms, sd_net **out, sl_err *err);

/* Frees the cache; every snapshot must have been released. */
void sd_net_destroy(sd_net *n);

/* A reference to the current snapshot, fetching a new one from inventory
 * when there is none, it is older than the TTL, or refresh is true and the
 * last fetch is more than a second old.  When a fetch fails and an older
 * snapshot exists, that one is returned (stale beats unavailable).  Fails
 * with inventory's status when there is no snapshot at all.  Release with
 * sd_net_release. */
sl_status sd_net_acquire(sd_net *n, bool refresh, sd_net_snap **out, sl_err *err);

void sd_net_release(sd_net *n, sd_net_snap *s);

/* The warehouse with this id in the snapshot, or NULL. */
const sd_warehouse *sd_net_warehouse(const sd_net_snap *s, const char *id);

/* The time zone of a warehouse of the snapshot (NULL if it is not one). */
const sd_tz *sd_net_zone(const sd_net_snap *s, const sd_warehouse *w);

/* Looks warehouse id up, refreshing the snapshot once if it is unknown:
 * *snap may be replaced (the old one released).  NULL when still unknown. */
const sd_warehouse *sd_net_find(sd_net *n, sd_net_snap **snap, const char *id);

/* Drops the current snapshot so the next acquire fetches (e.g. after a
 * warehouse event). */
void sd_net_invalidate(sd_net *n);

#endif
