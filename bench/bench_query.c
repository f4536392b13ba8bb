/* Query latency through the public API, model already loaded: text
 * encoding (sl_model_embed_text), search (sl_search_vector, k = 10: the
 * exact scan plus reading the 10 hits' paths and metadata from SQLite) and
 * the whole query (sl_search_text), medians over many queries, for two
 * libraries:
 *   - coco80: the 80 coco-train80 photos indexed with sl_library_index;
 *   - synthetic100k: 100,000 items written straight into a SQLite library
 *     through the internal catalog API, each embedding one of the 80 real
 *     image embeddings with its non-zero values moved to random classes and
 *     jittered by up to +-10 %, L2-normalized again (so every row keeps a
 *     real row's count of non-zero classes and its value distribution).
 *
 *   bench_query MODEL ASSETS_DIR [--threads N]... [--queries N] [--keep DIR]
 *               [--items N]
 *
 * --threads may be repeated (default: 1 and 2; threads inside one query's
 * scan). --keep DIR leaves the libraries at DIR/coco80.db and
 * DIR/synthetic100k.db (bench/bench_coldstart.sh reuses them); without it
 * they live in a temporary directory removed at the end.
 *
 * Prints, besides progress on stderr, one line for the model, one per
 * library and one per case (medians in ms):
 *   library: name=coco80 path=.. build_s=.. file_mb=.. open_ms=.. open_first_ms=..
 *   query: library=coco80 items=80 threads=1 queries=200 text_ms=..
 *          search_ms=.. scan_ms=.. total_ms=.. total_p90_ms=..
 * open_ms is sl_searcher_open (median of 5, open_first_ms the first). scan_ms is the exact scan alone (internal
 * sl_sparse_search on the searcher's rows); index_ms the searcher's own
 * method alone (posting lists above 2,048 items, rows_scored the rows they
 * scored on average; the scan below), so search_ms - index_ms is the SQLite
 * fetch of the hits and the building of the results. */
#include "api/search_internal.h"
#include "bench_util.h"
#include "catalog/catalog.h"
#include "core/core.h"
#include "searchlite.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_THREAD_CASES 8
#define K 10
#define WARMUP 5

/* Realistic COCO-style queries (every one has known words). */
static const char *const queries[] = {
    "a dog sitting on a chair", "a cat lying on a bed", "a man riding a horse on a beach",
    "a plate of food with broccoli", "a red double decker bus", "a group of people flying kites",
    "a train on the tracks", "a woman holding an umbrella in the rain", "two giraffes in a zoo",
    "a bowl of fruit on a table", "a skateboarder doing a trick", "a laptop on a desk",
    "an airplane taking off", "a pizza with cheese and tomatoes", "a boat on a lake",
    "a bathroom with a toilet and a sink", "a teddy bear on a couch", "an elephant in the grass",
    "a clock tower in a city", "a kitchen with a refrigerator",
};
#define N_QUERIES_LIST (sizeof queries / sizeof queries[0])

static void die(const char *what) {
    fprintf(stderr, "bench_query: %s: %s\n", what, sl_last_error());
    exit(1);
}


static double file_mb(const char *path) {
    double total = 0;
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[4200];
        struct stat st;
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        if (stat(p, &st) == 0) total += (double)st.st_size;
    }
    return total / 1e6;
}

static void remove_db(const char *path) {
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        if (unlink(p) != 0 && errno != ENOENT) fprintf(stderr, "bench_query: cannot remove %s\n", p);
    }
}

/* Indexes the 80 photos (with their captions) into a new library. */
static double build_coco(const sl_model *model, const char *assets, const char *path) {
    char images[4096], captions[4096];
    snprintf(images, sizeof images, "%s/coco-train80/images", assets);
    snprintf(captions, sizeof captions, "%s/coco-train80/captions.json", assets);
    remove_db(path);
    double t0 = sl_now();
    sl_library *lib;
    if (sl_library_open(path, 1, &lib)) die("sl_library_open");
    sl_index_opts o;
    sl_index_opts_init(&o);
    o.n_threads = 2;
    o.captions = captions;
    const char *roots[] = {images};
    sl_index_stats stats;
    if (sl_library_index(lib, model, roots, 1, &o, &stats)) die("sl_library_index");
    sl_library_close(lib);
    if (stats.embedded == 0 || stats.failed) {
        fprintf(stderr, "bench_query: indexed %llu images, %llu failed\n", (unsigned long long)stats.embedded,
                (unsigned long long)stats.failed);
        exit(1);
    }
    return sl_now() - t0;
}

