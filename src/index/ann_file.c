/* Snapshot files of the searcher index: saving writes every array of the
 * index in leaf order into 64-byte aligned, CRC-32 checksummed sections;
 * loading validates the file as hostile input and then points the index's
 * arrays into it (no copies). docs/FORMAT.md is the specification: it says
 * what the bytes are; the comments here say why a check is made. The
 * container (header, section table, alignment, CRCs, padding) is
 * src/core/sections.c; this file says what the sections hold. */
#include "ann_file.h"
#include "ann_internal.h"

#include "core/sections.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAGIC "SLANNIDX"
enum {
    FILE_VERSION = 1,
    OPTS_SIZE = 128, /* the options section */
    LEAF_ENTRY = 16  /* u64 count, u64 first item */
};
/* The build's own limits (ann_build.c): a file beyond them could not have
 * been built, and the add path keeps n_blocks codes on the stack. */
#define MAX_DIM 65536u
#define MAX_BLOCKS 4096u

/* Every field of sl_ann_opts is in the options section. A new field must
 * be added to the format (and docs/FORMAT.md) deliberately: this assert
 * is there to make a changed struct fail the build here, not silently
 * round-trip without the new field. */
#if SIZE_MAX == UINT64_MAX
_Static_assert(sizeof(sl_ann_opts) == 72, "sl_ann_opts changed: update ann_file.c and docs/FORMAT.md");
#endif

/* In the order of docs/FORMAT.md, which is the order the writer lays them
 * out in. */
enum { S_OPTS, S_CENT, S_CNRM, S_CODB, S_LEAF, S_IDS, S_CODE, S_VECS, S_SCAL, S_COUNT };
static const sl_section_kind KINDS[S_COUNT] = {
    {"OPTS", "options"}, {"CENT", "centres"}, {"CNRM", "centre norms"}, {"CODB", "codebooks"}, {"LEAF", "leaves"},
    {"IDS ", "ids"},     {"CODE", "codes"},   {"VECS", "vectors"},      {"SCAL", "scales"}};
static const sl_sections_spec SPEC = {"index file", FILE_MAGIC, FILE_VERSION, KINDS, S_COUNT};

/* "index file: section 'CENT' (centres): <why>" */
#define sec_fail(st, s, ...) sl_section_fail(&SPEC, (s), (st), __VA_ARGS__)

/* The floats' bits, little-endian like every field (sections.h). */
static void put_f32(uint8_t *p, float f) {
    uint32_t v;
    memcpy(&v, &f, 4);
    sl_put_u32(p, v);
}
static void put_f64(uint8_t *p, double f) {
    uint64_t v;
    memcpy(&v, &f, 8);
    sl_put_u64(p, v);
}
static float get_f32(const uint8_t *p) {
    uint32_t v = sl_get_u32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}
static double get_f64(const uint8_t *p) {
    uint64_t v = sl_get_u64(p);
    double f;
    memcpy(&f, &v, 8);
    return f;
}

static uint64_t groups_of(uint64_t n) { return n / SL_LUT16_GROUP + (n % SL_LUT16_GROUP != 0); }

/* ---- what an index needs ---------------------------------------------------
 * The same function decides the sections for saving and for checking a
 * loaded file, so the two cannot disagree. */

typedef struct shape {
    int brute;
    sl_ann_store store;
    uint64_t dim, count, n_leaves, n_blocks, dpb, row;
} shape;

static void required(const shape *s, int need[S_COUNT]) {
    for (int i = 0; i < S_COUNT; i++) need[i] = 0;
    need[S_OPTS] = need[S_LEAF] = need[S_IDS] = 1;
    need[S_CENT] = need[S_CNRM] = need[S_CODB] = need[S_CODE] = !s->brute;
    need[S_VECS] = s->store != SL_ANN_STORE_NONE;
    need[S_SCAL] = s->store == SL_ANN_STORE_I8;
}

/* Sizes of every section but the codes (which depend on the leaves); 0 on
 * overflow of uint64 (no real index gets near it: the check is for files). */
