/*
 * sd_i18n: what the desk writes to customers, in their language -- the
 * where-is-my-order suggested answer and the DELAY notice -- in English,
 * French, Russian and Chinese (sd_classify's languages), with dates as
 * each language writes them:
 *   en  2026-11-19                     (as before: agents' tools parse it)
 *   fr  jeudi 19 novembre 2026
 *   ru  19 ноября 2026 г.
 *   zh  2026年11月19日（星期四）
 * SD_LANG_UNKNOWN reads as English.  Pure functions: no allocation.
 *
 * The English texts keep the engine's explanation (sd_eta_describe_*),
 * which is English only; the other languages say the same facts -- the
 * order, whether it is late, the expected and latest delivery dates, the
 * supplier's delay reason as given -- in their own sentence.
 */
#ifndef SD_I18N_H
#define SD_I18N_H

#include <stdbool.h>
#include <stddef.h>

#include "sd_classify.h"
#include "sd_time.h"

/* Room for any date sd_i18n_date writes, with its NUL. */
#define SD_I18N_DATE_MAX 64

/* d as lang writes it (the forms above) into buf. */
void sd_i18n_date(sd_lang lang, sd_date d, char buf[SD_I18N_DATE_MAX]);

/*
 * The suggested answer to "where is my order" into buf (cap bytes):
 *   en  "Order o-1: <why>. Delivery expected 2026-11-19, at the latest
 *        2026-11-20."
 *   fr  "Commande o-1 : livraison prévue le jeudi 19 novembre 2026, au plus
 *        tard le vendredi 20 novembre 2026."  ("... a pris du retard ;
 *        livraison ..." when moved)
 * and likewise ru and zh; cancelled orders say so instead.  why (English)
 * is used by en only.  Returns false when cap is too small.
 */
bool sd_i18n_wismo(sd_lang lang, const char *order_id, bool cancelled, bool moved, const char *why,
                   sd_date p50, sd_date p90, char *buf, size_t cap);

/*
 * The DELAY notice of an order whose delivery moved from old_p50 to
 * new_p50 (at the latest new_p90), into buf: en is english (the engine's
 * sentence, given); the others are
 *   fr  "Votre commande o-1 est retardée : livraison prévue le ... au lieu
 *        du ..., au plus tard le .... Motif : <reason>."
 * reason may be NULL or "" (no "Motif").  Returns false when cap is too
 * small.
 */
bool sd_i18n_delay(sd_lang lang, const char *order_id, const char *english, sd_date old_p50,
                   sd_date new_p50, sd_date new_p90, const char *reason, char *buf, size_t cap);

#endif
