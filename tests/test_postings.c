/* The inverted index over sparse rows: its search must return exactly what
 * the full scan returns (same rows, same score bits, same order), prune
 * most rows on lite-shaped data, and fall back when it cannot prove. */
#include "index/postings.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 777;
static double urand(void) { return (double)(sl_test_rand(&rs) >> 11) / 9007199254740992.0; }

enum { DIM = 1000, TOPICS = 40, TOPIC_COLS = 30 };

/* Rows shaped like lite image embeddings: ~27 non-zero classes, most from
 * the row's topic, a few anywhere; positive values, unit length. */
static float *lite_rows(size_t n, int with_negatives) {
    float *x = calloc(n * DIM, sizeof *x);
    for (size_t i = 0; i < n; i++) {
        float *r = x + i * DIM;
        size_t topic = (size_t)(urand() * TOPICS);
        for (int e = 0; e < 27; e++) {
            size_t c = urand() < 0.8 ? (topic * TOPIC_COLS + (size_t)(urand() * TOPIC_COLS)) % DIM
                                     : (size_t)(urand() * DIM);
            float v = (float)pow(urand(), 3.0) + 0.01f;
            r[c] = with_negatives && urand() < 0.3 ? -v : v;
        }
        double s = 0;
        for (size_t c = 0; c < DIM; c++) s += (double)r[c] * r[c];
        for (size_t c = 0; c < DIM; c++) r[c] = (float)(r[c] / sqrt(s));
    }
    /* Some rows are empty (an image no class fired on). */
    for (size_t i = 0; i < n; i += 97) memset(x + i * DIM, 0, DIM * sizeof *x);
    return x;
}

/* A dense query concentrated on a few classes of one topic, like the lite
 * text encoder's softmax mixtures. */
static void lite_query(float *q) {
    size_t topic = (size_t)(urand() * TOPICS);
    for (size_t c = 0; c < DIM; c++) q[c] = (float)(1e-4 * urand());
    for (int w = 0; w < 3; w++) q[(topic * TOPIC_COLS + (size_t)(urand() * TOPIC_COLS)) % DIM] += (float)urand();
    double s = 0;
    for (size_t c = 0; c < DIM; c++) s += (double)q[c] * q[c];
    for (size_t c = 0; c < DIM; c++) q[c] = (float)(q[c] / sqrt(s));
}

/* Searches both ways and compares bytewise; returns the stats. */
static sl_postings_stats same_as_scan(const sl_postings *p, const sl_sparse_rows *rows, const float *q, size_t k,
                                      const char *what) {
    sl_hit *want = calloc(k, sizeof *want), *got = calloc(k, sizeof *got);
    sl_status s1 = SL_OK, s2 = SL_OK;
    size_t nw = sl_sparse_search(rows, q, k, NULL, want, &s1);
    sl_postings_stats st;
    size_t ng = sl_postings_search(p, rows, q, k, got, &st, &s2);
    CHECK(s1 == SL_OK && s2 == SL_OK);
    int same = nw == ng;
    for (size_t i = 0; same && i < nw; i++)
        same = want[i].index == got[i].index && memcmp(&want[i].score, &got[i].score, sizeof(float)) == 0;
    CHECK_MSG(same, "%s (k %zu): postings search differs from the scan (%zu vs %zu hits)", what, k, ng, nw);
    free(want);
    free(got);
    return st;
}

