/* The TFLite interpreter: open (decode, prepare every operator, plan the
 * activation memory), run, and read the output. Everything that can fail
 * fails at open time; a run only copies the input and calls the operators. */
#include "interp.h"
#include "ops.h"
#include "plan.h"
#include "schema.h"

#include <stdlib.h>
#include <string.h>

/* Largest .tflite file we accept. */
#define SL_TFL_MAX_FILE ((size_t)1 << 30)

struct sl_tflite {
    uint8_t *bytes;        /* the model file, owned */
    sl_tfl_model m;        /* decoded; points into bytes */
    sl_tfl_node *nodes;    /* (m.n_ops) */
    uint8_t **data;        /* (m.n_tensors) data of each tensor, NULL if unused */
    uint8_t *arena;        /* activations, 64-byte aligned */
    size_t arena_size, activation_bytes;
    uint8_t *consts;       /* aligned copies of misaligned constants read at run time */
    uint8_t *scratch;      /* per-thread convolution scratch */
    size_t scratch_stride;
    sl_pool *pool;
    uint64_t work;
    int32_t input, output; /* tensor indices */
    uint32_t in_h, in_w, in_c;
    int in_type;
    int out_type;
    size_t out_count;
    float out_scale;
    int32_t out_zp;
    int has_output;
    /* The penultimate features: the output of the last global pooling
     * (1x1 spatial), kept alive to the end of a run; -1 when none. */
    int32_t embed;
    int embed_type;
    size_t embed_count;
    float embed_scale;
    int32_t embed_zp;
};

void sl_tflite_opts_init(sl_tflite_opts *opts) {
    if (!opts) return;
    opts->n_threads = 1;
    opts->reference_kernels = 0;
}

void sl_tflite_free(sl_tflite *t) {
    if (!t) return;
    if (t->nodes)
        for (uint32_t i = 0; i < t->m.n_ops; i++) sl_tfl_node_release(&t->nodes[i]);
    free(t->nodes);
    sl_tfl_model_release(&t->m);
    free(t->data);
    sl_free_aligned(t->arena);
    sl_free_aligned(t->consts);
    sl_free_aligned(t->scratch);
    sl_pool_free(t->pool);
    free(t->bytes);
    free(t);
}

static sl_status check_io(sl_tflite *t) {
    const sl_tfl_model *m = &t->m;
    if (m->n_inputs != 1)
        return sl_fail(SL_ERR_UNSUPPORTED, "the model has %u inputs, one image input is supported",
                       m->n_inputs);
    if (m->n_outputs < 1) return sl_fail(SL_ERR_CORRUPT, "the model has no output");
    t->input = m->inputs[0];
    t->output = m->outputs[0];
    const sl_tfl_tensor *in = &m->tensors[t->input], *out = &m->tensors[t->output];
    if (in->data) return sl_fail(SL_ERR_CORRUPT, "the input tensor %d is constant", t->input);
    if (in->rank != 4 || in->shape[0] != 1 || in->shape[3] != 3)
        return sl_fail(SL_ERR_UNSUPPORTED,
                       "input tensor %d must be an RGB image (1, height, width, 3)", t->input);
    if (in->type != SL_TFL_UINT8 && in->type != SL_TFL_INT8 && in->type != SL_TFL_FLOAT32)
        return sl_fail(SL_ERR_UNSUPPORTED, "%s input tensor (uint8, int8 or float32 only)",
                       sl_tfl_type_name(in->type));
    t->in_h = (uint32_t)in->shape[1];
    t->in_w = (uint32_t)in->shape[2];
    t->in_c = 3;
    t->in_type = in->type;
    if (out->type != SL_TFL_UINT8 && out->type != SL_TFL_INT8 && out->type != SL_TFL_FLOAT32)
        return sl_fail(SL_ERR_UNSUPPORTED, "%s output tensor (uint8, int8 or float32 only)",
                       sl_tfl_type_name(out->type));
    if (out->data) return sl_fail(SL_ERR_UNSUPPORTED, "the output tensor %d is constant", t->output);
    t->out_type = out->type;
    t->out_count = out->count;
    t->out_scale = 0.0f;
    t->out_zp = 0;
    if (out->type != SL_TFL_FLOAT32) {
        /* Without quantization parameters the raw integers are the values. */
        t->out_scale = 1.0f;
        if (out->n_quant == 1) {
            t->out_scale = out->scales[0];
            t->out_zp = out->zero_points[0];
        } else if (out->n_quant > 1) {
            return sl_fail(SL_ERR_UNSUPPORTED, "per-channel quantized output tensor");
        }
    }
    return SL_OK;
}

