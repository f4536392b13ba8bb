/* Decoding of the TFLite schema's Model / SubGraph / Tensor / Operator
 * tables into sl_tfl_model. Field ids follow schema.fbs declaration order
 * (a union takes two ids: its type tag, then its value). */
#include "schema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Model */
enum { F_MODEL_VERSION = 0, F_MODEL_OPCODES = 1, F_MODEL_SUBGRAPHS = 2, F_MODEL_BUFFERS = 4 };
/* OperatorCode */
enum { F_OPC_DEPRECATED = 0, F_OPC_CUSTOM = 1, F_OPC_VERSION = 2, F_OPC_BUILTIN = 3 };
/* SubGraph */
enum { F_SG_TENSORS = 0, F_SG_INPUTS = 1, F_SG_OUTPUTS = 2, F_SG_OPERATORS = 3 };
/* Tensor */
enum { F_T_SHAPE = 0, F_T_TYPE = 1, F_T_BUFFER = 2, F_T_NAME = 3, F_T_QUANT = 4,
       F_T_IS_VARIABLE = 5, F_T_SPARSITY = 6 };
/* QuantizationParameters */
enum { F_Q_SCALE = 2, F_Q_ZERO_POINT = 3, F_Q_DETAILS_TYPE = 4, F_Q_DIM = 6 };
/* Operator */
enum { F_OP_OPCODE = 0, F_OP_INPUTS = 1, F_OP_OUTPUTS = 2, F_OP_OPT_TYPE = 3, F_OP_OPTS = 4 };
/* Buffer */
enum { F_B_DATA = 0, F_B_OFFSET = 1, F_B_SIZE = 2 };

static size_t elem_size_of(int type) {
    switch (type) {
    case SL_TFL_FLOAT32: case SL_TFL_INT32: return 4;
    case SL_TFL_FLOAT16: case SL_TFL_INT16: return 2;
    case SL_TFL_UINT8: case SL_TFL_INT8: case SL_TFL_BOOL: return 1;
    case SL_TFL_INT64: case SL_TFL_FLOAT64: case SL_TFL_COMPLEX64: return 8;
    default: return 0;
    }
}

const char *sl_tfl_type_name(int type) {
    static const char *names[] = {"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING",
                                  "BOOL", "INT16", "COMPLEX64", "INT8", "FLOAT64",
                                  "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32",
                                  "UINT16", "INT4"};
    if (type >= 0 && (size_t)type < SL_ARRAY_LEN(names)) return names[type];
    return "UNKNOWN";
}

void sl_tfl_model_release(sl_tfl_model *m) {
    if (!m) return;
    if (m->tensors) {
        for (uint32_t i = 0; i < m->n_tensors; i++) {
            free(m->tensors[i].scales);
            free(m->tensors[i].zero_points);
        }
    }
    if (m->ops) {
        for (uint32_t i = 0; i < m->n_ops; i++) {
            free(m->ops[i].in);
            free(m->ops[i].out);
        }
    }
    free(m->tensors);
    free(m->ops);
    free(m->inputs);
    free(m->outputs);
    memset(m, 0, sizeof *m);
}

/* Reads an int32 index vector, checking every entry is in [lo, hi). */
static sl_status read_indices(const sl_fb_table *t, int id, uint32_t max_count, int32_t lo,
                              int32_t hi, const char *what, int32_t **out, uint32_t *n) {
    *out = NULL;
    *n = 0;
    sl_fb_vec v;
    sl_status st = sl_fb_vec_field(t, id, 4, max_count, &v);
    if (st) return sl_fail_prefix(st, what);
    int32_t *idx = sl_malloc_array(v.count ? v.count : 1, sizeof *idx);
    if (!idx) return sl_fail(SL_ERR_NOMEM, "%s: out of memory", what);
    for (uint32_t i = 0; i < v.count; i++) {
        idx[i] = (int32_t)sl_fb_le32(sl_fb_vec_at(&v, i));
        if (idx[i] < lo || idx[i] >= hi) {
            int32_t bad = idx[i];
            free(idx);
            return sl_fail(SL_ERR_CORRUPT, "%s: tensor index %d out of range (%d tensors)", what,
                           bad, hi);
        }
    }
    *out = idx;
    *n = v.count;
    return SL_OK;
}

