/*
 * fc_inventory: forecasting's calls to inventory -- one call under the
 * suite's peer-call policy (sl_client_call_from), and a whole paged list.
 *
 * Forecasting only reads from inventory, so every call may be retried.
 * Lists are read to their last page: a network or an inbound list longer
 * than one page is real (1,000 rows is one page), and planning on its
 * first page alone would silently leave regions out.
 */
#include <stdio.h>
#include <string.h>

#include "fc_app.h"

sl_status fc_inventory_call(fc_app *app, sl_call *call, const char *method,
                            const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp,
                            sl_arena *a, void *out, sl_err *err)
{
    char full[96];
    snprintf(full, sizeof full, "/shelfline.v1.InventoryService/%s", method);
    sl_call_options policy = {.timeout_ms = app->inventory_timeout_ms, .idempotent = true};
    ProtobufCMessage *m = NULL;
    sl_status st = sl_client_call_from(call, app->inventory, full, req, resp, a, &m, &policy, err);
    if (st != SL_OK) {
        sl_err_wrap(err, "inventory %s", method);
        return st;
    }
    *(ProtobufCMessage **)out = m;
    return SL_OK;
}

sl_status fc_inventory_list(fc_app *app, sl_call *call, const char *method,
                            const ProtobufCMessage *req, Shelfline__V1__PageRequest *page,
                            const ProtobufCMessageDescriptor *resp, const char *items, sl_arena *a,
                            void *out, size_t *n, sl_err *err)
{
    const ProtobufCFieldDescriptor *fi =
        protobuf_c_message_descriptor_get_field_by_name(resp, items);
    const ProtobufCFieldDescriptor *ft =
        protobuf_c_message_descriptor_get_field_by_name(resp, "next_page_token");
    if (fi == NULL || fi->label != PROTOBUF_C_LABEL_REPEATED ||
        fi->type != PROTOBUF_C_TYPE_MESSAGE || ft == NULL || ft->type != PROTOBUF_C_TYPE_STRING)
        return sl_err_set(err, SL_INTERNAL, "%s is not a paged list of \"%s\"", resp->name, items);
    void **all = NULL;
    size_t count = 0, cap = 0;
    page->page_token = "";
    for (int pages = 0;; pages++) {
        if (pages == FC_INVENTORY_MAX_PAGES)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "inventory %s: more than %d pages",
                              method, FC_INVENTORY_MAX_PAGES);
        ProtobufCMessage *m;
        sl_status st = fc_inventory_call(app, call, method, req, resp, a, &m, err);
        if (st != SL_OK)
            return st;
        size_t k = *(const size_t *)((const char *)m + fi->quantifier_offset);
        void *const *v = *(void *const *const *)((const char *)m + fi->offset);
        if (count + k > cap) {
            size_t ncap = cap == 0 ? k : cap * 2;
            while (ncap < count + k)
                ncap *= 2;
            void **grown = sl_arena_alloc(a, (ncap > 0 ? ncap : 1) * sizeof *grown);
            if (grown == NULL)
                return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            if (count > 0)
                memcpy(grown, all, count * sizeof *all);
            all = grown;
            cap = ncap;
        }
        if (k > 0)
            memcpy(all + count, v, k * sizeof *v);
        count += k;
        const char *token = *(char *const *)((const char *)m + ft->offset);
        if (token == NULL || token[0] == '\0')
            break;
        page->page_token = (char *)token;
    }
    *(void ***)out = all;
    *n = count;
    return SL_OK;
}
