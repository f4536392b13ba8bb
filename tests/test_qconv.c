/* The fast quantized convolutions (sl_qconv_prepare/run) against the
 * reference loops sl_qconv_ref, byte for byte, at every CPU level this
 * machine has (scalar, avx2, avx512, avx512vnni) and with 1, 2 and 3
 * threads: random shapes and quantization parameters, the exact layers of
 * MobileNetV2 1.0 224 (uint8 per-tensor and int8 per-channel), accumulator
 * and multiplier extremes, the generic depthwise path, hostile descriptors
 * and refusals. */
#include "mobilenet_v2_shapes.h"
#include "nn/qconv.h"
#include "nn/quant.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t g_rng = 0x5eed1e55c0ffee01ull;
static sl_pool *g_pools[4]; /* index = thread count; [1] is NULL (serial) */
static int g_cases, g_runs;

static uint32_t rnd(void) { return (uint32_t)(sl_test_rand(&g_rng) >> 32); }
/* uniform in [lo, hi] */
static int32_t rnd_in(int32_t lo, int32_t hi) {
    return (int32_t)((int64_t)lo + (int64_t)(rnd() % (uint32_t)((int64_t)hi - lo + 1)));
}
static int pick(const int *v, int n) { return v[rnd() % (uint32_t)n]; }

typedef struct layer {
    sl_qconv_desc d;
    uint8_t *input, *filter;
    int32_t *bias, *mult, *shift;
    size_t n_in, n_out, n_filter;
} layer;

static void layer_free(layer *L) {
    free(L->input);
    free(L->filter);
    free(L->bias);
    free(L->mult);
    free(L->shift);
    memset(L, 0, sizeof *L);
}

static void type_range(sl_qtype t, int32_t *lo, int32_t *hi) {
    *lo = t == SL_QTYPE_U8 ? 0 : -128;
    *hi = t == SL_QTYPE_U8 ? 255 : 127;
}

/* TensorFlow's SAME padding: output ceil(in / stride), the padding split
 * with the smaller half first. */
static void same_pad(int in, int k, int s, int dil, int *out, int *pad) {
    *out = (in + s - 1) / s;
    int eff = (k - 1) * dil + 1;
    int total = (*out - 1) * s + eff - in;
    *pad = total > 0 ? total / 2 : 0;
}

static void valid_out(int in, int k, int s, int dil, int *out) {
    int eff = (k - 1) * dil + 1;
    *out = in >= eff ? (in - eff) / s + 1 : 1;
}

/* Allocates the tensors of a described layer and fills them: activations
 * and filters uniform over their type (or near the zero point with
 * probability 1/4, to exercise small values), biases in +-2^bias_bits,
 * multipliers that spread the typical accumulator over the output range
 * (times `mscale`), per channel when `per_channel`. */
static void layer_fill(layer *L, int per_channel, int bias_bits, double mscale) {
    sl_qconv_desc *d = &L->d;
    L->n_in = (size_t)d->batch * d->in_h * d->in_w * d->in_c;
    L->n_out = (size_t)d->batch * d->out_h * d->out_w * d->out_c;
    size_t taps = (size_t)d->k_h * d->k_w;
    L->n_filter = d->depthwise ? taps * d->out_c : taps * d->in_c * d->out_c;
    L->input = malloc(L->n_in);
    L->filter = malloc(L->n_filter);
    L->bias = malloc((size_t)d->out_c * sizeof(int32_t));
    L->mult = malloc((size_t)d->out_c * sizeof(int32_t));
    L->shift = malloc((size_t)d->out_c * sizeof(int32_t));
    int near = rnd() % 4 == 0;
    for (size_t i = 0; i < L->n_in; i++)
        L->input[i] = near ? (uint8_t)(d->in_zp + rnd_in(-3, 3)) : (uint8_t)rnd();
    for (size_t i = 0; i < L->n_filter; i++) L->filter[i] = (uint8_t)rnd();
    int64_t k = d->depthwise ? (int64_t)taps : (int64_t)taps * d->in_c;
    double base = 40.0 / (sqrt((double)k) * 74.0 * 74.0) * mscale;
    int32_t q0;
    int s0;
    sl_quantize_multiplier(base, &q0, &s0);
    for (int n = 0; n < d->out_c; n++) {
        L->bias[n] = bias_bits ? rnd_in(-(1 << bias_bits), 1 << bias_bits) : 0;
        if (per_channel) {
            double m = base * (0.25 + (rnd() % 1000) / 250.0);
            sl_quantize_multiplier(m, &L->mult[n], &L->shift[n]);
        } else {
            L->mult[n] = q0;
            L->shift[n] = s0;
        }
    }
}

