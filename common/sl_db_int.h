/*
 * sl_db_int.h: what the PostgreSQL modules of common/ (sl_db, sl_migrate,
 * sl_outbox, sl_cursor) share and services do not see.
 */
#ifndef SL_DB_INT_H
#define SL_DB_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_db.h"

/* Advisory lock classes: the first key of the two-key form.  The (int, int)
 * key space is separate from the bigint one, and a fixed class per purpose
 * keeps our locks apart from each other and from anything else using
 * advisory locks in the same database.  Strings, because they are pasted
 * into statement text ("SL" in the high bytes). */
#define SL__LOCK_CLASS_SESSION "1397489665"   /* 0x534C0001: sl_db_try_lock_session */
#define SL__LOCK_CLASS_MIGRATE "1397489666"   /* 0x534C0002: sl_migrate_apply */
#define SL__LOCK_CLASS_SEQUENCER "1397489667" /* 0x534C0003: sl_outbox_sequence */

/* The library's statement tables, registered by sl_db_open. */
extern const sl_db_stmt sl__migrate_stmts[];
extern const sl_db_stmt sl__outbox_stmts[];
extern const sl_db_stmt sl__cursor_stmts[];

/* The NOTIFY channel of a schema's outbox, "<schema>_outbox", into buf
 * (at least 64 bytes).  Returns false if it does not fit. */
bool sl__outbox_channel(const char *schema, char *buf, size_t cap);

#endif