static int fixed_sizes(const shape *s, uint64_t size[S_COUNT]) {
    uint64_t t;
    memset(size, 0, S_COUNT * sizeof *size);
    size[S_OPTS] = OPTS_SIZE;
    if (__builtin_mul_overflow(s->n_leaves, s->dim, &t) || __builtin_mul_overflow(t, 4, &size[S_CENT]) ||
        __builtin_mul_overflow(s->n_leaves, 4, &size[S_CNRM]) ||
        __builtin_mul_overflow(s->n_blocks, 16 * 4, &t) || __builtin_mul_overflow(t, s->dpb, &size[S_CODB]) ||
        __builtin_mul_overflow(s->n_leaves, LEAF_ENTRY, &size[S_LEAF]) ||
        __builtin_mul_overflow(s->count, 8, &size[S_IDS]) ||
        __builtin_mul_overflow(s->count, s->row, &size[S_VECS]) ||
        __builtin_mul_overflow(s->count, 4, &size[S_SCAL]))
        return 0;
    return 1;
}

/* ---- saving ------------------------------------------------------------- */

static void write_opts(const sl_ann *a, uint8_t *p) {
    const sl_ann_opts *o = &a->o;
    sl_put_u32(p + 0, (uint32_t)o->metric);
    sl_put_u32(p + 4, (uint32_t)o->store);
    sl_put_u32(p + 8, (uint32_t)o->brute_force);
    sl_put_u32(p + 12, (uint32_t)o->spherical);
    sl_put_u32(p + 16, o->num_leaves);
    sl_put_u32(p + 20, o->num_leaves_to_search);
    sl_put_u64(p + 24, (uint64_t)o->training_sample_size);
    sl_put_u32(p + 32, (uint32_t)o->kmeans_iters);
    sl_put_u32(p + 36, (uint32_t)o->ah_iters);
    sl_put_u32(p + 40, o->dims_per_block);
    put_f32(p + 44, o->aniso_threshold);
    sl_put_u32(p + 48, o->reorder_k);
    sl_put_u32(p + 52, (uint32_t)o->n_threads);
    sl_put_u64(p + 56, o->seed);
    sl_put_u64(p + 64, (uint64_t)a->dim);
    sl_put_u64(p + 72, (uint64_t)a->count);
    sl_put_u32(p + 80, a->n_leaves);
    sl_put_u32(p + 84, (uint32_t)a->pq.n_blocks);
    sl_put_u32(p + 88, (uint32_t)a->pq.dpb);
    put_f32(p + 92, a->eta);
    put_f64(p + 96, a->build_mean_leaf);
    /* 104..127 reserved: the buffer is zeroed */
}

