/*
 * sd_i18n: customer texts in en, fr, ru and zh (see sd_i18n.h).
 */
#include "sd_i18n.h"

#include <stdio.h>
#include <string.h>

static const char *const FR_DAYS[7] = {"lundi",    "mardi",  "mercredi", "jeudi",
                                       "vendredi", "samedi", "dimanche"};
static const char *const FR_MONTHS[12] = {"janvier",   "février", "mars",     "avril",
                                          "mai",       "juin",    "juillet",  "août",
                                          "septembre", "octobre", "novembre", "décembre"};
/* genitive, as in "19 ноября"; a Russian date ends in "г.", which also
 * ends the sentence */
static const char *const RU_MONTHS[12] = {"января",   "февраля", "марта",  "апреля",
                                          "мая",      "июня",    "июля",   "августа",
                                          "сентября", "октября", "ноября", "декабря"};
static const char *const ZH_DAYS[7] = {"星期一", "星期二", "星期三", "星期四",
                                       "星期五", "星期六", "星期日"};

void sd_i18n_date(sd_lang lang, sd_date d, char buf[SD_I18N_DATE_MAX])
{
    int y, m, day;
    sd_date_to_ymd(d, &y, &m, &day);
    sd_weekday wd = sd_date_weekday(d);
    switch (lang) {
    case SD_LANG_FR:
        /* "1er" for the first of the month, as French writes it */
        snprintf(buf, SD_I18N_DATE_MAX, "%s %d%s %s %d", FR_DAYS[wd], day, day == 1 ? "er" : "",
                 FR_MONTHS[m - 1], y);
        return;
    case SD_LANG_RU:
        snprintf(buf, SD_I18N_DATE_MAX, "%d %s %d г.", day, RU_MONTHS[m - 1], y);
        return;
    case SD_LANG_ZH:
        snprintf(buf, SD_I18N_DATE_MAX, "%d年%d月%d日（%s）", y, m, day, ZH_DAYS[wd]);
        return;
    case SD_LANG_EN:
    case SD_LANG_UNKNOWN:
        break;
    }
    char iso[SD_DATE_STR];
    sd_date_format(d, iso);
    snprintf(buf, SD_I18N_DATE_MAX, "%s", iso);
}

static bool fits(int n, size_t cap)
{
    return n >= 0 && (size_t)n < cap;
}

bool sd_i18n_wismo(sd_lang lang, const char *order_id, bool cancelled, bool moved, const char *why,
                   sd_date p50, sd_date p90, char *buf, size_t cap)
{
    char a[SD_I18N_DATE_MAX], b[SD_I18N_DATE_MAX];
    sd_i18n_date(lang, p50, a);
    sd_i18n_date(lang, p90, b);
    int n = -1;
    switch (lang) {
    case SD_LANG_FR:
        n = cancelled
                ? snprintf(buf, cap, "La commande %s a été annulée.", order_id)
                : snprintf(buf, cap, "Commande %s%s : livraison prévue le %s, au plus tard le %s.",
                           order_id, moved ? " (elle a pris du retard)" : "", a, b);
        break;
    case SD_LANG_RU:
        n = cancelled ? snprintf(buf, cap, "Заказ %s отменён.", order_id)
                      : snprintf(buf, cap, "Заказ %s%s: доставка ожидается %s, не позднее %s",
                                 order_id, moved ? " задерживается" : "", a, b);
        break;
    case SD_LANG_ZH:
        n = cancelled ? snprintf(buf, cap, "订单 %s 已取消。", order_id)
                      : snprintf(buf, cap, "订单 %s%s：预计%s送达，最晚%s。", order_id,
                                 moved ? " 已延迟" : "", a, b);
        break;
    case SD_LANG_EN:
    case SD_LANG_UNKNOWN:
        n = cancelled ? snprintf(buf, cap, "Order %s was cancelled.", order_id)
                      : snprintf(buf, cap, "Order %s: %s. Delivery expected %s, at the latest %s.",
                                 order_id, why != NULL ? why : "", a, b);
        break;
    }
    return fits(n, cap);
}

bool sd_i18n_delay(sd_lang lang, const char *order_id, const char *english, sd_date old_p50,
                   sd_date new_p50, sd_date new_p90, const char *reason, char *buf, size_t cap)
{
    char o[SD_I18N_DATE_MAX], a[SD_I18N_DATE_MAX], b[SD_I18N_DATE_MAX];
    sd_i18n_date(lang, old_p50, o);
    sd_i18n_date(lang, new_p50, a);
    sd_i18n_date(lang, new_p90, b);
    bool why = reason != NULL && reason[0] != '\0';
    const char *r = why ? reason : "";
    int n = -1;
    switch (lang) {
    case SD_LANG_FR:
        n = snprintf(buf, cap,
                     "Votre commande %s est retardée : livraison prévue le %s au lieu du %s, "
                     "au plus tard le %s.%s%s%s",
                     order_id, a, o, b, why ? " Motif : " : "", r, why ? "." : "");
        break;
    case SD_LANG_RU:
        n = snprintf(buf, cap,
                     "Ваш заказ %s задерживается: доставка ожидается %s вместо %s, не позднее "
                     "%s%s%s%s",
                     order_id, a, o, b, why ? " Причина: " : "", r, why ? "." : "");
        break;
    case SD_LANG_ZH:
        n = snprintf(buf, cap, "您的订单 %s 已延迟：预计%s送达（原定%s），最晚%s。%s%s%s", order_id,
                     a, o, b, why ? "原因：" : "", r, why ? "。" : "");
        break;
    case SD_LANG_EN:
    case SD_LANG_UNKNOWN:
        n = snprintf(buf, cap, "%s", english != NULL ? english : "");
        break;
    }
    return fits(n, cap);
}