/* Runs the fast path at every level and thread count; returns 0 when all
 * outputs equal the reference's. */
static int check_layer(const layer *L, const char *what) {
    const sl_qconv_desc *d = &L->d;
    sl_qconv_weights w = {L->filter, L->bias, L->mult, L->shift};
    uint8_t *want = malloc(L->n_out), *got = malloc(L->n_out);
    REQUIRE(want && got);
    sl_qconv_ref(d, &w, L->input, want);
    int bad = 0;
    g_cases++;
    for (int level = SL_CPU_SCALAR; level <= (int)sl_cpu() && !bad; level++) {
        sl_qconv *c = NULL;
        sl_status st = sl_qconv_prepare_level(d, &w, (sl_cpu_level)level, &c);
        CHECK_MSG(st == SL_OK, "%s: prepare at %s: %s", what, sl_cpu_name((sl_cpu_level)level),
                  sl_last_error());
        if (st) {
            bad = 1;
            break;
        }
        /* The kernel must really be the one of the requested level. */
        const char *name = sl_qconv_kernel_name(c);
        static const char *const suffix[] = {"scalar", "avx2", "avx512", "vnni"};
        CHECK_MSG((int)sl_qconv_level(c) == level &&
                      (strstr(name, suffix[level]) || !strcmp(name, "dw-generic")),
                  "%s: level %s ran kernel %s", what, sl_cpu_name((sl_cpu_level)level), name);
        size_t ss = sl_qconv_scratch_size(c);
        size_t stride = (ss + 63) / 64 * 64;
        for (int threads = 1; threads <= 3 && !bad; threads++) {
            uint8_t *scratch = sl_malloc_aligned(stride * (size_t)threads + 64);
            REQUIRE(scratch);
            /* A canary after the last block catches scratch overruns. */
            memset(scratch + stride * (size_t)threads, 0xA5, 64);
            memset(got, 0x5A, L->n_out);
            sl_qconv_run(c, L->input, got, g_pools[threads], scratch, stride);
            g_runs++;
            int canary_ok = 1;
            for (int i = 0; i < 64; i++) canary_ok &= scratch[stride * (size_t)threads + i] == 0xA5;
            CHECK_MSG(canary_ok, "%s: scratch overrun at %s", what, name);
            sl_free_aligned(scratch);
            if (memcmp(want, got, L->n_out) != 0) {
                size_t i = 0;
                while (want[i] == got[i]) i++;
                static int shown;
                if (++shown > 20) { /* the count still tells */
                    sl_test_failed++;
                    bad = 1;
                    continue;
                }
                CHECK_MSG(0,
                          "%s: %s (%s) with %d thread(s) differs at pixel %zu channel %zu: "
                          "want %d got %d [%s %dx%dx%d -> %dx%dx%d k%dx%d s%dx%d d%dx%d p%d,%d "
                          "dm %d act %d filt %d zp %d/%d/%d range %d..%d]",
                          what, sl_cpu_name((sl_cpu_level)level), name, threads, i / d->out_c,
                          i % d->out_c, want[i], got[i], d->depthwise ? "dw" : "conv", d->in_h,
                          d->in_w, d->in_c, d->out_h, d->out_w, d->out_c, d->k_h, d->k_w,
                          d->stride_h, d->stride_w, d->dil_h, d->dil_w, d->pad_top,
                          d->pad_left, d->depth_multiplier, d->act_type, d->filter_type,
                          d->in_zp, d->filter_zp, d->out_zp, d->act_min, d->act_max);
                bad = 1;
            }
        }
        sl_qconv_free(c);
    }
    if (!bad) sl_test_passed++;
    free(want);
    free(got);
    return bad;
}

/* ---- random layers ---------------------------------------------------------- */