sl_status sl_ann_save_buffer(const sl_ann *a, uint8_t **data, size_t *size) {
    if (!data || !size) return sl_fail(SL_ERR_ARG, "index save: NULL output");
    *data = NULL;
    *size = 0;
    if (!a) return sl_fail(SL_ERR_ARG, "index save: NULL index");
    shape s = {a->o.brute_force != 0, a->o.store, a->dim, a->count, a->n_leaves, a->pq.n_blocks, a->pq.dpb,
               sl_ann_store_row_bytes(a->o.store, a->dim)};
    int need[S_COUNT];
    uint64_t sz[S_COUNT], off[S_COUNT] = {0};
    required(&s, need);
    if (!fixed_sizes(&s, sz) || s.n_blocks > UINT32_MAX || s.dpb > UINT32_MAX)
        return sl_fail(SL_ERR_LIMIT, "index save: the index is too large for the file format");
    uint64_t code_bytes = 0, group_bytes = 16 * s.n_blocks;
    for (uint32_t p = 0; p < a->n_leaves; p++) code_bytes += groups_of(a->leaves[p].n) * group_bytes;
    sz[S_CODE] = code_bytes;

    /* In the order of KINDS; the sections are filled in place below. */
    sl_section_in sec[S_COUNT];
    size_t n_sec = 0;
    for (int i = 0; i < S_COUNT; i++)
        if (need[i]) sec[n_sec++] = (sl_section_in){KINDS[i].tag, NULL, sz[i], 0};
    uint64_t pos;
    if (sl_sections_layout(sec, n_sec, &pos)) /* 9 distinct tags: only the sum can fail */
        return sl_fail(SL_ERR_LIMIT, "index save: the index is too large for the file format");
    for (size_t i = 0, k = 0; k < S_COUNT; k++)
        if (need[k]) off[k] = sec[i++].offset;
    if (pos > SIZE_MAX) return sl_fail(SL_ERR_LIMIT, "index save: %llu bytes do not fit in memory", (unsigned long long)pos);
    uint8_t *buf = calloc(1, (size_t)pos); /* zeroed: padding and reserved fields are 0 */
    if (!buf) return sl_fail(SL_ERR_NOMEM, "index save: cannot allocate %llu bytes", (unsigned long long)pos);

    write_opts(a, buf + off[S_OPTS]);
    if (!s.brute) {
        memcpy(buf + off[S_CENT], a->centres, sz[S_CENT]);
        memcpy(buf + off[S_CNRM], a->centre_norm2, sz[S_CNRM]);
        memcpy(buf + off[S_CODB], a->pq.centres, sz[S_CODB]);
    }
    uint64_t first = 0, code_at = 0;
    for (uint32_t p = 0; p < a->n_leaves; p++) {
        const ann_leaf *l = &a->leaves[p];
        sl_put_u64(buf + off[S_LEAF] + (uint64_t)p * LEAF_ENTRY, l->n);
        sl_put_u64(buf + off[S_LEAF] + (uint64_t)p * LEAF_ENTRY + 8, first);
        if (l->n) { /* an empty leaf may have no arrays at all */
            memcpy(buf + off[S_IDS] + first * 8, l->ids, l->n * 8);
            if (s.row) memcpy(buf + off[S_VECS] + first * s.row, l->vecs, l->n * s.row);
            if (need[S_SCAL]) memcpy(buf + off[S_SCAL] + first * 4, l->scales, l->n * 4);
            if (need[S_CODE]) {
                /* Whole groups are copied; the slots past n in the last one
                 * are cleared so the bytes depend on the items only (they
                 * are already 0 in memory, but that is not the file's
                 * business). */
                uint8_t *dst = buf + off[S_CODE] + code_at;
                const size_t g = (size_t)groups_of(l->n), nb = (size_t)s.n_blocks;
                memcpy(dst, l->packed, g * group_bytes);
                for (size_t i = l->n; i < g * SL_LUT16_GROUP; i++)
                    for (size_t b = 0; b < nb; b++) sl_lut16_set(dst, nb, i, b, 0);
                code_at += g * group_bytes;
            }
        }
        first += l->n;
    }

    sl_sections_seal(buf, pos, FILE_MAGIC, FILE_VERSION, sec, n_sec);
    *data = buf;
    *size = (size_t)pos;
    return SL_OK;
}

sl_status sl_ann_save(const sl_ann *a, const char *path) {
    if (!path) return sl_fail(SL_ERR_ARG, "index save: NULL path");
    uint8_t *data;
    size_t size;
    sl_status st = sl_ann_save_buffer(a, &data, &size);
    if (!st) st = sl_file_write_atomic(path, data, size);
    free(data);
    return st ? sl_fail_prefix(st, path) : SL_OK;
}

/* ---- loading ------------------------------------------------------------ */

/* Options section -> a->o, a->dim, ...; sh gets the shape the other
 * sections are checked against. */