/* The last global pooling (AVERAGE_POOL_2D or MEAN to a 1x1 map) of a
 * classifier is its embedding: what the classes are read from. Only
 * quantized per-tensor or float outputs qualify. */
static void find_embedding(sl_tflite *t) {
    const sl_tfl_model *m = &t->m;
    t->embed = -1;
    for (uint32_t i = m->n_ops; i-- > 0;) {
        const sl_tfl_op *op = &m->ops[i];
        if ((op->code != SL_OP_AVERAGE_POOL_2D && op->code != SL_OP_MEAN) || op->n_out != 1) continue;
        const int32_t ti = op->out[0];
        const sl_tfl_tensor *ten = &m->tensors[ti];
        if (ti == t->output || ten->data || ten->rank < 2) continue;
        const size_t channels = (size_t)ten->shape[ten->rank - 1];
        if (ten->count != channels || ten->n_quant > 1) continue;
        if (ten->type != SL_TFL_UINT8 && ten->type != SL_TFL_INT8 && ten->type != SL_TFL_FLOAT32) continue;
        t->embed = ti;
        t->embed_type = ten->type;
        t->embed_count = channels;
        t->embed_scale = ten->n_quant == 1 ? ten->scales[0] : 1.0f;
        t->embed_zp = ten->n_quant == 1 ? ten->zero_points[0] : 0;
        return;
    }
}

/* Liveness of every activation, then the arena layout. */
static sl_status plan_memory(sl_tflite *t) {
    const sl_tfl_model *m = &t->m;
    const int64_t unset = INT64_MAX;
    sl_status st = SL_OK;
    int64_t *first = sl_malloc_array(m->n_tensors ? m->n_tensors : 1, sizeof *first);
    int64_t *last = sl_malloc_array(m->n_tensors ? m->n_tensors : 1, sizeof *last);
    uint8_t *runtime = sl_calloc_array(m->n_tensors ? m->n_tensors : 1, 1);
    sl_tfl_buf *bufs = NULL;
    int32_t *buf_tensor = NULL;
    t->data = sl_calloc_array(m->n_tensors ? m->n_tensors : 1, sizeof *t->data);
    if (!first || !last || !runtime || !t->data) {
        st = sl_fail(SL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        first[i] = unset;
        last[i] = -2;
    }
    first[t->input] = -1;
    last[t->input] = -1;
    for (uint32_t i = 0; i < m->n_ops; i++) {
        const sl_tfl_node *n = &t->nodes[i];
        for (uint32_t j = 0; j < n->op->n_in; j++) {
            int32_t ti = n->op->in[j];
            if (ti < 0 || !n->uses[j]) continue;
            runtime[ti] = 1;
            if (m->tensors[ti].data) continue; /* constant */
            if (first[ti] == unset || first[ti] >= (int64_t)i) {
                st = sl_fail(SL_ERR_CORRUPT,
                             "operator %u (%s) reads tensor %d before any operator writes it", i,
                             sl_tfl_op_name(n->op->code), ti);
                goto done;
            }
            if ((int64_t)i > last[ti]) last[ti] = i;
        }
        for (uint32_t j = 0; j < n->op->n_out; j++) {
            int32_t ti = n->op->out[j];
            if (m->tensors[ti].data) {
                st = sl_fail(SL_ERR_CORRUPT, "operator %u (%s) writes the constant tensor %d", i,
                             sl_tfl_op_name(n->op->code), ti);
                goto done;
            }
            if (first[ti] != unset) {
                st = sl_fail(SL_ERR_CORRUPT, "tensor %d is written twice (operator %u)", ti, i);
                goto done;
            }
            first[ti] = i;
            last[ti] = i;
        }
    }
    if (first[t->output] == unset) {
        st = sl_fail(SL_ERR_CORRUPT, "the output tensor %d is never written", t->output);
        goto done;
    }
    last[t->output] = m->n_ops;
    if (t->embed >= 0 && first[t->embed] != unset) last[t->embed] = m->n_ops; /* read after the run */
    else t->embed = -1;

    size_t n_bufs = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++)
        if (first[i] != unset) n_bufs++;
    bufs = sl_malloc_array(n_bufs ? n_bufs : 1, sizeof *bufs);
    buf_tensor = sl_malloc_array(n_bufs ? n_bufs : 1, sizeof *buf_tensor);
    if (!bufs || !buf_tensor) {
        st = sl_fail(SL_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t k = 0;
    t->activation_bytes = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        if (first[i] == unset) continue;
        bufs[k].size = m->tensors[i].bytes;
        bufs[k].first = first[i];
        bufs[k].last = last[i];
        buf_tensor[k] = (int32_t)i;
        t->activation_bytes += m->tensors[i].bytes;
        k++;
    }
    if ((st = sl_tfl_plan(bufs, n_bufs, &t->arena_size))) goto done;
    t->arena = sl_malloc_aligned(t->arena_size);
    if (!t->arena) {
        st = sl_fail(SL_ERR_NOMEM, "cannot allocate %zu bytes of activations", t->arena_size);
        goto done;
    }
    memset(t->arena, 0, t->arena_size);
    for (size_t b = 0; b < n_bufs; b++) t->data[buf_tensor[b]] = t->arena + bufs[b].offset;

    /* Constants read at run time are used in place when aligned (the
     * schema aligns buffers to 16 bytes), otherwise copied. */
    size_t const_bytes = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const sl_tfl_tensor *ten = &m->tensors[i];
        if (!runtime[i] || !ten->data) continue;
        if (((uintptr_t)ten->data & 15) == 0) t->data[i] = (uint8_t *)ten->data;
        else const_bytes += (ten->bytes + 63) & ~(size_t)63;
    }
    if (const_bytes) {
        t->consts = sl_malloc_aligned(const_bytes);
        if (!t->consts) {
            st = sl_fail(SL_ERR_NOMEM, "out of memory");
            goto done;
        }
        size_t off = 0;
        for (uint32_t i = 0; i < m->n_tensors; i++) {
            const sl_tfl_tensor *ten = &m->tensors[i];
            if (!runtime[i] || !ten->data || t->data[i]) continue;
            memcpy(t->consts + off, ten->data, ten->bytes);
            t->data[i] = t->consts + off;
            off += (ten->bytes + 63) & ~(size_t)63;
        }
    }
done:
    free(first);
    free(last);
    free(runtime);
    free(bufs);
    free(buf_tensor);
    return st;
}

