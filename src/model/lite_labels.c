/* Synonym vectors and hubness of the 1,000 ImageNet classes for the lite
 * encoder (docs/research/lite-zero-shot.md §3.3-3.4). Built once when the
 * model is made; the model file stores the result. */
#include "lite.h"
#include "lite_tables.h"
#include "index/flat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SYN_LEN 256
#define MAX_SYNS_PER_CLASS 64

typedef struct syn_list {
    char text[MAX_SYNS_PER_CLASS][MAX_SYN_LEN];
    size_t len[MAX_SYNS_PER_CLASS];
    size_t n;
} syn_list;

static int dropped(size_t k, const char *s, size_t len) {
    for (size_t i = 0; i < sl_lite_n_drops; i++)
        if ((size_t)sl_lite_drops[i].k == k && strlen(sl_lite_drops[i].synonym) == len &&
            !memcmp(sl_lite_drops[i].synonym, s, len))
            return 1;
    return 0;
}

static void push(syn_list *l, const char *s, size_t len) {
    if (l->n >= MAX_SYNS_PER_CLASS || len >= MAX_SYN_LEN) return; /* ImageNet lines are far shorter */
    memcpy(l->text[l->n], s, len);
    l->text[l->n][len] = 0;
    l->len[l->n++] = len;
}

static char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* Whether the list already holds `w` (lower-case), ignoring ASCII case. */
static int has_ci(const syn_list *l, const char *w) {
    size_t n = strlen(w);
    for (size_t i = 0; i < l->n; i++) {
        if (l->len[i] != n) continue;
        size_t j = 0;
        while (j < n && ascii_lower(l->text[i][j]) == w[j]) j++;
        if (j == n) return 1;
    }
    return 0;
}

static void class_synonyms(size_t k, const char *line, syn_list *l) {
    l->n = 0;
    const char *p = line;
    for (;;) {
        const char *end = strchr(p, ',');
        const char *stop = end ? end : p + strlen(p);
        const char *a = p, *b = stop;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r' || b[-1] == '\n')) b--;
        if (b > a && !dropped(k, a, (size_t)(b - a))) push(l, a, (size_t)(b - a));
        if (!end) break;
        p = end + 1;
    }
    for (size_t i = 0; i < sl_lite_n_drops; i++)
        if ((size_t)sl_lite_drops[i].k == k && sl_lite_drops[i].add)
            push(l, sl_lite_drops[i].add, strlen(sl_lite_drops[i].add));
    for (size_t h = 0; h < sl_lite_n_hypers; h++)
        if (sl_lite_hyper_contains(&sl_lite_hypers[h], (int)k) && !has_ci(l, sl_lite_hypers[h].word))
            push(l, sl_lite_hypers[h].word, strlen(sl_lite_hypers[h].word));
}

/* Appends to idx the vocabulary indices of the letter runs of 2+ letters
 * of `s` (lower-cased); unknown runs are skipped and clear *all_known.
 * Returns the new count (at most cap). */
static size_t phrase_words(const sl_wordvec *wv, const char *s, size_t len, int32_t *idx, size_t n,
                           size_t cap, int *all_known) {
    sl_tok cur;
    const char *t;
    size_t tl;
    char lower[SL_WORDVEC_MAX_WORD_LEN];
    sl_tok_init(&cur, s, len);
    while (sl_tok_next(&cur, &t, &tl)) {
        if (tl < 2) continue;
        int32_t i = -1;
        if (tl <= sizeof lower) {
            sl_tok_lower(lower, t, tl);
            i = sl_wordvec_find(wv, lower, tl);
        }
        if (i < 0) *all_known = 0;
        else if (n < cap) idx[n++] = i;
    }
    return n;
}

/* acc = sum of c_i v(word_i), c_i the SIF weights, or all ones when they
 * sum to zero (a phrase of stop words only). */
static void weighted_sum(const sl_wordvec *wv, const int32_t *idx, size_t n, float *acc) {
    const size_t dim = sl_wordvec_dim(wv);
    double wsum = 0;
    for (size_t j = 0; j < n; j++) wsum += sl_wordvec_weight(wv, idx[j]);
    memset(acc, 0, dim * sizeof *acc);
    for (size_t j = 0; j < n; j++) {
        float c = wsum > 0 ? sl_wordvec_weight(wv, idx[j]) : 1.0f;
        const float *v = sl_wordvec_vector(wv, idx[j]);
        for (size_t d = 0; d < dim; d++) acc[d] += c * v[d];
    }
}