static sl_status read_opts(const uint8_t *p, sl_ann *a, shape *sh) {
    sl_ann_opts *o = &a->o;
    uint32_t metric = sl_get_u32(p), store = sl_get_u32(p + 4);
    if (metric > SL_ANN_L2) return sec_fail(SL_ERR_CORRUPT, S_OPTS, "metric %u is not 0 (dot) or 1 (L2)", metric);
    if (store > SL_ANN_STORE_I8) return sec_fail(SL_ERR_CORRUPT, S_OPTS, "store %u is not 0..3", store);
    o->metric = (sl_ann_metric)metric;
    o->store = (sl_ann_store)store;
    o->brute_force = (int)sl_get_u32(p + 8);
    o->spherical = (int)sl_get_u32(p + 12);
    o->num_leaves = sl_get_u32(p + 16);
    o->num_leaves_to_search = sl_get_u32(p + 20);
    uint64_t tss = sl_get_u64(p + 24);
    if (tss > SIZE_MAX) return sec_fail(SL_ERR_LIMIT, S_OPTS, "training_sample_size %llu does not fit", (unsigned long long)tss);
    o->training_sample_size = (size_t)tss;
    o->kmeans_iters = (int)sl_get_u32(p + 32);
    o->ah_iters = (int)sl_get_u32(p + 36);
    o->dims_per_block = sl_get_u32(p + 40);
    o->aniso_threshold = get_f32(p + 44);
    o->reorder_k = sl_get_u32(p + 48);
    o->n_threads = (int)sl_get_u32(p + 52);
    o->seed = sl_get_u64(p + 56);
    uint64_t dim = sl_get_u64(p + 64), count = sl_get_u64(p + 72);
    uint32_t n_leaves = sl_get_u32(p + 80), n_blocks = sl_get_u32(p + 84), dpb = sl_get_u32(p + 88);
    float eta = get_f32(p + 92);
    double mean = get_f64(p + 96);
    if (!sl_all_zero(p + 104, OPTS_SIZE - 104)) return sec_fail(SL_ERR_CORRUPT, S_OPTS, "reserved bytes 104..127 are not zero");
    if (!dim) return sec_fail(SL_ERR_CORRUPT, S_OPTS, "dim is 0");
    if (dim > MAX_DIM) return sec_fail(SL_ERR_LIMIT, S_OPTS, "dim %llu above %u", (unsigned long long)dim, MAX_DIM);
    if (!n_leaves || n_leaves != o->num_leaves)
        return sec_fail(SL_ERR_CORRUPT, S_OPTS, "n_leaves %u (num_leaves %u): must be equal and at least 1", n_leaves,
                        o->num_leaves);
    if (!o->num_leaves_to_search || o->num_leaves_to_search > n_leaves)
        return sec_fail(SL_ERR_CORRUPT, S_OPTS, "num_leaves_to_search %u is not in 1..%u", o->num_leaves_to_search, n_leaves);
    if (!(isfinite(eta) && eta > 0)) return sec_fail(SL_ERR_CORRUPT, S_OPTS, "eta %g is not finite and positive", (double)eta);
    if (!(isfinite(mean) && mean >= 0))
        return sec_fail(SL_ERR_CORRUPT, S_OPTS, "build_mean_leaf %g is not finite and >= 0", mean);
    if (o->brute_force) {
        /* the exact scan reads leaf 0's vectors as f32 rows */
        if (n_leaves != 1 || o->store != SL_ANN_STORE_F32 || n_blocks || dpb || o->reorder_k)
            return sec_fail(SL_ERR_CORRUPT, S_OPTS, "brute force needs 1 leaf, the f32 store, no blocks and reorder_k 0 "
                            "(has %u leaves, store %u, %u blocks of %u, reorder_k %u)", n_leaves, store, n_blocks, dpb,
                            o->reorder_k);
    } else {
        if (!dpb || dpb > dim || dpb != o->dims_per_block)
            return sec_fail(SL_ERR_CORRUPT, S_OPTS, "dpb %u (dims_per_block %u): must be equal and in 1..dim (%llu)", dpb,
                            o->dims_per_block, (unsigned long long)dim);
        if (n_blocks != (dim + dpb - 1) / dpb)
            return sec_fail(SL_ERR_CORRUPT, S_OPTS, "n_blocks %u, but dim %llu in blocks of %u needs %llu", n_blocks,
                            (unsigned long long)dim, dpb, (unsigned long long)((dim + dpb - 1) / dpb));
        if (n_blocks > MAX_BLOCKS) return sec_fail(SL_ERR_LIMIT, S_OPTS, "%u blocks above %u", n_blocks, MAX_BLOCKS);
    }
    a->dim = (size_t)dim;
    a->n_leaves = n_leaves;
    a->eta = eta;
    a->build_mean_leaf = mean;
    *sh = (shape){o->brute_force != 0, o->store, dim, count, n_leaves, n_blocks, dpb,
                  sl_ann_store_row_bytes(o->store, (size_t)dim)};
    if (count > SIZE_MAX / 8) /* the ids section could not be addressed */
        return sec_fail(SL_ERR_LIMIT, S_OPTS, "count %llu too large", (unsigned long long)count);
    a->count = (size_t)count;
    return SL_OK;
}