static void random_quant(sl_qconv_desc *d, int *per_channel) {
    int kind = rnd() % 4; /* U8/U8, S8/S8 (TF2), U8 act/S8 filter, S8 act/U8 filter */
    d->act_type = kind == 0 || kind == 2 ? SL_QTYPE_U8 : SL_QTYPE_S8;
    d->filter_type = kind == 0 || kind == 3 ? SL_QTYPE_U8 : SL_QTYPE_S8;
    int32_t lo, hi;
    type_range(d->act_type, &lo, &hi);
    static const int special[] = {0, 255, 128, 127, 1};
    d->in_zp = rnd() % 3 == 0 ? pick(special, 5) + lo : rnd_in(lo, hi);
    d->out_zp = rnd_in(lo, hi);
    if (d->in_zp > hi) d->in_zp = hi;
    d->filter_zp = 0;
    if (d->filter_type == SL_QTYPE_U8)
        d->filter_zp = rnd() % 3 == 0 ? pick(special, 5) : rnd_in(0, 255);
    switch (rnd() % 4) {
    case 0: d->act_min = lo; d->act_max = hi; break;
    case 1: /* RELU6-like: from the zero point up */
        d->act_min = d->out_zp;
        d->act_max = d->out_zp + rnd_in(0, 200);
        if (d->act_max > hi) d->act_max = hi;
        break;
    case 2: d->act_min = d->out_zp; d->act_max = hi; break;
    default:
        d->act_min = rnd_in(lo, hi);
        d->act_max = rnd_in(d->act_min, hi);
        break;
    }
    *per_channel = d->filter_type == SL_QTYPE_S8 || rnd() % 2;
}

static void test_random(int n_cases) {
    static const int chans[] = {1, 2, 3, 4, 5, 8, 16, 17, 24, 31, 32, 33, 48, 64, 65, 96};
    for (int it = 0; it < n_cases; it++) {
        layer L;
        memset(&L, 0, sizeof L);
        sl_qconv_desc *d = &L.d;
        d->depthwise = rnd() % 3 == 0;
        d->batch = rnd() % 4 == 0 ? 2 : 1;
        d->in_h = rnd_in(1, 14);
        d->in_w = rnd_in(1, 14);
        d->in_c = pick(chans, 16);
        static const int ks[] = {1, 1, 3, 3, 3, 2, 5, 7};
        d->k_h = pick(ks, 8);
        d->k_w = rnd() % 4 == 0 ? pick(ks, 8) : d->k_h;
        d->stride_h = rnd() % 3 == 0 ? 2 : 1;
        d->stride_w = rnd() % 6 == 0 ? 3 : d->stride_h;
        d->dil_h = rnd() % 8 == 0 ? 2 : 1;
        d->dil_w = rnd() % 8 == 0 ? rnd_in(2, 3) : 1;
        d->depth_multiplier = 1;
        if (d->depthwise) {
            d->depth_multiplier = rnd() % 5 == 0 ? rnd_in(2, 3) : 1;
            d->out_c = d->in_c * d->depth_multiplier;
        } else {
            d->out_c = rnd() % 10 == 0 ? rnd_in(1, 160) : pick(chans, 16);
        }
        switch (rnd() % 3) {
        case 0: /* SAME */
            same_pad(d->in_h, d->k_h, d->stride_h, d->dil_h, &d->out_h, &d->pad_top);
            same_pad(d->in_w, d->k_w, d->stride_w, d->dil_w, &d->out_w, &d->pad_left);
            break;
        case 1: /* VALID (at least one output) */
            valid_out(d->in_h, d->k_h, d->stride_h, d->dil_h, &d->out_h);
            valid_out(d->in_w, d->k_w, d->stride_w, d->dil_w, &d->out_w);
            break;
        default: /* whatever the caller says, taps may fall entirely outside */
            d->pad_top = rnd_in(0, 4);
            d->pad_left = rnd_in(0, 4);
            d->out_h = rnd_in(1, 12);
            d->out_w = rnd_in(1, 12);
            break;
        }
        int per_channel;
        random_quant(d, &per_channel);
        /* occasionally tiny or large multipliers: saturated outputs */
        double ms = rnd() % 8 == 0 ? pow(2.0, rnd_in(-12, 12)) : 1.0;
        layer_fill(&L, per_channel, rnd() % 4 == 0 ? 0 : rnd_in(8, 20), ms);
        char what[64];
        snprintf(what, sizeof what, "random case %d", it);
        check_layer(&L, what);
        layer_free(&L);
    }
}

