/*
 * sd_classify: what a support ticket is about, in which language, and which
 * orders and SKUs it mentions -- for OpenTicket's routing, priority (with
 * sd_sla) and suggested answers.
 *
 * The classifier is a complement naive Bayes model (Rennie et al., 2003)
 * over binary features (each counts once per ticket), trained at start-up
 * from a
 * labelled set compiled into the library (data/tickets_train.tsv, 448
 * tickets in English, French, Russian and Chinese) plus a hand-written
 * keyword lexicon (data/tickets_lexicon.tsv) whose terms act as
 * pseudo-counts -- an informative prior, so that a word no training ticket
 * used still counts when the lexicon knows it.  Either can be replaced by
 * the caller's.  Naive Bayes because it learns well from a few hundred
 * examples, trains in milliseconds with no tuning loop, and its features
 * can be read back when a decision looks wrong.  The features, from subject
 * and body alike:
 *  - words of alphabetic scripts (Latin, Cyrillic), case-folded (Unicode
 *    simple folding for Latin-1, Latin Extended-A's French letters and
 *    Cyrillic), Latin accents stripped ("reçu" = "recu", "œ" = "oe"),
 *    Cyrillic "ё" read as "е"; each word whole and, as a light stemmer,
 *    by its first five letters, so "remboursement" and "rembourser",
 *    "доставка" and "доставки" share a feature;
 *  - for Chinese, which has no spaces, every Han character and every pair
 *    of adjacent Han characters;
 *  - shapes: numbers, codes mixing letters and digits (promo codes),
 *    amounts of money, and order ids or SKUs (see sd_extract_mentions).
 * Only the first SD_CLASSIFY_MAX_BYTES of subject and of body are read, so
 * a pasted 10 MB log costs no more than a long e-mail.
 *
 * A trained classifier is immutable: any number of threads may classify
 * with it at once.
 */
#ifndef SD_CLASSIFY_H
#define SD_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_status.h"

/* Bytes of subject, and of body, a classification reads. */
#define SD_CLASSIFY_MAX_BYTES 16384

/* X(enum suffix, name in the API and the training files) */
#define SD_CATEGORY_LIST(X)                                                                        \
    X(WHERE_IS_MY_ORDER, "where_is_my_order")                                                      \
    X(DELIVERY_DELAY, "delivery_delay")                                                            \
    X(RETURN_REFUND, "return_refund")                                                              \
    X(DAMAGED_ITEM, "damaged_item")                                                                \
    X(OUT_OF_STOCK, "out_of_stock")                                                                \
    X(PAYMENT, "payment")                                                                          \
    X(OTHER, "other")

/*
 * What a ticket is about:
 *  WHERE_IS_MY_ORDER  status, tracking, when it ships or arrives -- with no
 *                     complaint that it is late;
 *  DELIVERY_DELAY     late against the promised date, stuck in transit,
 *                     postponed, compensation for lateness;
 *  RETURN_REFUND      returns, exchanges, cancellations, refund status;
 *  DAMAGED_ITEM       broken, defective, expired, incomplete or wrong item
 *                     received;
 *  OUT_OF_STOCK       availability, restocking, sold out, pre-orders,
 *                     requests for products not sold (unmet demand);
 *  PAYMENT            charges, declined or failed payments, promo codes,
 *                     invoices, payment methods;
 *  OTHER              everything else (account, data, newsletters, stores,
 *                     feedback).
 */
typedef enum sd_category {
#define SD__CATEGORY_ENUM(name, str) SD_CATEGORY_##name,
    SD_CATEGORY_LIST(SD__CATEGORY_ENUM)
#undef SD__CATEGORY_ENUM
} sd_category;

#define SD_CATEGORY_COUNT 7

/* The category's name, e.g. "return_refund"; "unknown" outside the list.
 * Static storage. */
const char *sd_category_name(sd_category c);

/* Parses a category name (exact, lower case).  Fails with
 * SL_INVALID_ARGUMENT quoting the value. */
sl_status sd_category_parse(const char *name, sd_category *out, sl_err *err);

/* X(enum suffix, ISO 639-1 code) */
#define SD_LANG_LIST(X)                                                                            \
    X(UNKNOWN, "und")                                                                              \
    X(EN, "en")                                                                                    \
    X(FR, "fr")                                                                                    \
    X(RU, "ru")                                                                                    \
    X(ZH, "zh")

typedef enum sd_lang {
#define SD__LANG_ENUM(name, code) SD_LANG_##name,
    SD_LANG_LIST(SD__LANG_ENUM)
#undef SD__LANG_ENUM
} sd_lang;

/* "en", "fr", "ru", "zh", or "und" for SD_LANG_UNKNOWN.  Static storage. */
const char *sd_lang_name(sd_lang l);