/* The real image embeddings of the 80 photos as the library stores them
 * (only their non-zero values are used: the synthetic rows reuse a real
 * row's count and values). */
typedef struct real_rows {
    size_t n;
    size_t nnz_total;
    uint32_t *first; /* (n + 1) */
    float *val;      /* (nnz_total) */
} real_rows;

static void load_real(const char *library_path, real_rows *r) {
    sl_catalog *cat;
    if (sl_catalog_open(library_path, 0, &cat)) die("sl_catalog_open");
    int64_t *ids;
    sl_sparse_rows rows;
    if (sl_catalog_load_sparse(cat, &ids, &rows)) die("sl_catalog_load_sparse");
    r->n = rows.n;
    r->nnz_total = rows.n ? rows.row_first[rows.n] : 0;
    r->first = malloc((rows.n + 1) * sizeof *r->first);
    r->val = malloc((r->nnz_total + 1) * sizeof *r->val);
    if (!r->first || !r->val) exit(1);
    memcpy(r->first, rows.row_first, (rows.n + 1) * sizeof *r->first);
    memcpy(r->val, rows.val, r->nnz_total * sizeof *r->val);
    free(ids);
    sl_sparse_rows_free(&rows);
    sl_catalog_close(cat);
    if (r->n == 0) {
        fprintf(stderr, "bench_query: no embeddings in %s\n", library_path);
        exit(1);
    }
}

/* Writes n synthetic items into a new library, in transactions of 10,000. */
static double build_synthetic(const sl_model *model, const real_rows *real, size_t n, const char *path,
                              double *mean_nnz) {
    uint32_t dim = sl_model_dim(model);
    remove_db(path);
    float *vec = calloc(dim, sizeof *vec);
    uint8_t *taken = calloc(dim, 1);
    uint32_t *cols = malloc(dim * sizeof *cols);
    if (!vec || !taken || !cols) exit(1);
    double t0 = sl_now();
    sl_catalog *cat;
    if (sl_catalog_open(path, SL_CATALOG_CREATE, &cat)) die("sl_catalog_open");
    if (sl_catalog_set_model(cat, sl_model_id(model), dim)) die("sl_catalog_set_model");
    sl_embedding emb = {sl_model_id(model), dim, vec};
    size_t nnz_sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 10000 == 0 && sl_catalog_batch_begin(cat)) die("sl_catalog_batch_begin");
        size_t r = (size_t)(sl_bench_rand() % real->n);
        uint32_t a = real->first[r], b = real->first[r + 1];
        double norm = 0;
        for (uint32_t e = a; e < b; e++) {
            uint32_t c;
            do c = (uint32_t)(sl_bench_rand() % dim);
            while (taken[c]);
            taken[c] = 1;
            cols[e - a] = c;
            vec[c] = real->val[e] * (float)(0.9 + 0.2 * sl_bench_unit());
            norm += (double)vec[c] * vec[c];
        }
        float inv = norm > 0 ? (float)(1.0 / sqrt(norm)) : 0.0f;
        for (uint32_t e = 0; e < b - a; e++) vec[cols[e]] *= inv;
        nnz_sum += b - a;
        char p[64];
        snprintf(p, sizeof p, "/synthetic/%06zu.jpg", i);
        uint8_t hash[32];
        for (size_t h = 0; h < 32; h += 8) {
            uint64_t x = sl_bench_rand();
            memcpy(hash + h, &x, 8);
        }
        sl_item it = {0};
        it.path = p;
        it.size = 50000 + (int64_t)(sl_bench_rand() % 450000);
        it.mtime_ns = (int64_t)1700000000 * 1000000000 + (int64_t)i * 1000000;
        it.hash = hash;
        it.hash_size = sizeof hash;
        it.width = 640;
        it.height = 480;
        if (sl_catalog_put(cat, &it, &emb, NULL)) die("sl_catalog_put");
        for (uint32_t e = 0; e < b - a; e++) {
            vec[cols[e]] = 0.0f;
            taken[cols[e]] = 0;
        }
        if ((i + 1) % 10000 == 0 || i + 1 == n) {
            if (sl_catalog_batch_commit(cat)) die("sl_catalog_batch_commit");
        }
    }
    sl_catalog_close(cat);
    double s = sl_now() - t0;
    *mean_nnz = n ? (double)nnz_sum / (double)n : 0;
    free(vec);
    free(taken);
    free(cols);
    return s;
}