/* Wide channel counts and the first-layer shape of many models (in_c 3). */
static void test_shapes(void) {
    static const struct {
        int dw, h, w, ic, oc, k, s, dil;
    } cases[] = {
        {0, 9, 9, 3, 32, 3, 2, 1},     {0, 5, 5, 3, 17, 3, 1, 1},     {0, 7, 7, 960, 320, 1, 1, 1},
        {0, 2, 3, 33, 1001, 1, 1, 1},   {0, 1, 1, 1280, 1001, 1, 1, 1}, {0, 3, 3, 1001, 7, 1, 1, 1},
        {1, 9, 9, 1001, 1001, 3, 1, 1}, {1, 11, 10, 33, 33, 3, 2, 1},   {1, 5, 40, 17, 17, 5, 1, 1},
        {0, 6, 6, 17, 33, 3, 2, 1},     {1, 4, 4, 1, 1, 3, 1, 1},       {0, 1, 1, 4, 1, 1, 1, 1},
        {1, 12, 13, 24, 24, 3, 1, 2},   {1, 12, 13, 40, 40, 3, 2, 3},   {1, 9, 21, 16, 16, 4, 3, 2},
        {0, 12, 13, 8, 24, 3, 1, 2},    {0, 12, 13, 3, 24, 3, 1, 2},    {0, 11, 11, 4, 16, 3, 2, 3},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++)
        for (int kind = 0; kind < 2; kind++) {
            layer L;
            memset(&L, 0, sizeof L);
            sl_qconv_desc *d = &L.d;
            d->depthwise = cases[i].dw;
            d->batch = 1 + (int)(i % 2);
            d->in_h = cases[i].h;
            d->in_w = cases[i].w;
            d->in_c = cases[i].ic;
            d->out_c = cases[i].oc;
            d->depth_multiplier = 1;
            d->k_h = d->k_w = cases[i].k;
            d->stride_h = d->stride_w = cases[i].s;
            d->dil_h = d->dil_w = cases[i].dil;
            same_pad(d->in_h, d->k_h, d->stride_h, d->dil_h, &d->out_h, &d->pad_top);
            same_pad(d->in_w, d->k_w, d->stride_w, d->dil_w, &d->out_w, &d->pad_left);
            int per_channel;
            random_quant(d, &per_channel);
            if (kind == 0) { /* legacy uint8 */
                d->act_type = d->filter_type = SL_QTYPE_U8;
                d->in_zp = rnd_in(0, 255);
                d->filter_zp = rnd_in(0, 255);
                d->out_zp = rnd_in(0, 255);
                d->act_min = 0;
                d->act_max = 255;
            } else { /* TF2 int8 */
                d->act_type = d->filter_type = SL_QTYPE_S8;
                d->in_zp = rnd_in(-128, 127);
                d->filter_zp = 0;
                d->out_zp = rnd_in(-128, 127);
                d->act_min = -128;
                d->act_max = 127;
            }
            layer_fill(&L, kind == 1, 16, 1.0);
            char what[64];
            snprintf(what, sizeof what, "shape %zu/%s", i, kind ? "int8" : "uint8");
            check_layer(&L, what);
            layer_free(&L);
        }
}

/* ---- MobileNetV2 1.0 224 ----------------------------------------------------- */


static void test_mobilenet(void) {
    sl_qconv_desc ds[SL_MOBILENET_V2_CONVS];
    int n = sl_mobilenet_v2_convs(ds);
    /* stem + block 0 (no expansion: 2) + 16 blocks x 3 + 1280 + logits */
    CHECK(n == 53);
    for (int kind = 0; kind < 2; kind++)
        for (int i = 0; i < n; i++) {
            layer L;
            memset(&L, 0, sizeof L);
            L.d = ds[i];
            sl_qconv_desc *d = &L.d;
            if (kind == 0) { /* like mobilenet_v2_1.0_224_quant.tflite */
                d->act_type = d->filter_type = SL_QTYPE_U8;
                d->in_zp = i == 0 ? 128 : (rnd() % 2 ? 0 : rnd_in(110, 140));
                d->filter_zp = rnd_in(50, 200);
                d->out_zp = rnd() % 2 ? 0 : rnd_in(110, 140);
                d->act_min = 0; /* RELU6 spans the whole range at these scales */
                d->act_max = 255;
            } else { /* like tf2_mobilenet_v2_1.0_224_ptq.tflite */
                d->act_type = d->filter_type = SL_QTYPE_S8;
                d->in_zp = i == 0 ? -1 : (rnd() % 2 ? -128 : rnd_in(-14, 7));
                d->filter_zp = 0;
                d->out_zp = rnd() % 2 ? -128 : rnd_in(-14, 7);
                d->act_min = d->out_zp;
                d->act_max = 127;
            }
            layer_fill(&L, kind == 1, 14, 1.0);
            char what[64];
            snprintf(what, sizeof what, "mobilenet_v2 %s layer %d", kind ? "int8" : "uint8", i);
            check_layer(&L, what);
            layer_free(&L);
        }
}