/* Finite values, and the codebooks' padding past dim (the last block of a
 * dim that dpb does not divide) zero as ah.h lays it out. Centres and
 * codebooks feed every query's scores; a NaN there would turn ranking
 * into noise without any error. */
static sl_status check_tables(const sl_ann *a) {
    const size_t d = a->dim, nb = a->pq.n_blocks, dpb = a->pq.dpb;
    for (size_t i = 0; i < (size_t)a->n_leaves * d; i++)
        if (!isfinite(a->centres[i]))
            return sec_fail(SL_ERR_CORRUPT, S_CENT, "leaf %zu, dimension %zu is not finite", i / d, i % d);
    for (uint32_t p = 0; p < a->n_leaves; p++)
        if (!isfinite(a->centre_norm2[p]) || a->centre_norm2[p] < 0)
            return sec_fail(SL_ERR_CORRUPT, S_CNRM, "leaf %u: %g is not a finite squared norm", p, (double)a->centre_norm2[p]);
    for (size_t b = 0; b < nb; b++)
        for (size_t c = 0; c < SL_PQ_CENTRES; c++)
            for (size_t t = 0; t < dpb; t++) {
                float v = a->pq.centres[(b * SL_PQ_CENTRES + c) * dpb + t];
                if (b * dpb + t < d ? !isfinite(v) : v != 0)
                    return sec_fail(SL_ERR_CORRUPT, S_CODB, "block %zu, centre %zu, coordinate %zu: %g (%s)", b, c, t,
                                    (double)v, b * dpb + t < d ? "not finite" : "padding past dim must be 0");
            }
    return SL_OK;
}

