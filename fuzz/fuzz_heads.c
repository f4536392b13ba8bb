/* libFuzzer target for the tuned part of the model reader (docs/MODEL.md
 * "Tuned models, file version 2"): the input is parsed as GGUF and given to
 * sl_lite_tuned_parse, the same code sl_lite_model_open runs on a version-2
 * file once its base validated. The base itself (47 MB of vocabulary and
 * image model) is not needed: the parser takes the base's word dimension
 * (100, the lite model's) and the file's searchlite.embedding_dim.
 *
 * The model id check (searchlite.model_id == SHA-256 digest of the heads)
 * is skipped on the first parse (model_id NULL), or no mutation would get
 * past it; what it guards is reached instead: dims, shapes, alignment,
 * finiteness, blend, base id and record. On success each tower is applied
 * to an all-zero and an all-one input and blended (the validated shapes
 * must be safe to use), the record strings are read, and the id step is
 * checked on its own: parsing again with the heads' own digest must succeed
 * with the same heads, and with another id must fail.
 *
 * Seeds: SL_FUZZ_HEADS_SEEDS=DIR ./fuzz_heads writes three small valid
 * tuned-heads files to DIR and exits (docs/TESTING.md, Fuzzing). */
#include "model/lite_model.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The lite model's word vector size (GloVe 100d): the text head reads
 * 100 + 1,000 values. */
#define WORD_DIM 100

static void apply_tower(const sl_head *h, float blend, volatile float *sink) {
    const size_t in = h->layers[0].in, d = h->layers[h->n_layers - 1].out;
    float *x = malloc(in * sizeof *x), *scratch = malloc(sl_head_scratch(h) * sizeof *scratch);
    float *p = malloc(d * sizeof *p), *z = calloc(SL_LITE_CLASSES, sizeof *z);
    float *e = malloc((SL_LITE_CLASSES + d) * sizeof *e);
    if (x && scratch && p && z && e)
        for (int v = 0; v < 2; v++) {
            for (size_t i = 0; i < in; i++) x[i] = (float)v;
            sl_head_apply(h, x, scratch, p);
            sl_heads_blend(blend, z, SL_LITE_CLASSES, p, d, e);
            *sink += e[SL_LITE_CLASSES] + e[SL_LITE_CLASSES + d - 1];
        }
    free(x);
    free(scratch);
    free(p);
    free(z);
    free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sl_gguf *g = NULL;
    if (sl_gguf_open_memory(data, size, &g) != SL_OK) return 0;
    uint32_t emb;
    sl_lite_tuned t;
    if (sl_gguf_get_u32(g, "searchlite.embedding_dim", &emb) != SL_OK ||
        sl_lite_tuned_parse(g, WORD_DIM, emb, NULL, &t) != SL_OK) {
        sl_gguf_free(g);
        return 0;
    }
    volatile float sink = 0;
    apply_tower(&t.heads.image, t.heads.blend, &sink);
    apply_tower(&t.heads.text, t.heads.blend, &sink);
    sink += (float)(strlen(t.rec.data) + strlen(t.rec.options) + strlen(t.rec.heldout) + strlen(t.base_id));
    sink += t.rec.zero_shot[3] + t.rec.tuned[3] + (float)t.rec.epochs;

    /* The id step: the heads' own digest passes, giving the same heads;
     * any other id is refused. */
    char want[SL_LITE_MODEL_ID_MAX];
    if (sl_tuned_model_id(t.base_id, &t.heads, want) == SL_OK) {
        sl_lite_tuned again;
        if (sl_lite_tuned_parse(g, WORD_DIM, emb, want, &again) != SL_OK ||
            memcmp(&again.heads, &t.heads, sizeof t.heads) || strcmp(again.base_id, t.base_id))
            abort();
        sl_lite_tuned_release(&again);
        if (sl_lite_tuned_parse(g, WORD_DIM, emb, "searchlite-tuned-2/not-this-one", &again) != SL_ERR_CORRUPT)
            abort();
        /* Refused: nothing was kept. */
        if (again.strings[0] || again.strings[1] || again.strings[2]) abort();
    }
    sl_lite_tuned_release(&t);
    sl_gguf_free(g);
    (void)sink;
    return 0;
}

/* ---- seeds ---------------------------------------------------------------- */

static sl_status add_head(sl_gguf_builder *b, const char *tower, const uint32_t *dims, size_t n, uint32_t *seed) {
    sl_status st = SL_OK;
    for (size_t l = 0; l + 1 < n && !st; l++) {
        const uint32_t in = dims[l], out = dims[l + 1];
        float *w = malloc((size_t)in * out * sizeof *w), *bias = malloc(out * sizeof *bias);
        if (!w || !bias) st = SL_ERR_NOMEM;
        for (size_t i = 0; !st && i < (size_t)in * out; i++) {
            *seed = *seed * 1664525u + 1013904223u;
            w[i] = ((float)(*seed >> 8) / 16777216.0f - 0.5f) / 8.0f;
        }
        for (size_t i = 0; !st && i < out; i++) bias[i] = (float)i / 16.0f - 0.1f;
        char name[64];
        const uint64_t wd[2] = {in, out}, bd[1] = {out};
        snprintf(name, sizeof name, "heads.%s.layer%zu.weight", tower, l);
        if (!st) st = sl_gguf_add_tensor(b, name, SL_TENSOR_F32, 2, wd, w);
        snprintf(name, sizeof name, "heads.%s.layer%zu.bias", tower, l);
        if (!st) st = sl_gguf_add_tensor(b, name, SL_TENSOR_F32, 1, bd, bias);
        free(w);
        free(bias);
    }
    return st;
}