/* ---- requantization extremes --------------------------------------------------- */

/* With every activation at the input zero point the accumulator is the
 * bias itself, so any int32 reaches the epilogue without overflowing the
 * reference: extreme accumulators, multipliers (0, negative, INT32_MIN,
 * INT32_MAX) and shifts over all of [-31, 31]. */
static void test_requant_extremes(void) {
    for (int round = 0; round < 12; round++) {
        layer L;
        memset(&L, 0, sizeof L);
        sl_qconv_desc *d = &L.d;
        d->depthwise = round % 3 == 2;
        d->batch = 1;
        d->in_h = 1;
        d->in_w = 3;
        d->in_c = d->depthwise ? 253 : 5;
        d->out_c = 253; /* not a multiple of 8 or 16 */
        d->out_h = 1;
        d->out_w = 3;
        d->k_h = d->k_w = 1;
        d->stride_h = d->stride_w = d->dil_h = d->dil_w = 1;
        d->depth_multiplier = 1;
        int per_channel;
        random_quant(d, &per_channel);
        if (round % 2) {
            d->act_min = d->act_type == SL_QTYPE_U8 ? 0 : -128;
            d->act_max = d->act_type == SL_QTYPE_U8 ? 255 : 127;
        }
        layer_fill(&L, 1, 0, 1.0);
        for (size_t i = 0; i < L.n_in; i++) L.input[i] = (uint8_t)d->in_zp;
        for (int n = 0; n < d->out_c; n++) {
            static const int32_t xs[] = {INT32_MIN, INT32_MAX, 0, -1, 1, INT32_MIN + 1,
                                         (int32_t)0x40000000, -(int32_t)0x40000000};
            static const int32_t qs[] = {INT32_MIN, INT32_MAX, 0, -1, 1, 1 << 30,
                                         (int32_t)0x7FFFFFFE, -(1 << 30)};
            L.bias[n] = rnd() % 3 == 0 ? xs[rnd() % 8] : (int32_t)rnd();
            L.mult[n] = rnd() % 3 == 0 ? qs[rnd() % 8] : (int32_t)rnd();
            L.shift[n] = rnd_in(-31, 31);
            /* x << left == INT32_MIN with q == INT32_MIN: SRDHM saturates */
            if (n % 17 == 0) {
                L.mult[n] = INT32_MIN;
                L.shift[n] = rnd_in(0, 3);
                L.bias[n] = (int32_t)(0x80000000u >> L.shift[n]);
            }
        }
        /* The reference adds out_zp in int32: keep that sum in range (UB
         * otherwise), and use out_zp = 0 in every other round so that a
         * saturated SRDHM (INT32_MAX) is told apart from a wrapped one. */
        if (round % 2 == 0) d->out_zp = 0;
        if (d->act_min > d->out_zp || d->act_max < d->out_zp) {
            d->act_min = d->act_type == SL_QTYPE_U8 ? 0 : -128;
            d->act_max = d->act_type == SL_QTYPE_U8 ? 255 : 127;
        }
        for (int n = 0; n < d->out_c; n++) {
            int64_t r = sl_mul_qm(L.bias[n], L.mult[n], L.shift[n]);
            if (r + d->out_zp > INT32_MAX || r + d->out_zp < INT32_MIN)
                L.bias[n] = rnd_in(-999, 999);
        }
        char what[64];
        snprintf(what, sizeof what, "requant extremes %d", round);
        check_layer(&L, what);
        layer_free(&L);
    }
}

