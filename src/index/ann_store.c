/* Leaves' memory and the exact vectors kept for re-ordering: f32, f16 (IEEE
 * half, round to nearest even) or int8 with one scale per row. */
#include "ann_internal.h"
#include "core/half.h"
#include "dot_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t sl_ann_store_row_bytes(sl_ann_store store, size_t dim) {
    switch (store) {
    case SL_ANN_STORE_F32: return 4 * dim;
    case SL_ANN_STORE_F16: return 2 * dim;
    case SL_ANN_STORE_I8: return dim;
    default: return 0;
    }
}

/* Copies a leaf that lives in a mapped snapshot into memory of its own,
 * with room for `need` items, before its first change. */
static sl_status unborrow(const sl_ann *a, ann_leaf *l, size_t need) {
    ann_leaf own = {0};
    own.n = 0;
    sl_status st = sl_ann_leaf_reserve(a, &own, need > l->n ? need : l->n);
    if (st) {
        sl_ann_leaf_free(&own);
        return st;
    }
    const size_t nb = a->pq.n_blocks, row = sl_ann_store_row_bytes(a->o.store, a->dim);
    memcpy(own.ids, l->ids, l->n * sizeof *own.ids);
    if (row) memcpy(own.vecs, l->vecs, l->n * row);
    if (own.scales) memcpy(own.scales, l->scales, l->n * sizeof *own.scales);
    if (own.xnorm && l->xnorm) memcpy(own.xnorm, l->xnorm, l->n * sizeof *own.xnorm);
    free(l->xnorm); /* the leaf's own even while borrowed */
    for (size_t i = 0; i < l->n; i++)
        for (size_t b = 0; b < nb; b++) sl_lut16_set(own.packed, nb, i, b, sl_lut16_get(l->packed, nb, i, b));
    own.n = l->n;
    *l = own;
    return SL_OK;
}

sl_status sl_ann_leaf_reserve(const sl_ann *a, ann_leaf *l, size_t need) {
    if (need <= l->cap && !l->borrowed) return SL_OK;
    if (l->borrowed) return unborrow(a, l, need);
    /* An empty leaf (a build) gets exactly what it needs, rounded to whole
     * groups; a growing one doubles, so adds cost amortized O(1). */
    size_t cap = l->cap ? l->cap : (need + SL_LUT16_GROUP - 1) / SL_LUT16_GROUP * SL_LUT16_GROUP;
    if (!cap) cap = SL_LUT16_GROUP;
    while (cap < need) cap *= 2;
    const size_t nb = a->pq.n_blocks, row = sl_ann_store_row_bytes(a->o.store, a->dim);
    int64_t *ids = realloc(l->ids, cap * sizeof *ids);
    if (!ids) return sl_fail(SL_ERR_NOMEM, "index: out of memory");
    l->ids = ids;
    if (row) {
        uint8_t *v = realloc(l->vecs, cap * row);
        if (!v) return sl_fail(SL_ERR_NOMEM, "index: out of memory");
        l->vecs = v;
    }
    if (a->o.store == SL_ANN_STORE_I8) {
        float *s = realloc(l->scales, cap * sizeof *s);
        if (!s) return sl_fail(SL_ERR_NOMEM, "index: out of memory");
        l->scales = s;
    }
    if (sl_ann_has_xnorm(a)) {
        float *v = realloc(l->xnorm, cap * sizeof *v);
        if (!v) return sl_fail(SL_ERR_NOMEM, "index: out of memory");
        l->xnorm = v;
    }
    if (nb) {
        /* The packed layout belongs to lut16.c: copy code by code rather
         * than assume how a larger capacity lays groups out. */
        uint8_t *p = calloc(1, sl_lut16_packed_size(cap, nb));
        if (!p) return sl_fail(SL_ERR_NOMEM, "index: out of memory");
        for (size_t i = 0; i < l->n; i++)
            for (size_t b = 0; b < nb; b++) sl_lut16_set(p, nb, i, b, sl_lut16_get(l->packed, nb, i, b));
        free(l->packed);
        l->packed = p;
    }
    l->cap = cap;
    return SL_OK;
}

void sl_ann_leaf_free(ann_leaf *l) {
    if (l->borrowed) { /* the mapping owns the arrays, but for xnorm */
        free(l->xnorm);
        memset(l, 0, sizeof *l);
        return;
    }
    free(l->ids);
    free(l->packed);
    free(l->vecs);
    free(l->scales);
    free(l->xnorm);
    memset(l, 0, sizeof *l);
}

void sl_ann_store_put(const sl_ann *a, ann_leaf *l, size_t pos, const float *x) {
    const size_t d = a->dim;
    switch (a->o.store) {
    case SL_ANN_STORE_F32: memcpy((float *)l->vecs + pos * d, x, d * sizeof *x); break;
    case SL_ANN_STORE_F16: {
        uint16_t *h = (uint16_t *)l->vecs + pos * d;
        for (size_t j = 0; j < d; j++) h[j] = sl_f32_to_f16(x[j]);
        break;
    }
    case SL_ANN_STORE_I8: {
        float m = 0;
        for (size_t j = 0; j < d; j++) m = fmaxf(m, fabsf(x[j]));
        float s = m / 127.0f;
        int8_t *q = (int8_t *)l->vecs + pos * d;
        for (size_t j = 0; j < d; j++) q[j] = m > 0 ? (int8_t)lrintf(x[j] / s) : 0;
        l->scales[pos] = s;
        break;
    }
    default: break;
    }
}

void sl_ann_store_move(const sl_ann *a, ann_leaf *l, size_t from, size_t to) {
    const size_t row = sl_ann_store_row_bytes(a->o.store, a->dim);
    if (row) memcpy((uint8_t *)l->vecs + to * row, (const uint8_t *)l->vecs + from * row, row);
    if (l->scales) l->scales[to] = l->scales[from];
    if (l->xnorm) l->xnorm[to] = l->xnorm[from];
}

void sl_ann_store_prefetch(const sl_ann *a, const ann_leaf *l, size_t pos) {
    const size_t row = sl_ann_store_row_bytes(a->o.store, a->dim);
    const char *p = (const char *)l->vecs + pos * row;
    for (size_t o = 0; o < row; o += 64) __builtin_prefetch(p + o);
}

float sl_ann_store_score(const sl_ann *a, const ann_leaf *l, size_t pos, const float *q) {
    const size_t d = a->dim;
    const int l2 = a->o.metric == SL_ANN_L2;
    float acc = 0;
    switch (a->o.store) {
    case SL_ANN_STORE_F32: {
        const float *x = (const float *)l->vecs + pos * d;
        if (l2) acc = sl_l2sq(q, x, d);
        else sl_dot_rows(q, x, 1, d, &acc);
        break;
    }
    case SL_ANN_STORE_F16: {
        const uint16_t *h = (const uint16_t *)l->vecs + pos * d;
        if (l2) {
            acc = sl_l2sq_f16(q, h, d);
            break;
        }
        for (size_t j = 0; j < d; j++) {
            float x = sl_f16_to_f32(h[j]);
            acc += l2 ? (q[j] - x) * (q[j] - x) : q[j] * x;
        }
        break;
    }
    case SL_ANN_STORE_I8: {
        const int8_t *v = (const int8_t *)l->vecs + pos * d;
        const float s = l->scales[pos];
        for (size_t j = 0; j < d; j++) {
            float x = s * (float)v[j];
            acc += l2 ? (q[j] - x) * (q[j] - x) : q[j] * x;
        }
        break;
    }
    default: break;
    }
    return l2 ? -acc : acc;
}
