/*
 * shelfline's streams: `watch events` (any service's WatchEvents, the
 * outbox every consumer follows) and `watch notifications` (service-desk's
 * WatchNotifications, what customers are told).  Both are bounded by
 * --count and --timeout and end cleanly on Ctrl-C (cli_watch).
 */
#include <stdio.h>

#include "cli.h"
#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"

/* --after ID into *after; false after a usage error. */
static bool after_id(cli *c, int64_t *after)
{
    *after = 0;
    return cli_value(c, "after") == NULL ||
           cli_int(c, "--after", cli_value(c, "after"), 0, INT64_MAX, after);
}

static void print_event(cli *c, const ProtobufCMessage *msg, bool first)
{
    const Shelfline__V1__Event *e = (const Shelfline__V1__Event *)msg;
    if (first)
        printf("%-8s  %-20s  %-22s  %-24s  %s\n", "ID", "AT", "TOPIC", "KEY", "PAYLOAD");
    printf("%-8lld  %-20s  %-22s  %-24s  %s (%zu bytes)\n", (long long)e->id,
           cli_time(c, e->created_at_ms), e->topic, e->key, e->payload_type, e->payload.len);
}

int cli_watch_events(cli *c)
{
    Shelfline__V1__WatchEventsRequest req = SHELFLINE__V1__WATCH_EVENTS_REQUEST__INIT;
    if (!after_id(c, &req.after_id))
        return CLI_EXIT_USAGE;
    const char *const *topics;
    req.n_topics = cli_values(c, "topic", &topics);
    req.topics = (char **)topics;
    return cli_watch(c, "WatchEvents", &req.base, &shelfline__v1__event__descriptor, print_event);
}

static void print_notification(cli *c, const ProtobufCMessage *msg, bool first)
{
    const Shelfline__V1__Notification *n = (const Shelfline__V1__Notification *)msg;
    if (first)
        printf("%-8s  %-20s  %-14s  %-20s  %-22s  %s\n", "ID", "AT", "KIND", "CUSTOMER", "ORDER",
               "MESSAGE");
    printf("%-8lld  %-20s  %-14s  %-20s  %-22s  %s", (long long)n->notification_id,
           cli_time(c, n->created_at_ms),
           cli_enum(&shelfline__v1__notification_kind__descriptor, (int)n->kind, "NOTIFICATION_"),
           n->customer_id, n->order_id[0] != '\0' ? n->order_id : "-", n->body);
    if (n->coupon_code[0] != '\0')
        printf(" [coupon %s%s%s]", n->coupon_code, n->value != NULL ? " " : "",
               n->value != NULL ? cli_money(c, n->value->minor_units, n->value->currency) : "");
    putchar('\n');
}

int cli_watch_notifications(cli *c)
{
    Shelfline__V1__WatchNotificationsRequest req = SHELFLINE__V1__WATCH_NOTIFICATIONS_REQUEST__INIT;
    if (!after_id(c, &req.after_id))
        return CLI_EXIT_USAGE;
    if (cli_value(c, "customer") != NULL)
        req.customer_id = (char *)cli_value(c, "customer");
    return cli_watch(c, "WatchNotifications", &req.base, &shelfline__v1__notification__descriptor,
                     print_notification);
}