/* Median time of `runs` sl_searcher_open calls (the first one included). */
static double open_ms(const sl_model *model, const char *path, int threads, int runs, double *first_ms) {
    double t[16];
    for (int i = 0; i < runs; i++) {
        sl_searcher_opts o;
        sl_searcher_opts_init(&o);
        o.n_threads = threads;
        sl_searcher *s;
        double t0 = sl_now();
        if (sl_searcher_open(model, path, &o, &s)) die("sl_searcher_open");
        t[i] = (sl_now() - t0) * 1e3;
        sl_searcher_free(s);
    }
    *first_ms = t[0];
    return sl_bench_median(t, runs);
}

static void run_queries(const sl_model *model, const char *name, const char *path, int threads, int n_queries) {
    sl_searcher_opts o;
    sl_searcher_opts_init(&o);
    o.n_threads = threads;
    sl_searcher *s;
    if (sl_searcher_open(model, path, &o, &s)) die("sl_searcher_open");
    uint32_t dim = sl_model_dim(model);
    float *q = malloc(dim * sizeof *q);
    double *t_text = malloc((size_t)n_queries * sizeof(double));
    double *t_search = malloc((size_t)n_queries * sizeof(double));
    double *t_scan = malloc((size_t)n_queries * sizeof(double));
    double *t_total = malloc((size_t)n_queries * sizeof(double));
    double *t_index = malloc((size_t)n_queries * sizeof(double));
    if (!q || !t_text || !t_search || !t_scan || !t_total || !t_index) exit(1);
    double scored = 0;
    sl_hit hits[K];
    for (int r = -WARMUP; r < n_queries; r++) {
        const char *text = queries[(size_t)(r + WARMUP) % N_QUERIES_LIST];
        sl_results *res;
        double t0 = sl_now();
        if (sl_model_embed_text(model, text, q)) die(text);
        double t1 = sl_now();
        if (sl_search_vector(s, q, K, &res)) die("sl_search_vector");
        double t2 = sl_now();
        if (res->n != (s->n < K ? s->n : K)) {
            fprintf(stderr, "bench_query: %zu hits for \"%s\"\n", res->n, text);
            exit(1);
        }
        sl_results_free(res);
        /* The scan alone, with the searcher's own rows and pool. */
        double t3 = sl_now();
        sl_sparse_search(&s->rows, q, K, s->pool, hits, NULL);
        double t4 = sl_now();
        /* The posting-list search alone (the searcher's method when it
         * has the lists; the exact scan's time otherwise). */
        sl_postings_stats ps = {0};
        if (s->have_postings) sl_postings_search(&s->postings, &s->rows, q, K, hits, &ps, NULL);
        double t4b = sl_now();
        if (r >= 0) {
            t_index[r] = s->have_postings ? (t4b - t4) * 1e3 : (t4 - t3) * 1e3;
            scored += (double)ps.rows_scored;
        }
        double t4c = sl_now();
        if (sl_search_text(s, text, K, &res)) die(text);
        double t5 = sl_now();
        sl_results_free(res);
        if (r >= 0) {
            t_text[r] = (t1 - t0) * 1e3;
            t_search[r] = (t2 - t1) * 1e3;
            t_scan[r] = (t4 - t3) * 1e3;
            t_total[r] = (t5 - t4c) * 1e3;
        }
    }
    double total_med = sl_bench_median(t_total, n_queries); /* sorts t_total */
    double total_p90 = t_total[(size_t)(0.9 * (n_queries - 1) + 0.5)];
    printf("query: library=%s items=%zu threads=%d queries=%d method=\"%s\" text_ms=%.4f search_ms=%.4f "
           "scan_ms=%.4f index_ms=%.4f rows_scored=%.0f total_ms=%.4f total_p90_ms=%.4f\n",
           name, sl_searcher_count(s), threads, n_queries, sl_searcher_method_name(s),
           sl_bench_median(t_text, n_queries), sl_bench_median(t_search, n_queries),
           sl_bench_median(t_scan, n_queries), sl_bench_median(t_index, n_queries), scored / n_queries, total_med,
           total_p90);
    fflush(stdout);
    free(q);
    free(t_text);
    free(t_search);
    free(t_scan);
    free(t_total);
    free(t_index);
    sl_searcher_free(s);
}