static sl_status build(sl_tflite *t, size_t size, const sl_tflite_opts *opts, int level) {
    sl_status st = sl_tfl_model_parse(t->bytes, size, &t->m);
    if (st) return st;
    const sl_tfl_model *m = &t->m;
    if ((st = check_io(t))) return sl_fail_prefix(st, "tflite");
    find_embedding(t);

    sl_tfl_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.m = m;
    ctx.reference = opts ? opts->reference_kernels : 0;
    ctx.cpu_level = level;
    t->nodes = sl_calloc_array(m->n_ops ? m->n_ops : 1, sizeof *t->nodes);
    if (!t->nodes) return sl_fail(SL_ERR_NOMEM, "tflite: out of memory");
    for (uint32_t i = 0; i < m->n_ops; i++) {
        sl_tfl_node *n = &t->nodes[i];
        n->index = i;
        n->op = &m->ops[i];
        n->uses = sl_calloc_array(n->op->n_in ? n->op->n_in : 1, 1);
        if (!n->uses) return sl_fail(SL_ERR_NOMEM, "tflite: out of memory");
        if ((st = sl_tfl_prepare_node(&ctx, n))) return sl_fail_prefix(st, "tflite");
        if (!n->run) return sl_fail(SL_ERR_INTERNAL, "tflite: operator %u was not prepared", i);
    }
    /* A run also copies the input in and a caller reads the output. */
    t->work = ctx.work + m->tensors[t->input].count + m->tensors[t->output].count;
    if ((st = plan_memory(t))) return sl_fail_prefix(st, "tflite");

    int threads = opts && opts->n_threads > 1 ? opts->n_threads : 1;
    if ((st = sl_pool_new(threads, &t->pool))) return st;
    if (ctx.scratch_max > SL_TFL_MAX_ARENA)
        return sl_fail(SL_ERR_LIMIT, "tflite: convolution scratch of %zu bytes per thread exceeds %zu",
                       ctx.scratch_max, SL_TFL_MAX_ARENA);
    if (ctx.scratch_max) {
        t->scratch_stride = (ctx.scratch_max + 63) & ~(size_t)63;
        size_t total;
        if (sl_mul_overflow(t->scratch_stride, (size_t)sl_pool_threads(t->pool), &total) ||
            total > SL_TFL_MAX_ARENA)
            return sl_fail(SL_ERR_LIMIT, "tflite: convolution scratch for %d threads exceeds %zu bytes",
                           sl_pool_threads(t->pool), SL_TFL_MAX_ARENA);
        if (!(t->scratch = sl_malloc_aligned(total)))
            return sl_fail(SL_ERR_NOMEM, "tflite: cannot allocate convolution scratch");
    }
    return SL_OK;
}

