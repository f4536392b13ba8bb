/* Which ids an index holds (the library's snapshot refresh compares them
 * with the catalog's). */
#include "ann_internal.h"

int sl_ann_contains(const sl_ann *a, int64_t id) { return a && sl_ann_map_find(&a->map, id) != NULL; }

size_t sl_ann_ids(const sl_ann *a, int64_t *out) {
    size_t m = 0;
    for (uint32_t p = 0; a && p < a->n_leaves; p++) {
        const ann_leaf *l = &a->leaves[p];
        for (size_t i = 0; i < l->n; i++) out[m++] = l->ids[i];
    }
    return m;
}
