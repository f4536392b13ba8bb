/* Adding and removing items without a rebuild, and the id -> place map. */
#include "ann_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX

static sl_status map_alloc(ann_map *m, size_t slots) {
    m->slots = sl_malloc_array(slots, sizeof *m->slots);
    if (!m->slots) return sl_fail(SL_ERR_NOMEM, "index: out of memory for the id map");
    for (size_t i = 0; i < slots; i++) m->slots[i].leaf = EMPTY;
    m->mask = slots - 1;
    m->used = 0;
    return SL_OK;
}

sl_status sl_ann_map_init(ann_map *m, size_t expected) {
    size_t slots = 16;
    while (slots < 2 * expected) slots *= 2;
    return map_alloc(m, slots);
}

void sl_ann_map_free(ann_map *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

ann_slot *sl_ann_map_find(const ann_map *m, int64_t id) {
    if (!m->slots) return NULL;
    for (size_t p = sl_ann_id_slot(id, m->mask);; p = (p + 1) & m->mask) {
        ann_slot *s = &m->slots[p];
        if (s->leaf == EMPTY) return NULL;
        if (s->id == id) return s;
    }
}

static sl_status map_grow(ann_map *m) {
    ann_map bigger;
    sl_status st = map_alloc(&bigger, 2 * (m->mask + 1));
    if (st) return st;
    for (size_t i = 0; i <= m->mask; i++) {
        const ann_slot *s = &m->slots[i];
        if (s->leaf == EMPTY) continue;
        size_t p = sl_ann_id_slot(s->id, bigger.mask);
        while (bigger.slots[p].leaf != EMPTY) p = (p + 1) & bigger.mask;
        bigger.slots[p] = *s;
        bigger.used++;
    }
    free(m->slots);
    *m = bigger;
    return SL_OK;
}

sl_status sl_ann_map_put(ann_map *m, int64_t id, uint32_t leaf, uint32_t pos) {
    if (2 * (m->used + 1) > m->mask + 1) {
        sl_status st = map_grow(m);
        if (st) return st;
    }
    size_t p = sl_ann_id_slot(id, m->mask);
    for (; m->slots[p].leaf != EMPTY; p = (p + 1) & m->mask)
        if (m->slots[p].id == id) return sl_fail(SL_ERR_ARG, "index: id %lld is already present", (long long)id);
    m->slots[p] = (ann_slot){id, leaf, pos};
    m->used++;
    return SL_OK;
}

/* Backward-shift deletion: later entries of the probe run move up into the
 * hole when their home slot allows, so no tombstone is ever left. */
void sl_ann_map_del(ann_map *m, int64_t id) {
    ann_slot *s = sl_ann_map_find(m, id);
    if (!s) return;
    size_t hole = (size_t)(s - m->slots);
    for (size_t p = (hole + 1) & m->mask; m->slots[p].leaf != EMPTY; p = (p + 1) & m->mask) {
        size_t home = sl_ann_id_slot(m->slots[p].id, m->mask);
        /* p's entry may fill the hole when its home is not in (hole, p] */
        int between = hole < p ? (home > hole && home <= p) : (home > hole || home <= p);
        if (between) continue;
        m->slots[hole] = m->slots[p];
        hole = p;
    }
    m->slots[hole].leaf = EMPTY;
    m->used--;
}

sl_status sl_ann_add(sl_ann *a, const float *x, const int64_t *ids, size_t n) {
    if (!a || (n && (!x || !ids))) return sl_fail(SL_ERR_ARG, "index add: NULL argument");
    for (size_t i = 0; i < n; i++) {
        if (sl_ann_map_find(&a->map, ids[i]))
            return sl_fail(SL_ERR_ARG, "index add: id %lld is already present", (long long)ids[i]);
        for (size_t j = 0; j < a->dim; j++)
            if (!isfinite(x[i * a->dim + j]))
                return sl_fail(SL_ERR_ARG, "index add: vector of id %lld is not finite", (long long)ids[i]);
    }
    const size_t nb = a->pq.n_blocks;
    uint8_t codes[4096];
    if (nb > sizeof codes) return sl_fail(SL_ERR_LIMIT, "index add: too many blocks");
    for (size_t i = 0; i < n; i++) {
        const float *v = x + i * a->dim;
        uint32_t leaf = a->centres ? sl_ann_nearest_leaf(a, v) : 0;
        sl_status st = SL_OK;
        if (nb) st = sl_ann_encode(a, v, &leaf, 1, codes);
        ann_leaf *l = &a->leaves[leaf];
        if (!st) st = sl_ann_leaf_reserve(a, l, l->n + 1);
        if (!st) st = sl_ann_map_put(&a->map, ids[i], leaf, (uint32_t)l->n);
        if (st) return st;
        size_t pos = l->n++;
        l->ids[pos] = ids[i];
        for (size_t b = 0; b < nb; b++) sl_lut16_set(l->packed, nb, pos, b, codes[b]);
        sl_ann_store_put(a, l, pos, v);
        if (l->xnorm) l->xnorm[pos] = sl_ann_item_norm(a, leaf, codes);
        a->count++;
    }
    return SL_OK;
}

sl_status sl_ann_remove(sl_ann *a, const int64_t *ids, size_t n, size_t *missing) {
    if (missing) *missing = 0;
    if (!a || (n && !ids)) return sl_fail(SL_ERR_ARG, "index remove: NULL argument");
    const size_t nb = a->pq.n_blocks;
    for (size_t i = 0; i < n; i++) {
        ann_slot *s = sl_ann_map_find(&a->map, ids[i]);
        if (!s) {
            if (missing) (*missing)++;
            continue;
        }
        ann_leaf *l = &a->leaves[s->leaf];
        /* a leaf still in a mapped snapshot is copied out before its first change */
        sl_status st = sl_ann_leaf_reserve(a, l, l->n);
        if (st) return st;
        size_t pos = s->pos, last = l->n - 1;
        sl_ann_map_del(&a->map, ids[i]); /* s is invalid from here */
        if (pos != last) { /* the last item fills the hole: scans stay dense */
            l->ids[pos] = l->ids[last];
            for (size_t b = 0; b < nb; b++) sl_lut16_set(l->packed, nb, pos, b, sl_lut16_get(l->packed, nb, last, b));
            sl_ann_store_move(a, l, last, pos);
            sl_ann_map_find(&a->map, l->ids[pos])->pos = (uint32_t)pos;
        }
        for (size_t b = 0; b < nb; b++) sl_lut16_set(l->packed, nb, last, b, 0);
        l->n--;
        a->count--;
    }
    return SL_OK;
}

double sl_ann_imbalance(const sl_ann *a) {
    if (!a || !a->n_leaves || a->build_mean_leaf <= 0) return 1.0;
    size_t most = 0;
    for (uint32_t p = 0; p < a->n_leaves; p++)
        if (a->leaves[p].n > most) most = a->leaves[p].n;
    return (double)most / a->build_mean_leaf;
}