void sl_lite_labels_free(sl_lite_labels *l) {
    if (!l) return;
    sl_free_aligned(l->synonyms);
    free(l->syn_class);
    free(l->class_first);
    memset(l, 0, sizeof *l);
}

void sl_lite_word_class_sims(const sl_lite_labels *l, const float *v, float *scratch,
                             float sims[SL_LITE_CLASSES]) {
    double nn = 0;
    for (size_t d = 0; d < l->dim; d++) nn += (double)v[d] * v[d];
    if (nn <= 0) {
        memset(sims, 0, SL_LITE_CLASSES * sizeof *sims);
        return;
    }
    sl_dot_rows(v, l->synonyms, l->n_synonyms, l->dim, scratch);
    const float inv = (float)(1.0 / sqrt(nn));
    for (size_t k = 0; k < SL_LITE_CLASSES; k++) {
        uint32_t a = l->class_first[k], b = l->class_first[k + 1];
        float best = 0;
        for (uint32_t s = a; s < b; s++)
            if (s == a || scratch[s] > best) best = scratch[s];
        sims[k] = a == b ? 0.0f : best * inv;
    }
}

/* ---- hubness: mean of the 10 best similarities over frequent words ------- */

typedef struct hub_job {
    const sl_lite_labels *l;
    const sl_wordvec *wv;
    size_t n_words;
    float *best;    /* (threads, SL_LITE_CLASSES, SL_LITE_HUB_TOP), descending */
    float *scratch; /* (threads, n_synonyms + SL_LITE_CLASSES) */
} hub_job;

#define HUB_BLOCK 256

static void keep_best(float *top, float v) {
    if (v <= top[SL_LITE_HUB_TOP - 1]) return;
    int i = SL_LITE_HUB_TOP - 1;
    while (i > 0 && top[i - 1] < v) {
        top[i] = top[i - 1];
        i--;
    }
    top[i] = v;
}

static void hub_task(void *ctx, size_t task, int thread) {
    hub_job *j = ctx;
    float *best = j->best + (size_t)thread * SL_LITE_CLASSES * SL_LITE_HUB_TOP;
    float *scratch = j->scratch + (size_t)thread * (j->l->n_synonyms + SL_LITE_CLASSES);
    float *sims = scratch + j->l->n_synonyms;
    size_t end = SL_MIN(j->n_words, (task + 1) * HUB_BLOCK);
    for (size_t u = task * HUB_BLOCK; u < end; u++) {
        sl_lite_word_class_sims(j->l, sl_wordvec_vector(j->wv, (int32_t)u), scratch, sims);
        for (size_t k = 0; k < SL_LITE_CLASSES; k++) keep_best(best + k * SL_LITE_HUB_TOP, sims[k]);
    }
}

static sl_status compute_hub(sl_lite_labels *l, const sl_wordvec *wv, sl_pool *pool) {
    int threads = sl_pool_threads(pool);
    size_t n_words = SL_MIN((size_t)SL_LITE_HUB_WORDS, sl_wordvec_count(wv));
    hub_job j = {l, wv, n_words, NULL, NULL};
    j.best = sl_malloc_array((size_t)threads * SL_LITE_CLASSES * SL_LITE_HUB_TOP, sizeof(float));
    j.scratch = sl_malloc_array((size_t)threads * (l->n_synonyms + SL_LITE_CLASSES), sizeof(float));
    if (!j.best || !j.scratch) {
        free(j.best);
        free(j.scratch);
        return sl_fail(SL_ERR_NOMEM, "lite: out of memory for the hubness table");
    }
    for (size_t i = 0; i < (size_t)threads * SL_LITE_CLASSES * SL_LITE_HUB_TOP; i++) j.best[i] = -INFINITY;
    sl_pool_run(pool, (n_words + HUB_BLOCK - 1) / HUB_BLOCK, hub_task, &j);
    /* Merge the per-thread lists: the 10 best values do not depend on how
     * the words were shared out, and they are summed in descending order. */
    for (size_t k = 0; k < SL_LITE_CLASSES; k++) {
        float top[SL_LITE_HUB_TOP];
        for (int i = 0; i < SL_LITE_HUB_TOP; i++) top[i] = -INFINITY;
        for (int t = 0; t < threads; t++)
            for (int i = 0; i < SL_LITE_HUB_TOP; i++)
                keep_best(top, j.best[((size_t)t * SL_LITE_CLASSES + k) * SL_LITE_HUB_TOP + i]);
        double s = 0;
        int n = 0;
        for (int i = 0; i < SL_LITE_HUB_TOP; i++)
            if (top[i] > -INFINITY) {
                s += top[i];
                n++;
            }
        l->hub[k] = n ? (float)(s / n) : 0.0f;
    }
    free(j.best);
    free(j.scratch);
    return SL_OK;
}