/*
 * Reads a BCP 47 language tag ("fr", "fr-CA", "zh-Hans-CN", "RU"; case
 * does not matter).  NULL or "" and well-formed tags of other languages
 * give SD_LANG_UNKNOWN, which tells sd_classify to detect the language.
 * Fails with SL_INVALID_ARGUMENT, quoting the value, when the tag is
 * malformed (not letters and digits in hyphen-separated subtags, the first
 * of 2..3 letters).
 */
sl_status sd_lang_parse(const char *tag, sd_lang *out, sl_err *err);

/*
 * The language text[0..len) is written in, from its scripts (Han is
 * Chinese, Cyrillic Russian, Latin English or French) and, for Latin
 * text, French and English function words and French accents.  A mixed
 * text goes to the script with the most words, a Han character counting
 * as one (Chinese tickets often carry Latin product names and ids).  SD_LANG_UNKNOWN when there are
 * no letters.  *confidence (when not NULL) gets the winner's share of the evidence, 0..1.
 */
sd_lang sd_lang_detect(const char *text, size_t len, double *confidence);

/* ---- the classifier ----------------------------------------------------- */

typedef struct sd_classifier sd_classifier;

/*
 * Trains a classifier on the tickets in tsv[0..len): lines "language<TAB>
 * category<TAB>subject<TAB>body" (UTF-8), and on an optional keyword
 * lexicon in lexicon[0..lexicon_len) (NULL for none): lines "language<TAB>
 * category<TAB>term, term, ...", each term adding pseudo-counts to its
 * category as if a few more tickets of it had used the term.  In both,
 * empty lines and lines starting with '#' are skipped.  On success *out is
 * owned by the caller (sd_classifier_free) and refers to neither text.
 * Fails with SL_INVALID_ARGUMENT naming the file and line ("training set:
 * line 12: unknown category \"x\"", a wrong field count, a malformed
 * language), SL_FAILED_PRECONDITION when some category has no training
 * ticket, SL_RESOURCE_EXHAUSTED when out of memory.
 */
sl_status sd_classifier_train(const char *tsv, size_t len, const char *lexicon, size_t lexicon_len,
                              sd_classifier **out, sl_err *err);

/* sd_classifier_train on the training set and lexicon compiled into the
 * library (services/service_desk/data/). */
sl_status sd_classifier_new_default(sd_classifier **out, sl_err *err);

/* NULL is a no-op. */
void sd_classifier_free(sd_classifier *c);

typedef struct sd_classification {
    sd_category category;
    double confidence;                /* scores[category] */
    double scores[SD_CATEGORY_COUNT]; /* every category's score, softmax-normalised to
                                         sum to 1: a ranking, not a calibrated
                                         probability */
    sd_lang language;                 /* as given, or detected */
    bool language_detected;           /* language came from sd_lang_detect */
    size_t features;                  /* known features the decision rests on */
} sd_classification;

/*
 * Classifies a ticket.  subject and body are UTF-8 (NULL reads as ""; bytes
 * that are not valid UTF-8 are skipped).  lang is the ticket's language if
 * known, else SD_LANG_UNKNOWN to detect it from subject and body; it is
 * reported, not used to classify (the features of the four languages do
 * not overlap).  A ticket with no known feature -- empty, or in a language
 * the training set does not cover -- is OTHER with features 0.  Fails with
 * SL_INVALID_ARGUMENT when c or out is NULL or lang is out of range.
 * Allocates only for long tickets (over about a thousand words).
 */
sl_status sd_classify(const sd_classifier *c, const char *subject, const char *body, sd_lang lang,
                      sd_classification *out, sl_err *err);

/* ---- mentions ------------------------------------------------------------ */

#define SD_MENTIONS_MAX 8
#define SD_MENTION_LEN 65 /* ids are 1..64 bytes */

/* Order ids and SKUs a text mentions, each list in order of first mention,
 * without duplicates, at most SD_MENTIONS_MAX each. */
typedef struct sd_mentions {
    size_t n_orders, n_skus;
    char orders[SD_MENTIONS_MAX][SD_MENTION_LEN];
    char skus[SD_MENTIONS_MAX][SD_MENTION_LEN];
} sd_mentions;

/*
 * Finds order ids and SKUs in text[0..len):
 *  - "ORD-12345", "ord 12345", "ORD_12345" (ORD, an optional '-', '_' or
 *    space, then 3..61 letters and digits with at least one digit) give
 *    "ORD-12345";
 *  - a number of 4..20 digits right after an order word ("order",
 *    "commande", "заказ" in any case ending, "订单", optionally with "#",
 *    "№", "n°", "no", "number", "numéro", "номер", "号" or ':' between)
 *    gives the digits;
 *  - "SKU-44120" gives "SKU-44120"; "SKU 44120", "SKU: AB-12", "артикул
 *    44120", "货号44120" give the code ("44120", "AB-12").
 * Matching ignores case; results are upper case.  Never fails.
 */
void sd_extract_mentions(const char *text, size_t len, sd_mentions *out);

#endif