/* Takes ownership of bytes (freed on failure too). */
static sl_status open_owned(uint8_t *bytes, size_t size, const sl_tflite_opts *opts, int level,
                            sl_tflite **out) {
    sl_tflite *t = calloc(1, sizeof *t);
    if (!t) {
        free(bytes);
        return sl_fail(SL_ERR_NOMEM, "tflite: out of memory");
    }
    t->bytes = bytes;
    sl_status st = build(t, size, opts, level);
    if (st) {
        sl_tflite_free(t);
        return st;
    }
    *out = t;
    return SL_OK;
}

sl_status sl_tflite_open_level(const void *data, size_t size, const sl_tflite_opts *opts,
                               int level, sl_tflite **out) {
    if (!out) return sl_fail(SL_ERR_ARG, "tflite: NULL output handle");
    *out = NULL;
    if (!data && size) return sl_fail(SL_ERR_ARG, "tflite: NULL data");
    if (size > SL_TFL_MAX_FILE)
        return sl_fail(SL_ERR_LIMIT, "tflite: a %zu-byte model exceeds the %zu-byte cap", size,
                       SL_TFL_MAX_FILE);
    uint8_t *copy = sl_malloc_aligned(size);
    if (!copy) return sl_fail(SL_ERR_NOMEM, "tflite: cannot copy a %zu-byte model", size);
    if (size) memcpy(copy, data, size);
    return open_owned(copy, size, opts, level, out);
}

sl_status sl_tflite_open_memory(const void *data, size_t size, const sl_tflite_opts *opts,
                                sl_tflite **out) {
    return sl_tflite_open_level(data, size, opts, -1, out);
}

sl_status sl_tflite_open(const char *path, const sl_tflite_opts *opts, sl_tflite **out) {
    if (!out) return sl_fail(SL_ERR_ARG, "tflite: NULL output handle");
    *out = NULL;
    if (!path) return sl_fail(SL_ERR_ARG, "tflite: NULL path");
    uint8_t *bytes;
    size_t size;
    sl_status st = sl_file_read(path, SL_TFL_MAX_FILE, &bytes, &size);
    if (st) return st;
    st = open_owned(bytes, size, opts, -1, out);
    if (st) return sl_fail_prefix(st, path);
    return SL_OK;
}

void sl_tflite_input_size(const sl_tflite *t, uint32_t *height, uint32_t *width,
                          uint32_t *channels) {
    if (height) *height = t ? t->in_h : 0;
    if (width) *width = t ? t->in_w : 0;
    if (channels) *channels = t ? t->in_c : 0;
}

size_t sl_tflite_output_count(const sl_tflite *t) { return t ? t->out_count : 0; }

sl_status sl_tflite_run_rgb(sl_tflite *t, const uint8_t *rgb) {
    if (!t || !rgb) return sl_fail(SL_ERR_ARG, "tflite run: NULL argument");
    const size_t n = (size_t)t->in_h * t->in_w * 3;
    uint8_t *dst = t->data[t->input];
    if (t->in_type == SL_TFL_UINT8) {
        memcpy(dst, rgb, n);
    } else if (t->in_type == SL_TFL_INT8) {
        /* uint8 pixels shifted into int8: x - 128 */
        for (size_t i = 0; i < n; i++) dst[i] = (uint8_t)(rgb[i] ^ 0x80);
    } else {
        /* float models take pixels scaled to [-1, 1] */
        float *f = (float *)dst;
        for (size_t i = 0; i < n; i++) f[i] = ((float)rgb[i] - 127.5f) / 127.5f;
    }
    sl_tfl_exec ex = {t->data, t->pool, t->scratch, t->scratch_stride};
    for (uint32_t i = 0; i < t->m.n_ops; i++) t->nodes[i].run(&t->nodes[i], &ex);
    t->has_output = 1;
    return SL_OK;
}