enum { PREFETCH_AHEAD = 16 };
static sl_status parse(const uint8_t *b, size_t size, int verify, sl_ann **out) {
    /* The container without verify: the CRCs and the padding are checked
     * below, after the structure, so that a structural fault is named as
     * such rather than as a checksum. */
    sl_section sec[S_COUNT];
    sl_status st = sl_sections_parse(&SPEC, b, size, 0, NULL, sec);
    if (st) return st;
    if (!sec[S_OPTS].present) return sec_fail(SL_ERR_CORRUPT, S_OPTS, "missing");
    if (sec[S_OPTS].size != OPTS_SIZE)
        return sec_fail(SL_ERR_CORRUPT, S_OPTS, "size %llu, expected %d", (unsigned long long)sec[S_OPTS].size, OPTS_SIZE);
    /* The options and the leaves describe the structure: their CRCs are
     * checked whatever `verify`, so damage there is named as such. */
    if ((st = sl_section_check_crc(&SPEC, S_OPTS, sec))) return st;

    sl_ann *a = calloc(1, sizeof *a);
    if (!a) return sl_fail(SL_ERR_NOMEM, "index load: out of memory");
    a->tables_borrowed = 1; /* set first: sl_ann_free must never free file memory */
    shape sh;
    if ((st = read_opts(sec[S_OPTS].data, a, &sh))) goto fail;

    int need[S_COUNT];
    uint64_t want[S_COUNT];
    required(&sh, need);
    if (!fixed_sizes(&sh, want)) {
        st = sl_fail(SL_ERR_CORRUPT, "index file: section sizes overflow");
        goto fail;
    }
    for (int s = 0; s < S_COUNT; s++) {
        if (sec[s].present != need[s]) {
            st = sec_fail(SL_ERR_CORRUPT, s, "%s for a %s index with store %u", need[s] ? "missing" : "unexpected",
                          sh.brute ? "brute-force" : "partitioned", (unsigned)sh.store);
            goto fail;
        }
        if (need[s] && s != S_CODE && sec[s].size != want[s]) {
            st = sec_fail(SL_ERR_CORRUPT, s, "size %llu, expected %llu", (unsigned long long)sec[s].size,
                          (unsigned long long)want[s]);
            goto fail;
        }
    }
    if ((st = sl_section_check_crc(&SPEC, S_LEAF, sec))) goto fail;
    if (verify)
        for (int s = 0; s < S_COUNT; s++)
            if (need[s] && s != S_OPTS && s != S_LEAF && (st = sl_section_check_crc(&SPEC, s, sec))) goto fail;

    /* leaves: counts add up to count, first items contiguous; the codes'
     * size follows from the counts */
    const uint8_t *lt = sec[S_LEAF].data;
    uint64_t first = 0, code_bytes = 0;
    for (uint32_t p = 0; p < sh.n_leaves; p++) {
        uint64_t n = sl_get_u64(lt + (uint64_t)p * LEAF_ENTRY), f = sl_get_u64(lt + (uint64_t)p * LEAF_ENTRY + 8);
        if (f != first) {
            st = sec_fail(SL_ERR_CORRUPT, S_LEAF, "leaf %u: first item %llu, expected %llu", p, (unsigned long long)f,
                          (unsigned long long)first);
            goto fail;
        }
        if (n > sh.count - first) {
            st = sec_fail(SL_ERR_CORRUPT, S_LEAF, "leaf %u: %llu items from item %llu pass count %llu", p,
                          (unsigned long long)n, (unsigned long long)f, (unsigned long long)sh.count);
            goto fail;
        }
        if (n > UINT32_MAX) { /* positions in a leaf are uint32 (the id map, the scan) */
            st = sec_fail(SL_ERR_LIMIT, S_LEAF, "leaf %u: %llu items above 2^32 - 1", p, (unsigned long long)n);
            goto fail;
        }
        first += n;
        uint64_t leaf_codes;
        if (__builtin_mul_overflow(groups_of(n), 16 * sh.n_blocks, &leaf_codes) ||
            __builtin_add_overflow(code_bytes, leaf_codes, &code_bytes)) {
            st = sec_fail(SL_ERR_CORRUPT, S_CODE, "size overflows at leaf %u", p);
            goto fail;
        }
    }
    if (first != sh.count) {
        st = sec_fail(SL_ERR_CORRUPT, S_LEAF, "leaf counts add up to %llu, options say count %llu",
                      (unsigned long long)first, (unsigned long long)sh.count);
        goto fail;
    }
    if (need[S_CODE] && sec[S_CODE].size != code_bytes) {
        st = sec_fail(SL_ERR_CORRUPT, S_CODE, "size %llu, expected %llu (16 x n_blocks bytes per group of 32 items)",
                      (unsigned long long)sec[S_CODE].size, (unsigned long long)code_bytes);
        goto fail;
    }
    if (verify && (st = sl_sections_check_padding(&SPEC, b, size, sec))) goto fail;

    /* the arrays, in place */
    if (!sh.brute) {
        a->centres = (float *)(uintptr_t)sec[S_CENT].data;
        a->centre_norm2 = (float *)(uintptr_t)sec[S_CNRM].data;
        a->pq = (sl_pq){a->dim, (size_t)sh.dpb, (size_t)sh.n_blocks, (float *)(uintptr_t)sec[S_CODB].data};
        if ((st = check_tables(a))) goto fail;
        /* the search's derived tables (transposed codebooks), in memory; the
         * centre norms stay those of the file */
        if ((st = sl_ann_prepare(a))) goto fail;
    }
    a->leaves = calloc(sh.n_leaves, sizeof *a->leaves);
    if (!a->leaves) {
        st = sl_fail(SL_ERR_NOMEM, "index load: out of memory for %llu leaves", (unsigned long long)sh.n_leaves);
        goto fail;
    }
    const size_t nb = (size_t)sh.n_blocks;
    uint64_t code_at = 0;
    for (uint32_t p = 0; p < sh.n_leaves; p++) {
        const size_t n = (size_t)sl_get_u64(lt + (uint64_t)p * LEAF_ENTRY),
                     f = (size_t)sl_get_u64(lt + (uint64_t)p * LEAF_ENTRY + 8);
        ann_leaf *l = &a->leaves[p];
        if (!n) continue; /* an empty leaf owns no arrays: the first add allocates them */
        const size_t g = (size_t)groups_of(n);
        l->n = n;
        l->cap = g * SL_LUT16_GROUP;
        l->borrowed = 1;
        l->ids = (int64_t *)(uintptr_t)(sec[S_IDS].data + f * 8);
        if (need[S_CODE]) {
            l->packed = (uint8_t *)(uintptr_t)(sec[S_CODE].data + code_at);
            code_at += g * 16 * nb;
            if (verify) /* unused slots of the last group are zero */
                for (size_t i = n; i < l->cap; i++)
                    for (size_t k = 0; k < nb; k++)
                        if (sl_lut16_get(l->packed, nb, i, k)) {
                            st = sec_fail(SL_ERR_CORRUPT, S_CODE, "leaf %u: unused slot %zu has a nonzero code", p, i);
                            goto fail;
                        }
        }
        if (need[S_VECS]) l->vecs = (void *)(uintptr_t)(sec[S_VECS].data + f * sh.row);
        if (need[S_SCAL]) l->scales = (float *)(uintptr_t)(sec[S_SCAL].data + f * 4);
    }

    /* in-memory per-item terms of the L2 search, derived from the codes */
    if (!sh.brute && (st = sl_ann_prepare_leaves(a))) goto fail;

    /* The id map, rebuilt: it reads the ids section once, and it is also
     * what proves the ids unique. It is most of a load without verify
     * (9 of 10 ms for 331,479 items), and most of that is cache misses on
     * the table's random slots: prefetching each id's home slot 16 inserts
     * ahead makes it 2.5 times faster. */
    if ((st = sl_ann_map_init(&a->map, a->count))) goto fail;
    for (uint32_t p = 0; p < sh.n_leaves; p++) {
        const ann_leaf *l = &a->leaves[p];
        for (size_t i = 0; i < l->n; i++) {
            if (i + PREFETCH_AHEAD < l->n) __builtin_prefetch(&a->map.slots[sl_ann_id_slot(l->ids[i + PREFETCH_AHEAD], a->map.mask)]);
            int64_t id = l->ids[i];
            st = sl_ann_map_put(&a->map, id, p, (uint32_t)i);
            if (st == SL_ERR_ARG) {
                st = sec_fail(SL_ERR_CORRUPT, S_IDS, "id %lld appears twice", (long long)id);
                goto fail;
            }
            if (st) goto fail;
        }
    }
    *out = a;
    return SL_OK;
fail:
    sl_ann_free(a);
    return st;
}