/* Depthwise geometries beyond the pair-row kernels fall back to the
 * generic path, which must be exact too. */
static void test_dw_generic(void) {
    layer L;
    memset(&L, 0, sizeof L);
    sl_qconv_desc *d = &L.d;
    d->depthwise = 1;
    d->batch = 1;
    d->in_h = 90;
    d->in_w = 7;
    d->in_c = 19;
    d->out_c = 38;
    d->depth_multiplier = 2;
    d->k_h = d->k_w = 3;
    d->stride_h = d->stride_w = 1;
    d->dil_h = 40; /* (3 - 1) * 40 + 1 = 81 filter rows: too many to keep */
    d->dil_w = 1;
    same_pad(d->in_h, 3, 1, 40, &d->out_h, &d->pad_top);
    same_pad(d->in_w, 3, 1, 1, &d->out_w, &d->pad_left);
    int per_channel;
    random_quant(d, &per_channel);
    layer_fill(&L, per_channel, 12, 1.0);
    sl_qconv_weights w = {L.filter, L.bias, L.mult, L.shift};
    sl_qconv *c = NULL;
    CHECK(sl_qconv_prepare(d, &w, &c) == SL_OK);
    CHECK(c && !strcmp(sl_qconv_kernel_name(c), "dw-generic"));
    sl_qconv_free(c);
    check_layer(&L, "generic depthwise");
    layer_free(&L);
}

/* ---- hostile descriptors ---------------------------------------------------------- */

/* Extreme sizes, strides, dilations and paddings (the interpreter refuses
 * many of them first, but the kernels must not rely on it): prepare fails
 * with a status or succeeds with bounded scratch; small layers then run
 * (under ASan in the sanitizer build) and, when the reference's own int
 * arithmetic cannot overflow, equal it. */