static float output_value(const sl_tflite *t, const uint8_t *p, size_t i) {
    switch (t->out_type) {
    case SL_TFL_UINT8: return (float)((int32_t)p[i] - t->out_zp) * t->out_scale;
    case SL_TFL_INT8: return (float)((int32_t)((const int8_t *)p)[i] - t->out_zp) * t->out_scale;
    default: {
        float f;
        memcpy(&f, p + 4 * i, 4);
        return f;
    }
    }
}

sl_status sl_tflite_output(const sl_tflite *t, float *out, size_t count) {
    if (!t || (!out && count)) return sl_fail(SL_ERR_ARG, "tflite output: NULL argument");
    if (!t->has_output) return sl_fail(SL_ERR_STATE, "tflite output: the model has not run yet");
    if (count > t->out_count)
        return sl_fail(SL_ERR_ARG, "tflite output: %zu values requested, the output has %zu",
                       count, t->out_count);
    const uint8_t *p = t->data[t->output];
    for (size_t i = 0; i < count; i++) out[i] = output_value(t, p, i);
    return SL_OK;
}

size_t sl_tflite_embedding_count(const sl_tflite *t) { return t && t->embed >= 0 ? t->embed_count : 0; }

sl_status sl_tflite_embedding(const sl_tflite *t, float *out, size_t count) {
    if (!t || (!out && count)) return sl_fail(SL_ERR_ARG, "tflite embedding: NULL argument");
    if (t->embed < 0) return sl_fail(SL_ERR_UNSUPPORTED, "tflite embedding: the model has no global pooling layer");
    if (!t->has_output) return sl_fail(SL_ERR_STATE, "tflite embedding: the model has not run yet");
    if (count > t->embed_count)
        return sl_fail(SL_ERR_ARG, "tflite embedding: %zu values requested, it has %zu", count, t->embed_count);
    const uint8_t *p = t->data[t->embed];
    for (size_t i = 0; i < count; i++) {
        switch (t->embed_type) {
        case SL_TFL_UINT8: out[i] = (float)((int32_t)p[i] - t->embed_zp) * t->embed_scale; break;
        case SL_TFL_INT8: out[i] = (float)((int32_t)((const int8_t *)p)[i] - t->embed_zp) * t->embed_scale; break;
        default: memcpy(&out[i], p + 4 * i, 4);
        }
    }
    return SL_OK;
}

sl_status sl_tflite_output_raw(const sl_tflite *t, const void **data, size_t *count,
                               int *is_signed_int8, int *is_float, float *scale,
                               int32_t *zero_point) {
    if (!t) return sl_fail(SL_ERR_ARG, "tflite output: NULL model");
    if (!t->has_output) return sl_fail(SL_ERR_STATE, "tflite output: the model has not run yet");
    if (data) *data = t->data[t->output];
    if (count) *count = t->out_count;
    if (is_signed_int8) *is_signed_int8 = t->out_type == SL_TFL_INT8;
    if (is_float) *is_float = t->out_type == SL_TFL_FLOAT32;
    if (scale) *scale = t->out_scale;
    if (zero_point) *zero_point = t->out_zp;
    return SL_OK;
}

/* Order of the top-k: higher score first, NaN last, ties to the lower index. */
static int ranks_before(float a, uint32_t ia, float b, uint32_t ib) {
    int na = a != a, nb = b != b;
    if (na != nb) return nb;
    if (!na && a != b) return a > b;
    return ia < ib;
}

/* Heap of the k best entries seen so far, the worst at the root, kept in
 * the caller's arrays: O(n log k) and no allocation. */
static void sift_down(uint32_t *index, float *score, size_t used, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < used && ranks_before(score[w], index[w], score[l], index[l])) w = l;
        if (r < used && ranks_before(score[w], index[w], score[r], index[r])) w = r;
        if (w == i) return;
        float s = score[i];
        uint32_t x = index[i];
        score[i] = score[w];
        index[i] = index[w];
        score[w] = s;
        index[w] = x;
        i = w;
    }
}

