/*
 * shelfline-json-tool: sl_json on the command line, for the round trip
 * against Python's google.protobuf.json_format (json_roundtrip.py).
 *
 * Reads lines from stdin and answers each with one line on stdout:
 *   E <type> <base64 protobuf>   ->  OK <JSON text>   (sl_json_encode)
 *   D <type> <base64 JSON text>  ->  OK <base64 protobuf> (sl_json_decode)
 *   T                            ->  OK <type> ...    every type it knows
 * or "ERR <message>".  <type> is a full name ("shelfline.v1.Product"): any
 * request or response type of the suite's four services, or a message
 * reachable from one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/sl_test_types.h"
#include "sl_arena.h"
#include "sl_json.h"

#define MAX_TYPES 1024
static const ProtobufCMessageDescriptor *types[MAX_TYPES];
static size_t n_types;

static const ProtobufCMessageDescriptor *find_type(const char *name)
{
    for (size_t i = 0; i < n_types; i++)
        if (strcmp(types[i]->name, name) == 0)
            return types[i];
    return NULL;
}

static void answer(sl_arena *a, char *line)
{
    char *type = strchr(line, ' ');
    if (line[0] == 'T') {
        fputs("OK", stdout);
        for (size_t i = 0; i < n_types; i++)
            printf(" %s", types[i]->name);
        putchar('\n');
        return;
    }
    if (type == NULL) {
        puts("ERR expected: E|D <type> <base64>");
        return;
    }
    *type++ = '\0';
    char *arg = strchr(type, ' ');
    if (arg == NULL) {
        puts("ERR expected: E|D <type> <base64>");
        return;
    }
    *arg++ = '\0';
    const ProtobufCMessageDescriptor *d = find_type(type);
    uint8_t *in;
    size_t in_len;
    if (d == NULL) {
        printf("ERR unknown type %s\n", type);
        return;
    }
    if (!sl_base64_decode(arg, strlen(arg), a, &in, &in_len)) {
        puts("ERR bad base64");
        return;
    }
    sl_err err;
    sl_err_clear(&err);
    if (line[0] == 'E') {
        ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, in_len, in);
        if (m == NULL) {
            puts("ERR protobuf-c could not unpack");
            return;
        }
        char *text;
        size_t len;
        if (sl_json_encode(m, &text, &len, &err) != SL_OK)
            printf("ERR %s\n", err.msg);
        else
            printf("OK %s\n", text);
        free(text);
        protobuf_c_message_free_unpacked(m, NULL);
        return;
    }
    ProtobufCMessage *m;
    if (sl_json_decode(d, (const char *)in, in_len, a, &m, &err) != SL_OK) {
        printf("ERR %s\n", err.msg);
        return;
    }
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *pb = sl_arena_alloc(a, n + 1);
    if (pb == NULL) {
        puts("ERR out of memory");
        return;
    }
    protobuf_c_message_pack(m, pb);
    printf("OK %s\n", sl_base64_encode(pb, n, true, a));
}

int main(void)
{
    n_types = sl_test_suite_types(types, MAX_TYPES);
    sl_arena *a = sl_arena_create(0);
    size_t cap = 0;
    char *line = NULL;
    ssize_t n;
    while (a != NULL && (n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        answer(a, line);
        fflush(stdout);
        sl_arena_reset(a);
    }
    free(line);
    sl_arena_destroy(a);
    return 0;
}