static void test_lite_shaped(int with_negatives) {
    const size_t n = 6000;
    float *x = lite_rows(n, with_negatives);
    sl_sparse_rows rows;
    REQUIRE(sl_sparse_from_dense(x, n, DIM, &rows) == SL_OK);
    sl_postings p;
    REQUIRE(sl_postings_build(&rows, &p) == SL_OK);
    CHECK(p.n_rows == n && p.list_first[DIM] == rows.row_first[n]);
    /* Every list ascending, and every entry is a real non-zero. */
    int ordered = 1;
    for (size_t c = 0; c < DIM; c++)
        for (uint32_t e = p.list_first[c]; e < p.list_first[c + 1]; e++) {
            if (e > p.list_first[c] && p.row[e] <= p.row[e - 1]) ordered = 0;
            if (x[(size_t)p.row[e] * DIM + c] == 0) ordered = 0;
        }
    CHECK_MSG(ordered, "posting lists not ascending or holding zeros");

    float q[DIM];
    size_t scored = 0, queries = 0, fell = 0;
    const size_t ks[] = {1, 10, 100};
    for (int t = 0; t < 30; t++) {
        lite_query(q);
        for (size_t ki = 0; ki < SL_ARRAY_LEN(ks); ki++) {
            sl_postings_stats st = same_as_scan(&p, &rows, q, ks[ki], "lite query");
            if (ks[ki] == 10) {
                scored += st.rows_scored;
                fell += (size_t)st.fell_back;
                queries++;
            }
        }
    }
    /* The point of the index: on this shape a top-10 query scores only the
     * rows of its few heavy classes, not the whole collection. */
    CHECK_MSG(!with_negatives ? scored < queries * n / 4 && fell == 0 : 1,
              "lite queries scored %zu rows on average of %zu (%zu fell back)", scored / queries, n, fell);

    /* A row's own vector as the query (image-to-image search). */
    for (size_t i = 1; i < n; i += 611) same_as_scan(&p, &rows, x + i * DIM, 10, "row as query");
    /* k = n: nothing can be pruned (every row is needed). */
    lite_query(q);
    sl_postings_stats all = same_as_scan(&p, &rows, q, n, "k = n");
    CHECK(all.fell_back == 1);
    /* A query on a column no row uses: no overlap at all, all scores 0,
     * ties broken by row number as the scan does. */
    memset(q, 0, sizeof q);
    size_t empty_col = DIM;
    for (size_t c = 0; c < DIM && empty_col == DIM; c++)
        if (p.list_first[c] == p.list_first[c + 1]) empty_col = c;
    if (empty_col < DIM) {
        q[empty_col] = 1;
        sl_postings_stats none = same_as_scan(&p, &rows, q, 10, "no overlap");
        CHECK(none.fell_back == 1);
    }
    /* Only negative overlap: every score <= 0, the bound proves nothing. */
    memset(q, 0, sizeof q);
    q[rows.col[rows.row_first[1]]] = -1;
    same_as_scan(&p, &rows, q, 10, "negative query");
    /* A single heavy column with few rows: fewer than k rows score > 0. */
    memset(q, 0, sizeof q);
    q[rows.col[rows.row_first[5]]] = 1;
    same_as_scan(&p, &rows, q, 50, "one column");

    sl_postings_free(&p);
    sl_sparse_rows_free(&rows);
    free(x);
}

static void test_edges(void) {
    /* Ties: identical rows must come back in row order, as from the scan. */
    enum { N = 40, D = 8 };
    float x[N * D] = {0};
    for (size_t i = 0; i < N; i++) {
        x[i * D + i % 3] = 0.5f;
        x[i * D + 7] = 0.25f;
    }
    sl_sparse_rows rows;
    REQUIRE(sl_sparse_from_dense(x, N, D, &rows) == SL_OK);
    sl_postings p;
    REQUIRE(sl_postings_build(&rows, &p) == SL_OK);
    float q[D] = {1, 0.5f, 0, 0, 0, 0, 0, 0.1f};
    for (size_t k = 1; k <= N; k += 7) same_as_scan(&p, &rows, q, k, "ties");
    sl_hit out[1];
    CHECK(sl_postings_search(&p, &rows, q, 0, out, NULL, NULL) == 0);
    sl_postings_free(&p);
    sl_sparse_rows_free(&rows);

    /* An empty collection and bad arguments. */
    sl_sparse_rows none;
    REQUIRE(sl_sparse_from_dense(x, 0, D, &none) == SL_OK);
    REQUIRE(sl_postings_build(&none, &p) == SL_OK);
    CHECK(sl_postings_search(&p, &none, q, 5, out, NULL, NULL) == 0);
    sl_postings_free(&p);
    sl_sparse_rows_free(&none);
    CHECK(sl_postings_build(NULL, &p) == SL_ERR_ARG);
    sl_postings_free(NULL);
}

int main(void) {
    test_lite_shaped(0);
    test_lite_shaped(1);
    test_edges();
    return sl_test_summary();
}