static void test_hostile(int n_cases) {
    static const int dims[] = {1, 2, 3, 7, 100, 4096, 65535, 1 << 20, 1 << 30, 0x7fffffff, 0, -1};
    static const int small[] = {1, 2, 3, 5, 17, 64, 1000, 0, -3};
    static const int steps[] = {1, 2, 3, 7, 1000, 65536, 1 << 30, 0x7fffffff, 0, -1};
    enum { FILTER = 1 << 20, CH = 4096 };
    uint8_t *filter = calloc(FILTER, 1);
    int32_t *bias = calloc(CH, 4), *mult = malloc(CH * 4), *shift = calloc(CH, 4);
    REQUIRE(filter && bias && mult && shift);
    for (int i = 0; i < CH; i++) mult[i] = 1 << 30;
    int prepared = 0, ran = 0, compared = 0;
    for (int it = 0; it < n_cases; it++) {
        sl_qconv_desc d;
        memset(&d, 0, sizeof d);
        d.depthwise = rnd() % 2;
        d.batch = rnd() % 4 ? 1 : pick(dims, 12);
        d.in_h = rnd() % 2 ? pick(small, 9) : pick(dims, 12);
        d.in_w = rnd() % 2 ? pick(small, 9) : pick(dims, 12);
        d.out_h = rnd() % 2 ? pick(small, 9) : pick(dims, 12);
        d.out_w = rnd() % 2 ? pick(small, 9) : pick(dims, 12);
        d.in_c = pick(small, 9);
        d.depth_multiplier = rnd() % 4 ? 1 : pick(small, 9);
        d.out_c = d.depthwise && rnd() % 2 ? d.in_c * d.depth_multiplier : pick(small, 9);
        d.k_h = rnd() % 2 ? pick(small, 9) : 3;
        d.k_w = rnd() % 2 ? pick(small, 9) : 3;
        d.stride_h = pick(steps, 10);
        d.stride_w = pick(steps, 10);
        d.dil_h = rnd() % 2 ? 1 : pick(steps, 10);
        d.dil_w = rnd() % 2 ? 1 : pick(steps, 10);
        d.pad_top = rnd() % 2 ? 0 : pick(steps, 10);
        d.pad_left = rnd() % 2 ? 0 : pick(steps, 10);
        d.act_type = rnd() % 8 ? (sl_qtype)(rnd() % 2) : (sl_qtype)7;
        d.filter_type = rnd() % 2 ? d.act_type : (sl_qtype)(rnd() % 2);
        d.in_zp = d.act_type == SL_QTYPE_U8 ? rnd_in(0, 255) : rnd_in(-128, 127);
        d.out_zp = d.act_type == SL_QTYPE_U8 ? rnd_in(0, 255) : rnd_in(-128, 127);
        d.filter_zp = d.filter_type == SL_QTYPE_U8 ? rnd_in(0, 255) : 0;
        d.act_min = d.act_type == SL_QTYPE_U8 ? 0 : -128;
        d.act_max = d.act_type == SL_QTYPE_U8 ? 255 : 127;
        if (rnd() % 16 == 0) d.in_zp = 300;
        if (d.out_c < 1 || d.out_c > CH) continue; /* the weights must exist */
        int64_t taps = (int64_t)d.k_h * d.k_w;
        int64_t nf = d.depthwise ? taps * d.out_c : taps * d.in_c * d.out_c;
        if (d.k_h < 1 || d.k_w < 1 || d.in_c < 1 || nf > FILTER) continue;
        sl_qconv_weights w = {filter, bias, mult, shift};
        for (int level = SL_CPU_SCALAR; level <= (int)sl_cpu(); level++) {
            sl_qconv *c = (sl_qconv *)&w;
            sl_status st = sl_qconv_prepare_level(&d, &w, (sl_cpu_level)level, &c);
            if (st) {
                CHECK(c == NULL && sl_last_error()[0] != '\0');
                continue;
            }
            prepared++;
            CHECK_MSG(sl_qconv_scratch_size(c) <= ((size_t)80 << 20), "scratch %zu",
                      sl_qconv_scratch_size(c));
            int64_t n_in = (int64_t)d.batch * d.in_h * d.in_w * d.in_c;
            int64_t n_out = (int64_t)d.batch * d.out_h * d.out_w * d.out_c;
            const int small_layer =
                n_in <= (1 << 16) && n_out <= (1 << 16) && n_out * (nf / d.out_c + 1) <= (1 << 24);
            if (small_layer) {
                uint8_t *in = malloc((size_t)n_in), *out = malloc((size_t)n_out);
                uint8_t *want = malloc((size_t)n_out);
                size_t stride = (sl_qconv_scratch_size(c) + 63) / 64 * 64;
                uint8_t *scratch = sl_malloc_aligned(stride * 2);
                REQUIRE(in && out && want && scratch);
                for (int64_t i = 0; i < n_in; i++) in[i] = (uint8_t)rnd();
                sl_qconv_run(c, in, out, g_pools[2], scratch, stride);
                ran++;
                /* the reference computes positions in int: only for moderate values */
                int64_t reach_h =
                    (int64_t)d.out_h * d.stride_h + (int64_t)d.k_h * d.dil_h + d.pad_top;
                int64_t reach_w =
                    (int64_t)d.out_w * d.stride_w + (int64_t)d.k_w * d.dil_w + d.pad_left;
                if (reach_h < (1 << 30) && reach_w < (1 << 30)) {
                    sl_qconv_ref(&d, &w, in, want);
                    CHECK_MSG(!memcmp(want, out, (size_t)n_out), "hostile case %d differs at %s",
                              it, sl_cpu_name((sl_cpu_level)level));
                    compared++;
                }
                free(in);
                free(out);
                free(want);
                sl_free_aligned(scratch);
            }
            sl_qconv_free(c);
        }
    }
    printf("hostile descriptors: %d prepared, %d ran, %d compared\n", prepared, ran, compared);
    CHECK(prepared > 0 && ran > 0 && compared > 0);
    free(filter);
    free(bias);
    free(mult);
    free(shift);
}

/* ---- refusals ----------------------------------------------------------------- */