static sl_status append_synonym(sl_lite_labels *l, size_t *cap, const float *v, uint32_t k) {
    if (l->n_synonyms == *cap) {
        size_t ncap = *cap * 2;
        float *ns = sl_malloc_aligned(ncap * l->dim * sizeof(float));
        uint32_t *nc = realloc(l->syn_class, ncap * sizeof *nc);
        if (nc) l->syn_class = nc;
        if (!ns || !nc) {
            sl_free_aligned(ns);
            return sl_fail(SL_ERR_NOMEM, "lite: out of memory");
        }
        memcpy(ns, l->synonyms, l->n_synonyms * l->dim * sizeof(float));
        sl_free_aligned(l->synonyms);
        l->synonyms = ns;
        *cap = ncap;
    }
    memcpy(l->synonyms + l->n_synonyms * l->dim, v, l->dim * sizeof *v);
    l->syn_class[l->n_synonyms++] = k;
    return SL_OK;
}

#define MAX_PHRASE_WORDS 512

sl_status sl_lite_labels_build(const char *const *labels, const sl_wordvec *wv, sl_pool *pool,
                               sl_lite_labels *out) {
    memset(out, 0, sizeof *out);
    if (!labels || !wv) return sl_fail(SL_ERR_ARG, "lite: NULL labels or word vectors");
    const size_t dim = sl_wordvec_dim(wv);
    size_t cap = SL_LITE_CLASSES * 4;
    out->dim = dim;
    out->synonyms = sl_malloc_aligned(cap * dim * sizeof(float));
    out->syn_class = malloc(cap * sizeof *out->syn_class);
    out->class_first = malloc((SL_LITE_CLASSES + 1) * sizeof *out->class_first);
    syn_list *syn = malloc(sizeof *syn);
    float *acc = malloc(dim * sizeof *acc);
    int32_t *idx = malloc(MAX_PHRASE_WORDS * sizeof *idx);
    sl_status st = SL_OK;
    if (!out->synonyms || !out->syn_class || !out->class_first || !syn || !acc || !idx) {
        st = sl_fail(SL_ERR_NOMEM, "lite: out of memory");
        goto done;
    }
    for (size_t k = 0; k < SL_LITE_CLASSES && !st; k++) {
        if (!labels[k]) {
            st = sl_fail(SL_ERR_ARG, "lite: label %zu is missing", k);
            break;
        }
        const size_t first = out->n_synonyms;
        out->class_first[k] = (uint32_t)first;
        class_synonyms(k, labels[k], syn);
        /* Each synonym whose words are all known is one unit vector. */
        for (size_t i = 0; i < syn->n && !st; i++) {
            int all_known = 1;
            size_t n = phrase_words(wv, syn->text[i], syn->len[i], idx, 0, MAX_PHRASE_WORDS, &all_known);
            if (!n || !all_known) continue;
            weighted_sum(wv, idx, n, acc);
            if (sl_lite_l2_normalize(acc, dim)) st = append_synonym(out, &cap, acc, (uint32_t)k);
        }
        if (st || out->n_synonyms > first) continue;
        /* Fallback: one phrase of every known word of every synonym; with
         * none at all the class keeps no synonym and its similarity is 0. */
        out->n_fallback++;
        size_t n = 0;
        for (size_t i = 0; i < syn->n; i++) {
            int all_known = 1;
            n = phrase_words(wv, syn->text[i], syn->len[i], idx, n, MAX_PHRASE_WORDS, &all_known);
        }
        weighted_sum(wv, idx, n, acc);
        if (n && sl_lite_l2_normalize(acc, dim)) st = append_synonym(out, &cap, acc, (uint32_t)k);
        else out->n_empty++;
    }
    if (!st) {
        out->class_first[SL_LITE_CLASSES] = (uint32_t)out->n_synonyms;
        st = compute_hub(out, wv, pool);
    }
done:
    free(syn);
    free(acc);
    free(idx);
    if (st) sl_lite_labels_free(out);
    return st;
}
