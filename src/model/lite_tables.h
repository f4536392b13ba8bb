/* Curated label tables of the lite encoder (see lite_tables.c). */
#ifndef SL_MODEL_LITE_TABLES_H
#define SL_MODEL_LITE_TABLES_H

#include <stddef.h>

/* Remove `synonym` (exact, case-sensitive) from class k; when `add` is not
 * NULL, append it instead. */
typedef struct sl_lite_drop {
    int k;
    const char *synonym;
    const char *add;
} sl_lite_drop;

/* Append `word` as a synonym to every class in the inclusive ranges. */
typedef struct sl_lite_hyper {
    const char *word;
    int n_ranges;
    int ranges[16][2];
} sl_lite_hyper;

extern const sl_lite_drop sl_lite_drops[];
extern const size_t sl_lite_n_drops;
extern const sl_lite_hyper sl_lite_hypers[];
extern const size_t sl_lite_n_hypers;

int sl_lite_hyper_contains(const sl_lite_hyper *h, int k);

#endif