static int usage(void) {
    fprintf(stderr, "usage: bench_query MODEL ASSETS_DIR [--threads N]... [--queries N] [--keep DIR] [--items N]\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    const char *model_path = argv[1], *assets = argv[2], *keep = NULL;
    int threads[MAX_THREAD_CASES], n_threads = 0, n_queries = 200;
    size_t n_items = 100000;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc && n_threads < MAX_THREAD_CASES) {
            threads[n_threads++] = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--queries") && i + 1 < argc) {
            n_queries = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--keep") && i + 1 < argc) {
            keep = argv[++i];
        } else if (!strcmp(argv[i], "--items") && i + 1 < argc) {
            n_items = (size_t)strtoull(argv[++i], NULL, 10);
        } else {
            return usage();
        }
    }
    if (n_queries < 1 || n_items < 1) return usage();
    if (!n_threads) {
        threads[n_threads++] = 1;
        threads[n_threads++] = 2;
    }

    char dir[4096];
    if (keep) {
        if (mkdir(keep, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "bench_query: cannot create %s\n", keep);
            return 1;
        }
        snprintf(dir, sizeof dir, "%s", keep);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/bench_query.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "bench_query: mkdtemp failed\n");
            return 1;
        }
    }
    char coco_path[4200], synth_path[4200], synth_name[64];
    snprintf(coco_path, sizeof coco_path, "%s/coco80.db", dir);
    if (n_items % 1000 == 0) snprintf(synth_name, sizeof synth_name, "synthetic%zuk", n_items / 1000);
    else snprintf(synth_name, sizeof synth_name, "synthetic%zu", n_items);
    snprintf(synth_path, sizeof synth_path, "%s/%s.db", dir, synth_name);

    double t0 = sl_now();
    sl_model *model;
    if (sl_model_open(model_path, &model)) die(model_path);
    printf("model: %s id=%s dim=%u open_ms=%.1f\n", model_path, sl_model_id(model), sl_model_dim(model),
           (sl_now() - t0) * 1e3);
    if (!sl_model_sparse(model)) fprintf(stderr, "bench_query: warning: model is not sparse\n");

    fprintf(stderr, "bench_query: indexing the 80 coco-train80 photos...\n");
    double coco_s = build_coco(model, assets, coco_path);
    real_rows real;
    load_real(coco_path, &real);
    fprintf(stderr, "bench_query: writing %zu synthetic items...\n", n_items);
    double mean_nnz = 0;
    double synth_s = build_synthetic(model, &real, n_items, synth_path, &mean_nnz);

    const char *names[2] = {"coco80", synth_name};
    const char *paths[2] = {coco_path, synth_path};
    double build_s[2] = {coco_s, synth_s};
    for (int l = 0; l < 2; l++) {
        double first = 0, med = open_ms(model, paths[l], 1, 5, &first);
        printf("library: name=%s path=%s build_s=%.2f file_mb=%.1f open_ms=%.2f open_first_ms=%.2f", names[l],
               paths[l], build_s[l], file_mb(paths[l]), med, first);
        if (l == 0) printf(" (sl_library_index, 2 threads) real_mean_nnz=%.1f\n", (double)real.nnz_total / (double)real.n);
        else printf(" (catalog puts, 10,000 per transaction) mean_nnz=%.1f\n", mean_nnz);
        fflush(stdout);
    }
    for (int l = 0; l < 2; l++)
        for (int t = 0; t < n_threads; t++) run_queries(model, names[l], paths[l], threads[t], n_queries);

    free(real.first);
    free(real.val);
    sl_model_free(model);
    if (!keep) {
        remove_db(coco_path);
        remove_db(synth_path);
        rmdir(dir);
    }
    return 0;
}