static sl_status parse_quant(const sl_fb_table *q, uint32_t ti, sl_tfl_tensor *t) {
    uint8_t details;
    sl_status st = sl_fb_u8(q, F_Q_DETAILS_TYPE, 0, &details);
    if (st) return st;
    if (details)
        return sl_fail(SL_ERR_UNSUPPORTED, "tensor %u: custom quantization is not supported", ti);
    sl_fb_vec sv, zv;
    if ((st = sl_fb_vec_field(q, F_Q_SCALE, 4, 1u << 24, &sv))) return st;
    if ((st = sl_fb_vec_field(q, F_Q_ZERO_POINT, 8, 1u << 24, &zv))) return st;
    int32_t dim;
    if ((st = sl_fb_i32(q, F_Q_DIM, 0, &dim))) return st;
    if (sv.count == 0) {
        if (zv.count != 0)
            return sl_fail(SL_ERR_CORRUPT, "tensor %u: %u zero points but no scales", ti, zv.count);
        return SL_OK; /* min/max only, or empty: not quantized */
    }
    if (zv.count != sv.count)
        return sl_fail(SL_ERR_CORRUPT, "tensor %u: %u scales but %u zero points", ti, sv.count,
                       zv.count);
    if (sv.count > 1) {
        if (dim < 0 || dim >= t->rank || (uint32_t)t->shape[dim] != sv.count)
            return sl_fail(SL_ERR_CORRUPT,
                           "tensor %u: %u per-channel scales do not match dimension %d of its shape",
                           ti, sv.count, dim);
    }
    t->scales = sl_malloc_array(sv.count, sizeof(float));
    t->zero_points = sl_malloc_array(sv.count, sizeof(int32_t));
    if (!t->scales || !t->zero_points) return sl_fail(SL_ERR_NOMEM, "tensor %u: out of memory", ti);
    for (uint32_t i = 0; i < sv.count; i++) {
        uint32_t bits = sl_fb_le32(sl_fb_vec_at(&sv, i));
        float s;
        memcpy(&s, &bits, 4);
        int64_t z = (int64_t)sl_fb_le64(sl_fb_vec_at(&zv, i));
        /* Scales must allow division; zero points must fit any integer type
         * we support (ops narrow this further to their type's range). */
        if (!isfinite(s) || !(s > 0.0f))
            return sl_fail(SL_ERR_CORRUPT, "tensor %u: quantization scale %g is not positive", ti,
                           (double)s);
        if (z < INT32_MIN || z > INT32_MAX)
            return sl_fail(SL_ERR_CORRUPT, "tensor %u: zero point %lld out of range", ti,
                           (long long)z);
        t->scales[i] = s;
        t->zero_points[i] = (int32_t)z;
    }
    t->n_quant = sv.count;
    t->quant_dim = sv.count > 1 ? dim : 0;
    return SL_OK;
}

/* Attaches constant data from buffer `b` to tensor t. */
static sl_status attach_buffer(const sl_tfl_model *m, const sl_fb_vec *buffers, uint32_t ti,
                               sl_tfl_tensor *t, uint32_t b) {
    if (b >= buffers->count)
        return sl_fail(SL_ERR_CORRUPT, "tensor %u: buffer index %u out of range (%u buffers)", ti,
                       b, buffers->count);
    sl_fb_table bt;
    sl_status st = sl_fb_vec_table(buffers, b, &bt);
    if (st) return st;
    sl_fb_vec data;
    if ((st = sl_fb_vec_field(&bt, F_B_DATA, 1, UINT32_MAX, &data))) return st;
    const uint8_t *p = NULL;
    uint64_t n = 0;
    if (data.count) {
        p = m->fb.data + data.pos;
        n = data.count;
    } else {
        /* Models above 2 GB keep buffers after the flatbuffer: an absolute
         * file offset (valid when > 1) and a size. */
        uint64_t off, size;
        if ((st = sl_fb_u64(&bt, F_B_OFFSET, 0, &off))) return st;
        if ((st = sl_fb_u64(&bt, F_B_SIZE, 0, &size))) return st;
        if (off > 1) {
            if (off > m->fb.size || size > m->fb.size - off)
                return sl_fail(SL_ERR_CORRUPT,
                               "buffer %u: external data [%llu, +%llu) outside the %zu-byte file",
                               b, (unsigned long long)off, (unsigned long long)size, m->fb.size);
            p = m->fb.data + off;
            n = size;
        }
    }
    if (!n) return SL_OK; /* no data: an activation tensor */
    if (n != t->bytes)
        return sl_fail(SL_ERR_CORRUPT,
                       "tensor %u (%.*s): buffer %u holds %llu bytes but the shape needs %zu", ti,
                       (int)SL_MIN(t->name_len, 64u), t->name, b, (unsigned long long)n, t->bytes);
    t->data = p;
    return SL_OK;
}