static void test_refusals(void) {
    layer L;
    memset(&L, 0, sizeof L);
    sl_qconv_desc *d = &L.d;
    d->batch = d->in_h = d->in_w = d->out_h = d->out_w = 2;
    d->in_c = 4;
    d->out_c = 3;
    d->k_h = d->k_w = 1;
    d->stride_h = d->stride_w = d->dil_h = d->dil_w = d->depth_multiplier = 1;
    d->act_type = d->filter_type = SL_QTYPE_U8;
    d->act_max = 255;
    layer_fill(&L, 0, 4, 1.0);
    sl_qconv_weights w = {L.filter, L.bias, L.mult, L.shift};
    sl_qconv *c = (sl_qconv *)&w;
    CHECK(sl_qconv_prepare(d, &w, &c) == SL_OK && c);
    sl_qconv_free(c);

    sl_qconv_desc bad = *d;
    bad.in_zp = 256;
    CHECK(sl_qconv_prepare(&bad, &w, &c) == SL_ERR_ARG && c == NULL);
    CHECK(strstr(sl_last_error(), "zero point") != NULL);
    bad = *d;
    bad.act_type = SL_QTYPE_S8;
    bad.act_max = 200; /* outside int8 */
    CHECK(sl_qconv_prepare(&bad, &w, &c) == SL_ERR_ARG);
    bad = *d;
    bad.filter_zp = -1;
    CHECK(sl_qconv_prepare(&bad, &w, &c) == SL_ERR_ARG);
    bad = *d;
    bad.filter_type = SL_QTYPE_S8;
    bad.filter_zp = 3; /* int8 filters are symmetric */
    CHECK(sl_qconv_prepare(&bad, &w, &c) == SL_ERR_ARG);
    bad = *d;
    bad.k_h = 0;
    CHECK(sl_qconv_prepare(&bad, &w, &c) == SL_ERR_ARG);
    bad = *d;
    bad.depthwise = 1;
    bad.out_c = 5; /* not in_c * depth_multiplier */
    CHECK(sl_qconv_prepare(&bad, &w, &c) == SL_ERR_ARG);

    int32_t shift_saved = L.shift[1];
    L.shift[1] = 32;
    CHECK(sl_qconv_prepare(d, &w, &c) == SL_ERR_ARG);
    L.shift[1] = -32;
    CHECK(sl_qconv_prepare(d, &w, &c) == SL_ERR_ARG);
    L.shift[1] = shift_saved;

    sl_qconv_weights nw = w;
    nw.filter = NULL;
    CHECK(sl_qconv_prepare(d, &nw, &c) == SL_ERR_ARG);
    CHECK(sl_qconv_prepare(d, NULL, &c) == SL_ERR_ARG);
    CHECK(sl_qconv_prepare(NULL, &w, &c) == SL_ERR_ARG);
    CHECK(sl_qconv_prepare(d, &w, NULL) == SL_ERR_ARG);
    CHECK(sl_qconv_prepare_level(d, &w, (sl_cpu_level)7, &c) == SL_ERR_ARG);
    if (sl_cpu() < SL_CPU_AVX512VNNI)
        CHECK(sl_qconv_prepare_level(d, &w, SL_CPU_AVX512VNNI, &c) == SL_ERR_UNSUPPORTED);

    /* Packed weights over the cap: 2^24 taps of one channel would need
     * 16 lanes x 2 bytes x 2^24 at the int16 levels. Refused before any
     * large allocation; the filter pointer is never read. */
    bad = *d;
    bad.batch = 1;
    bad.in_h = bad.in_w = bad.out_h = bad.out_w = 1;
    bad.in_c = 1 << 12;
    bad.k_h = bad.k_w = 64; /* K = 2^24 */
    bad.out_c = 1;
    bad.pad_top = bad.pad_left = 32;
    sl_status st = sl_qconv_prepare_level(&bad, &w, SL_CPU_SCALAR, &c);
    CHECK_MSG(st == SL_ERR_LIMIT, "status %d: %s", st, sl_last_error());

    sl_qconv_free(NULL);
    CHECK(sl_qconv_scratch_size(NULL) == 0);
    layer_free(&L);
}

int main(int argc, char **argv) {
    int n_random = argc > 1 ? atoi(argv[1]) : 400;
    printf("cpu level: %s\n", sl_cpu_name(sl_cpu()));
    for (int t = 2; t <= 3; t++) REQUIRE(sl_pool_new(t, &g_pools[t]) == SL_OK);
    test_refusals();
    test_requant_extremes();
    test_shapes();
    test_dw_generic();
    test_hostile(3000);
    test_random(n_random);
    test_mobilenet();
    printf("%d layers, %d runs compared with the reference\n", g_cases, g_runs);
    for (int t = 2; t <= 3; t++) sl_pool_free(g_pools[t]);
    return sl_test_summary();
}