/* A tuned-heads file: the heads, blend, base id and (optionally) a record,
 * plus the version, embedding_dim and a model id that matches the heads. */
static sl_status write_seed(const char *path, const uint32_t *di, size_t ni, const uint32_t *dt, size_t nt,
                            float blend, int record) {
    const char *base = "searchlite-lite-1/0123456789abcdef0123456789abcdef";
    const uint32_t dim = di[ni - 1];
    sl_gguf_builder *b;
    sl_status st = sl_gguf_builder_new(&b);
    if (st) return st;
    uint32_t seed = 12345;
    if (!st) st = sl_gguf_set_str(b, "general.architecture", "searchlite-lite");
    if (!st) st = sl_gguf_set_u32(b, "searchlite.file_version", SL_TUNED_FILE_VERSION);
    if (!st) st = sl_gguf_set_u32(b, "searchlite.embedding_dim", SL_LITE_CLASSES + dim);
    if (!st) st = sl_gguf_set_str(b, "searchlite.heads.base_model_id", base);
    if (!st) st = sl_gguf_set_u32(b, "searchlite.heads.dim", dim);
    if (!st) st = sl_gguf_set_f32(b, "searchlite.heads.blend", blend);
    if (!st) st = sl_gguf_set_array(b, "searchlite.heads.image_dims", SL_GGUF_U32, di, ni);
    if (!st) st = sl_gguf_set_array(b, "searchlite.heads.text_dims", SL_GGUF_U32, dt, nt);
    if (record) {
        const float zs[4] = {0.1f, 0.3f, 0.4f, 12}, tu[4] = {0.2f, 0.45f, 0.5f, 7};
        if (!st) st = sl_gguf_set_str(b, "searchlite.train.data", "coco-train80");
        if (!st) st = sl_gguf_set_u64(b, "searchlite.train.images", 80);
        if (!st) st = sl_gguf_set_u64(b, "searchlite.train.captions", 400);
        if (!st) st = sl_gguf_set_str(b, "searchlite.train.options", "epochs=3 batch=64 dim=3");
        if (!st) st = sl_gguf_set_str(b, "searchlite.train.heldout", "2-fold cross-validation");
        if (!st) st = sl_gguf_set_array(b, "searchlite.train.zero_shot", SL_GGUF_F32, zs, 4);
        if (!st) st = sl_gguf_set_array(b, "searchlite.train.tuned", SL_GGUF_F32, tu, 4);
        if (!st) st = sl_gguf_set_u64(b, "searchlite.train.heldout_queries", 400);
        if (!st) st = sl_gguf_set_u32(b, "searchlite.train.epochs", 3);
    }
    if (!st) st = add_head(b, "image", di, ni, &seed);
    if (!st) st = add_head(b, "text", dt, nt, &seed);
    /* The id over the heads as they lie in the serialized file. */
    uint8_t *bytes = NULL;
    size_t size = 0;
    sl_gguf *g = NULL;
    sl_lite_tuned t;
    char id[SL_LITE_MODEL_ID_MAX];
    if (!st) st = sl_gguf_builder_serialize(b, &bytes, &size);
    if (!st) st = sl_gguf_open_memory(bytes, size, &g);
    if (!st) st = sl_lite_tuned_parse(g, WORD_DIM, SL_LITE_CLASSES + dim, NULL, &t);
    if (!st) {
        st = sl_tuned_model_id(t.base_id, &t.heads, id);
        sl_lite_tuned_release(&t);
    }
    if (!st) st = sl_gguf_set_str(b, "searchlite.model_id", id);
    if (!st) st = sl_gguf_builder_write(b, path);
    sl_gguf_free(g);
    free(bytes);
    sl_gguf_builder_free(b);
    return st;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *dir = getenv("SL_FUZZ_HEADS_SEEDS");
    if (!dir) return 0;
    static const uint32_t di1[3] = {2280, 4, 3}, dt1[2] = {1100, 3};
    static const uint32_t di2[2] = {2280, 2}, dt2[4] = {1100, 3, 2, 2};
    static const uint32_t di3[2] = {2280, 1}, dt3[2] = {1100, 1};
    char path[4096];
    int failed = 0;
    snprintf(path, sizeof path, "%s/heads-2280-4-3_1100-3.gguf", dir);
    failed |= write_seed(path, di1, 3, dt1, 2, 0.5f, 1) != SL_OK;
    snprintf(path, sizeof path, "%s/heads-2280-2_1100-3-2-2-norecord.gguf", dir);
    failed |= write_seed(path, di2, 2, dt2, 4, 0.0f, 0) != SL_OK;
    snprintf(path, sizeof path, "%s/heads-2280-1_1100-1-blend1.gguf", dir);
    failed |= write_seed(path, di3, 2, dt3, 2, 1.0f, 1) != SL_OK;
    if (failed) fprintf(stderr, "fuzz_heads: writing the seeds failed: %s\n", sl_last_error());
    else fprintf(stderr, "fuzz_heads: wrote 3 seeds to %s\n", dir);
    exit(failed);
}