sl_status sl_ann_load_buffer(const void *data, size_t size, int verify, sl_ann **out) {
    if (!out) return sl_fail(SL_ERR_ARG, "index load: NULL output");
    *out = NULL;
    if (!data && size) return sl_fail(SL_ERR_ARG, "index load: NULL buffer");
    /* 64-byte aligned sections make every array aligned for its type only
     * if the buffer itself is aligned for the widest (int64 ids). */
    if ((uintptr_t)data % 8) return sl_fail(SL_ERR_ARG, "index load: buffer is not 8-byte aligned");
    return parse(data, size, verify, out);
}

sl_status sl_ann_load(const char *path, int verify, sl_ann **out) {
    if (!out) return sl_fail(SL_ERR_ARG, "index load: NULL output");
    *out = NULL;
    if (!path) return sl_fail(SL_ERR_ARG, "index load: NULL path");
    sl_mmap map;
    sl_status st = sl_mmap_open(path, &map);
    if (st) return st; /* the message names the path already */
    sl_ann *a;
    st = parse(map.data, map.size, verify, &a);
    if (st) {
        sl_mmap_close(&map);
        return sl_fail_prefix(st, path);
    }
    a->file = map; /* sl_ann_free unmaps it */
    *out = a;
    return SL_OK;
}