sl_status sl_tflite_topk(const sl_tflite *t, size_t k, uint32_t *index, float *score, size_t *n) {
    if (n) *n = 0;
    if (!t || !n || (k && (!index || !score)))
        return sl_fail(SL_ERR_ARG, "tflite topk: NULL argument");
    if (!t->has_output) return sl_fail(SL_ERR_STATE, "tflite topk: the model has not run yet");
    if (k > t->out_count) k = t->out_count;
    if (k == 0) return SL_OK;
    const uint8_t *p = t->data[t->output];
    size_t used = 0;
    for (size_t i = 0; i < t->out_count; i++) {
        float v = output_value(t, p, i);
        uint32_t vi = (uint32_t)i;
        if (used < k) {
            /* sift up: a worse entry rises toward the root */
            size_t j = used++;
            while (j > 0) {
                size_t parent = (j - 1) / 2;
                if (!ranks_before(score[parent], index[parent], v, vi)) break;
                score[j] = score[parent];
                index[j] = index[parent];
                j = parent;
            }
            score[j] = v;
            index[j] = vi;
        } else if (ranks_before(v, vi, score[0], index[0])) {
            score[0] = v;
            index[0] = vi;
            sift_down(index, score, used, 0);
        }
    }
    /* Heap sort: move the worst to the end, repeatedly. */
    for (size_t end = used; end > 1; end--) {
        float s = score[0];
        uint32_t x = index[0];
        score[0] = score[end - 1];
        index[0] = index[end - 1];
        score[end - 1] = s;
        index[end - 1] = x;
        sift_down(index, score, end - 1, 0);
    }
    *n = used;
    return SL_OK;
}

uint64_t sl_tflite_work(const sl_tflite *t) { return t ? t->work : 0; }
size_t sl_tflite_arena_bytes(const sl_tflite *t) { return t ? t->arena_size : 0; }
size_t sl_tflite_activation_bytes(const sl_tflite *t) { return t ? t->activation_bytes : 0; }
uint32_t sl_tflite_op_count(const sl_tflite *t) { return t ? t->m.n_ops : 0; }
int32_t sl_tflite_op_code(const sl_tflite *t, uint32_t i) {
    return t && i < t->m.n_ops ? t->m.ops[i].code : -1;
}

sl_status sl_tflite_op_tensors(const sl_tflite *t, uint32_t i, const int32_t **inputs,
                               uint32_t *n_inputs, const int32_t **outputs, uint32_t *n_outputs) {
    if (!t || i >= t->m.n_ops) return sl_fail(SL_ERR_ARG, "tflite: no operator %u", i);
    const sl_tfl_op *op = &t->m.ops[i];
    if (inputs) *inputs = op->in;
    if (n_inputs) *n_inputs = op->n_in;
    if (outputs) *outputs = op->out;
    if (n_outputs) *n_outputs = op->n_out;
    return SL_OK;
}

int sl_tflite_op_reads(const sl_tflite *t, uint32_t i, uint32_t j) {
    return t && i < t->m.n_ops && j < t->m.ops[i].n_in && t->nodes[i].uses[j];
}

size_t sl_tflite_tensor_bytes(const sl_tflite *t, int32_t ti) {
    return t && ti >= 0 && (uint32_t)ti < t->m.n_tensors ? t->m.tensors[ti].bytes : 0;
}

int sl_tflite_tensor_type(const sl_tflite *t, int32_t ti) {
    return t && ti >= 0 && (uint32_t)ti < t->m.n_tensors ? t->m.tensors[ti].type : -1;
}

sl_status sl_tflite_run_op(sl_tflite *t, uint32_t i, const void *const *inputs, void *output) {
    if (!t || i >= t->m.n_ops || !output) return sl_fail(SL_ERR_ARG, "tflite: bad run_op call");
    const sl_tfl_node *n = &t->nodes[i];
    uint8_t **data = sl_malloc_array(t->m.n_tensors, sizeof *data);
    if (!data) return sl_fail(SL_ERR_NOMEM, "out of memory");
    memcpy(data, t->data, t->m.n_tensors * sizeof *data);
    for (uint32_t j = 0; j < n->op->n_in; j++)
        if (inputs && inputs[j] && n->op->in[j] >= 0) data[n->op->in[j]] = (uint8_t *)inputs[j];
    data[n->op->out[0]] = output;
    sl_tfl_exec ex = {data, t->pool, t->scratch, t->scratch_stride};
    n->run(n, &ex);
    free(data);
    return SL_OK;
}