static sl_status parse_tensor(const sl_tfl_model *m, const sl_fb_table *tt,
                              const sl_fb_vec *buffers, uint32_t ti, sl_tfl_tensor *t) {
    sl_status st;
    int8_t type;
    uint32_t buffer;
    uint8_t is_var;
    if ((st = sl_fb_i8(tt, F_T_TYPE, 0, &type))) return st;
    if ((st = sl_fb_u32(tt, F_T_BUFFER, 0, &buffer))) return st;
    if ((st = sl_fb_u8(tt, F_T_IS_VARIABLE, 0, &is_var))) return st;
    if ((st = sl_fb_string(tt, F_T_NAME, SL_TFL_MAX_NAME, &t->name, &t->name_len))) return st;
    t->type = type;
    t->elem_size = elem_size_of(type);
    if (!t->elem_size)
        return sl_fail(SL_ERR_UNSUPPORTED, "tensor %u: type %s (%d) is not supported", ti,
                       sl_tfl_type_name(type), type);
    if (is_var)
        return sl_fail(SL_ERR_UNSUPPORTED, "tensor %u: variable tensors are not supported", ti);
    if (sl_fb_has(tt, F_T_SPARSITY))
        return sl_fail(SL_ERR_UNSUPPORTED, "tensor %u: sparse tensors are not supported", ti);

    sl_fb_vec shape;
    if ((st = sl_fb_vec_field(tt, F_T_SHAPE, 4, 64, &shape))) return st;
    if (shape.count > SL_TFL_MAX_RANK)
        return sl_fail(SL_ERR_LIMIT, "tensor %u: rank %u exceeds %d", ti, shape.count,
                       SL_TFL_MAX_RANK);
    t->rank = (int)shape.count;
    size_t count = 1;
    for (uint32_t d = 0; d < shape.count; d++) {
        int32_t dim = (int32_t)sl_fb_le32(sl_fb_vec_at(&shape, d));
        if (dim < 1)
            return sl_fail(SL_ERR_UNSUPPORTED,
                           "tensor %u: dimension %u is %d (empty or dynamic shapes are not supported)",
                           ti, d, dim);
        t->shape[d] = dim;
        if (sl_mul_overflow(count, (size_t)dim, &count) || count > SL_TFL_MAX_ELEMENTS)
            return sl_fail(SL_ERR_LIMIT, "tensor %u: more than %zu elements", ti,
                           SL_TFL_MAX_ELEMENTS);
    }
    t->count = count;
    t->bytes = count * t->elem_size;

    int present;
    sl_fb_table q;
    if ((st = sl_fb_table_field(tt, F_T_QUANT, &present, &q))) return st;
    if (present && (st = parse_quant(&q, ti, t))) return st;
    return attach_buffer(m, buffers, ti, t, buffer);
}

static sl_status parse_op(const sl_fb_table *ot, const int32_t *codes, const int32_t *versions,
                          const sl_fb_table *opcode_tables, uint32_t n_codes, uint32_t n_tensors,
                          uint32_t oi, sl_tfl_op *op) {
    sl_status st;
    uint32_t opcode;
    if ((st = sl_fb_u32(ot, F_OP_OPCODE, 0, &opcode))) return st;
    if (opcode >= n_codes)
        return sl_fail(SL_ERR_CORRUPT, "operator %u: opcode index %u out of range (%u codes)", oi,
                       opcode, n_codes);
    op->code = codes[opcode];
    op->version = versions[opcode];
    if (op->code == SL_OP_CUSTOM &&
        (st = sl_fb_string(&opcode_tables[opcode], F_OPC_CUSTOM, SL_TFL_MAX_NAME, &op->custom,
                           &op->custom_len)))
        return st;
    char what[48];
    snprintf(what, sizeof what, "operator %u inputs", oi);
    if ((st = read_indices(ot, F_OP_INPUTS, SL_TFL_MAX_OP_IO, -1, (int32_t)n_tensors, what,
                           &op->in, &op->n_in)))
        return st;
    snprintf(what, sizeof what, "operator %u outputs", oi);
    if ((st = read_indices(ot, F_OP_OUTPUTS, SL_TFL_MAX_OP_IO, 0, (int32_t)n_tensors, what,
                           &op->out, &op->n_out)))
        return st;
    if ((st = sl_fb_u8(ot, F_OP_OPT_TYPE, 0, &op->opt_type))) return st;
    if ((st = sl_fb_table_field(ot, F_OP_OPTS, &op->has_opts, &op->opts))) return st;
    return SL_OK;
}

static sl_status parse(const uint8_t *data, size_t size, sl_tfl_model *m) {
    m->fb.data = data;
    m->fb.size = size;
    sl_fb_table root;
    sl_status st = sl_fb_root(&m->fb, "TFL3", &root);
    if (st) return st;
    if ((st = sl_fb_u32(&root, F_MODEL_VERSION, 0, &m->version))) return st;
    if (m->version != 3)
        return sl_fail(SL_ERR_UNSUPPORTED, "schema version %u (only version 3 is supported)",
                       m->version);

    /* Operator codes: the builtin code is the larger of the deprecated int8
     * field and the int32 field, as TFLite resolves it. */
    sl_fb_vec opcodes;
    if ((st = sl_fb_vec_field(&root, F_MODEL_OPCODES, 4, SL_TFL_MAX_OPCODES, &opcodes))) return st;
    uint32_t n_codes = opcodes.count;
    int32_t *codes = sl_malloc_array(n_codes ? n_codes : 1, sizeof *codes);
    int32_t *versions = sl_malloc_array(n_codes ? n_codes : 1, sizeof *versions);
    sl_fb_table *code_tables = sl_malloc_array(n_codes ? n_codes : 1, sizeof *code_tables);
    if (!codes || !versions || !code_tables) {
        st = sl_fail(SL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < n_codes; i++) {
        int8_t dep;
        int32_t ext, ver;
        if ((st = sl_fb_vec_table(&opcodes, i, &code_tables[i]))) goto done;
        if ((st = sl_fb_i8(&code_tables[i], F_OPC_DEPRECATED, 0, &dep))) goto done;
        if ((st = sl_fb_i32(&code_tables[i], F_OPC_BUILTIN, 0, &ext))) goto done;
        if ((st = sl_fb_i32(&code_tables[i], F_OPC_VERSION, 1, &ver))) goto done;
        codes[i] = SL_MAX((int32_t)dep, ext);
        versions[i] = ver;
    }

    sl_fb_vec subgraphs, buffers;
    if ((st = sl_fb_vec_field(&root, F_MODEL_SUBGRAPHS, 4, SL_TFL_MAX_SUBGRAPHS, &subgraphs)))
        goto done;
    if ((st = sl_fb_vec_field(&root, F_MODEL_BUFFERS, 4, SL_TFL_MAX_BUFFERS, &buffers))) goto done;
    if (subgraphs.count == 0) {
        st = sl_fail(SL_ERR_CORRUPT, "the model has no subgraph");
        goto done;
    }
    m->n_subgraphs = subgraphs.count;
    sl_fb_table sg;
    if ((st = sl_fb_vec_table(&subgraphs, 0, &sg))) goto done;

    sl_fb_vec tensors, operators;
    if ((st = sl_fb_vec_field(&sg, F_SG_TENSORS, 4, SL_TFL_MAX_TENSORS, &tensors))) goto done;
    if ((st = sl_fb_vec_field(&sg, F_SG_OPERATORS, 4, SL_TFL_MAX_OPS, &operators))) goto done;
    m->tensors = sl_calloc_array(tensors.count ? tensors.count : 1, sizeof *m->tensors);
    m->ops = sl_calloc_array(operators.count ? operators.count : 1, sizeof *m->ops);
    if (!m->tensors || !m->ops) {
        st = sl_fail(SL_ERR_NOMEM, "out of memory");
        goto done;
    }
    m->n_tensors = tensors.count;
    m->n_ops = operators.count;
    for (uint32_t i = 0; i < tensors.count; i++) {
        sl_fb_table tt;
        if ((st = sl_fb_vec_table(&tensors, i, &tt))) goto done;
        if ((st = parse_tensor(m, &tt, &buffers, i, &m->tensors[i]))) goto done;
    }
    if ((st = read_indices(&sg, F_SG_INPUTS, SL_TFL_MAX_OP_IO, 0, (int32_t)m->n_tensors,
                           "subgraph inputs", &m->inputs, &m->n_inputs)))
        goto done;
    if ((st = read_indices(&sg, F_SG_OUTPUTS, SL_TFL_MAX_OP_IO, 0, (int32_t)m->n_tensors,
                           "subgraph outputs", &m->outputs, &m->n_outputs)))
        goto done;
    for (uint32_t i = 0; i < operators.count; i++) {
        sl_fb_table ot;
        if ((st = sl_fb_vec_table(&operators, i, &ot))) goto done;
        if ((st = parse_op(&ot, codes, versions, code_tables, n_codes, m->n_tensors, i,
                           &m->ops[i])))
            goto done;
    }
done:
    free(codes);
    free(versions);
    free(code_tables);
    return st;
}

sl_status sl_tfl_model_parse(const uint8_t *data, size_t size, sl_tfl_model *m) {
    memset(m, 0, sizeof *m);
    sl_status st = parse(data, size, m);
    if (st) {
        sl_tfl_model_release(m);
        return sl_fail_prefix(st, "tflite");
    }
    return SL_OK;
}
