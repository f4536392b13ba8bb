/* GGUF: a hand-assembled file (independent of our writer) parses as the
 * specification says; writer -> reader round trip; every truncation and
 * many byte flips of a valid file are refused or parsed without crashing. */
#include "model/gguf.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bytes {
    uint8_t d[4096];
    size_t n;
} bytes;

static void b_raw(bytes *b, const void *p, size_t n) {
    memcpy(b->d + b->n, p, n);
    b->n += n;
}
static void b_u32(bytes *b, uint32_t v) {
    for (int i = 0; i < 4; i++) b->d[b->n++] = (uint8_t)(v >> (8 * i));
}
static void b_u64(bytes *b, uint64_t v) {
    for (int i = 0; i < 8; i++) b->d[b->n++] = (uint8_t)(v >> (8 * i));
}
static void b_str(bytes *b, const char *s) {
    b_u64(b, strlen(s));
    b_raw(b, s, strlen(s));
}

/* Two keys and one 2x3 f32 tensor, laid out by hand from the spec. */
static void hand_made(bytes *b) {
    b->n = 0;
    b_raw(b, "GGUF", 4);
    b_u32(b, 3);
    b_u64(b, 1); /* tensors */
    b_u64(b, 3); /* kv */
    b_str(b, "general.name");
    b_u32(b, SL_GGUF_STRING);
    b_str(b, "tiny");
    b_str(b, "tiny.dims");
    b_u32(b, SL_GGUF_ARRAY);
    b_u32(b, SL_GGUF_U32);
    b_u64(b, 2);
    b_u32(b, 3);
    b_u32(b, 2);
    b_str(b, "tiny.words");
    b_u32(b, SL_GGUF_ARRAY);
    b_u32(b, SL_GGUF_STRING);
    b_u64(b, 2);
    b_str(b, "dog");
    b_str(b, "chair");
    b_str(b, "w");
    b_u32(b, 2);
    b_u64(b, 3);
    b_u64(b, 2);
    b_u32(b, SL_TENSOR_F32);
    b_u64(b, 0);
    while (b->n % 32) b->d[b->n++] = 0;
    for (int i = 0; i < 6; i++) {
        float f = (float)i + 0.5f;
        b_raw(b, &f, 4);
    }
}

static void test_hand_made(void) {
    bytes b;
    hand_made(&b);
    sl_gguf *g;
    REQUIRE(sl_gguf_open_memory(b.d, b.n, &g) == SL_OK);
    sl_gguf_str s;
    CHECK(sl_gguf_get_str(g, "general.name", &s) == SL_OK && s.len == 4 && !memcmp(s.data, "tiny", 4));
    sl_gguf_type et;
    uint64_t n;
    const void *el;
    CHECK(sl_gguf_get_array(g, "tiny.dims", &et, &n, &el) == SL_OK && et == SL_GGUF_U32 && n == 2);
    uint32_t dims[2];
    memcpy(dims, el, 8);
    CHECK(dims[0] == 3 && dims[1] == 2);
    CHECK(sl_gguf_get_str_array_count(g, "tiny.words", &n) == SL_OK && n == 2);
    CHECK(sl_gguf_get_str_array_at(g, "tiny.words", 1, &s) == SL_OK && s.len == 5 && !memcmp(s.data, "chair", 5));
    CHECK(sl_gguf_get_str_array_at(g, "tiny.words", 2, &s) == SL_ERR_ARG);
    uint32_t u;
    CHECK(sl_gguf_get_u32(g, "missing", &u) == SL_ERR_NOT_FOUND);
    CHECK(sl_gguf_get_u32(g, "general.name", &u) == SL_ERR_CORRUPT);
    const sl_gguf_tensor *t = sl_gguf_find_tensor(g, "w");
    REQUIRE(t != NULL);
    CHECK(t->n_dims == 2 && t->dims[0] == 3 && t->dims[1] == 2 && t->n_elements == 6 && t->n_bytes == 24);
    CHECK(((uintptr_t)t->data - (uintptr_t)b.d) % 32 == 0);
    float f[6];
    memcpy(f, t->data, sizeof f);
    CHECK(f[0] == 0.5f && f[5] == 5.5f);
    sl_gguf_free(g);
}

static sl_gguf_builder *sample_builder(void) {
    sl_gguf_builder *b;
    if (sl_gguf_builder_new(&b)) return NULL;
    sl_gguf_set_str(b, "general.architecture", "searchlite-test");
    sl_gguf_set_u32(b, "a.u32", 0xdeadbeef);
    sl_gguf_set_i32(b, "a.i32", -7);
    sl_gguf_set_u64(b, "a.u64", 1ull << 40);
    sl_gguf_set_f32(b, "a.f32", 0.25f);
    sl_gguf_set_bool(b, "a.bool", 1);
    const int16_t arr[3] = {-1, 2, -3};
    sl_gguf_set_array(b, "a.i16s", SL_GGUF_I16, arr, 3);
    const char *words[] = {"a", "", "dog"};
    sl_gguf_set_str_array(b, "a.words", words, 3);
    const int8_t t8[5] = {1, -2, 3, -4, 5};
    uint64_t d1[1] = {5};
    sl_gguf_add_tensor(b, "t8", SL_TENSOR_I8, 1, d1, t8);
    float tf[2 * 3 * 4];
    for (int i = 0; i < 24; i++) tf[i] = (float)i / 3.0f;
    uint64_t d3[3] = {4, 3, 2};
    sl_gguf_add_tensor(b, "tf", SL_TENSOR_F32, 3, d3, tf);
    return b;
}

static void test_round_trip(void) {
    sl_gguf_builder *b = sample_builder();
    REQUIRE(b != NULL);
    CHECK(sl_gguf_set_u32(b, "a.u32", 1) == SL_ERR_ARG); /* duplicate key */
    uint64_t d1[1] = {1};
    int8_t one = 1;
    CHECK(sl_gguf_add_tensor(b, "t8", SL_TENSOR_I8, 1, d1, &one) == SL_ERR_ARG);
    uint8_t *data;
    size_t size;
    REQUIRE(sl_gguf_builder_serialize(b, &data, &size) == SL_OK);
    sl_gguf *g;
    REQUIRE(sl_gguf_open_memory(data, size, &g) == SL_OK);
    uint32_t u;
    int32_t i;
    uint64_t u64;
    float f;
    int bo;
    CHECK(sl_gguf_get_u32(g, "a.u32", &u) == SL_OK && u == 0xdeadbeef);
    CHECK(sl_gguf_get_i32(g, "a.i32", &i) == SL_OK && i == -7);
    CHECK(sl_gguf_get_u64(g, "a.u64", &u64) == SL_OK && u64 == 1ull << 40);
    CHECK(sl_gguf_get_f32(g, "a.f32", &f) == SL_OK && f == 0.25f);
    CHECK(sl_gguf_get_bool(g, "a.bool", &bo) == SL_OK && bo == 1);
    sl_gguf_type et;
    uint64_t n;
    const void *el;
    CHECK(sl_gguf_get_array(g, "a.i16s", &et, &n, &el) == SL_OK && et == SL_GGUF_I16 && n == 3);
    int16_t arr[3];
    memcpy(arr, el, sizeof arr);
    CHECK(arr[0] == -1 && arr[1] == 2 && arr[2] == -3);
    sl_gguf_str s;
    CHECK(sl_gguf_get_str_array_at(g, "a.words", 1, &s) == SL_OK && s.len == 0);
    CHECK(sl_gguf_get_str_array_at(g, "a.words", 2, &s) == SL_OK && s.len == 3 && !memcmp(s.data, "dog", 3));
    CHECK(sl_gguf_tensor_count(g) == 2 && sl_gguf_kv_count(g) == 8);
    const sl_gguf_tensor *t = sl_gguf_find_tensor(g, "tf");
    REQUIRE(t != NULL);
    CHECK(t->n_dims == 3 && t->dims[0] == 4 && t->dims[2] == 2 && t->n_elements == 24);
    float tf[24];
    memcpy(tf, t->data, sizeof tf);
    CHECK(tf[23] == 23.0f / 3.0f);
    CHECK(((uintptr_t)t->data - (uintptr_t)data) % 32 == 0);
    sl_gguf_free(g);

    /* Atomic write + read back gives the same bytes. */
    char path[512];
    snprintf(path, sizeof path, "%s/x.gguf", sl_test_tmpdir());
    CHECK(sl_gguf_builder_write(b, path) == SL_OK);
    size_t n2;
    uint8_t *back = sl_test_read(path, &n2);
    CHECK(n2 == size && !memcmp(back, data, size));
    free(back);

    /* Golden: the serialized bytes are stable (format changes are deliberate). */
    char golden[512];
    snprintf(golden, sizeof golden, "%s/tests/golden/gguf/sample.gguf", SL_TEST_SOURCE_DIR);
    size_t ng;
    uint8_t *gold = sl_test_read(golden, &ng);
    CHECK_MSG(ng == size && !memcmp(gold, data, size), "writer output differs from %s", golden);
    free(gold);

    /* Hostile: every truncation is refused cleanly; byte flips never crash. */
    int refused = 0;
    for (size_t cut = 0; cut < size; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, data, cut);
        sl_gguf *h = NULL;
        sl_status st = sl_gguf_open_memory(copy, cut, &h);
        if (st != SL_OK) refused++;
        sl_gguf_free(h);
        free(copy);
    }
    CHECK_MSG(refused == (int)size, "%d of %zu truncations refused", refused, size);
    uint64_t rs = 7;
    uint8_t *copy = malloc(size);
    for (int round = 0; round < 20000; round++) {
        memcpy(copy, data, size);
        for (int k = 0; k < 3; k++) copy[sl_test_rand(&rs) % size] ^= (uint8_t)(1 + sl_test_rand(&rs) % 255);
        sl_gguf *h = NULL;
        if (sl_gguf_open_memory(copy, size, &h) == SL_OK) {
            for (size_t j = 0; j < sl_gguf_tensor_count(h); j++) {
                const sl_gguf_tensor *tt = sl_gguf_tensor_at(h, j);
                volatile uint8_t sink = ((const uint8_t *)tt->data)[tt->n_bytes - 1];
                (void)sink;
            }
            sl_gguf_free(h);
        }
    }
    free(copy);
    free(data);
    sl_gguf_builder_free(b);
}

/* Copying keys and tensors from a reader into a builder (how a tuned model
 * keeps its base's contents): every key type, byte for byte. */
static void test_copy(void) {
    /* A file with one key of each scalar type, a string, arrays of scalars
     * and of strings, and no tensors: what the builder writes for it has no
     * padding, so a full copy must reproduce it exactly. */
    bytes b = {.n = 0};
    b_raw(&b, "GGUF", 4);
    b_u32(&b, 3);
    b_u64(&b, 0);
    b_u64(&b, 14);
    static const uint8_t scalar[8] = {0x81, 0x02, 0x83, 0x04, 0x85, 0x06, 0x87, 0x08};
    const sl_gguf_type scalars[] = {SL_GGUF_U8,  SL_GGUF_I8,  SL_GGUF_U16, SL_GGUF_I16, SL_GGUF_U32, SL_GGUF_I32,
                                    SL_GGUF_F32, SL_GGUF_BOOL, SL_GGUF_U64, SL_GGUF_I64, SL_GGUF_F64};
    for (size_t k = 0; k < sizeof scalars / sizeof *scalars; k++) {
        char key[16];
        snprintf(key, sizeof key, "s.%zu", k);
        b_str(&b, key);
        b_u32(&b, scalars[k]);
        b_raw(&b, scalar, scalars[k] == SL_GGUF_BOOL ? 1 : sl_gguf_type_size(scalars[k]));
    }
    b_str(&b, "str");
    b_u32(&b, SL_GGUF_STRING);
    b_str(&b, "a dog");
    b_str(&b, "arr.f64");
    b_u32(&b, SL_GGUF_ARRAY);
    b_u32(&b, SL_GGUF_F64);
    b_u64(&b, 2);
    b_raw(&b, scalar, 8);
    b_raw(&b, scalar, 8);
    b_str(&b, "arr.str");
    b_u32(&b, SL_GGUF_ARRAY);
    b_u32(&b, SL_GGUF_STRING);
    b_u64(&b, 3);
    b_str(&b, "dog");
    b_str(&b, "");
    b_str(&b, "chair");
    sl_gguf *g;
    REQUIRE(sl_gguf_open_memory(b.d, b.n, &g) == SL_OK);
    sl_gguf_builder *w;
    REQUIRE(sl_gguf_builder_new(&w) == SL_OK);
    for (size_t i = 0; i < sl_gguf_kv_count(g); i++) CHECK(sl_gguf_copy_kv(w, g, i) == SL_OK);
    CHECK(sl_gguf_copy_kv(w, g, 0) == SL_ERR_ARG);                    /* already set */
    CHECK(sl_gguf_copy_kv(w, g, sl_gguf_kv_count(g)) == SL_ERR_ARG); /* out of range */
    uint8_t *data;
    size_t size;
    REQUIRE(sl_gguf_builder_serialize(w, &data, &size) == SL_OK);
    CHECK_MSG(size == b.n && !memcmp(data, b.d, size), "copy of %zu bytes gives %zu", b.n, size);
    free(data);
    sl_gguf_builder_free(w);
    sl_gguf_free(g);

    /* The sample (keys and tensors) copied entirely serializes the same. */
    sl_gguf_builder *sb = sample_builder();
    REQUIRE(sb != NULL);
    uint8_t *orig;
    size_t n_orig;
    REQUIRE(sl_gguf_builder_serialize(sb, &orig, &n_orig) == SL_OK);
    REQUIRE(sl_gguf_open_memory(orig, n_orig, &g) == SL_OK);
    REQUIRE(sl_gguf_builder_new(&w) == SL_OK);
    for (size_t i = 0; i < sl_gguf_kv_count(g); i++) CHECK(sl_gguf_copy_kv(w, g, i) == SL_OK);
    for (size_t i = 0; i < sl_gguf_tensor_count(g); i++) CHECK(sl_gguf_copy_tensor(w, sl_gguf_tensor_at(g, i)) == SL_OK);
    CHECK(sl_gguf_copy_tensor(w, sl_gguf_tensor_at(g, 0)) == SL_ERR_ARG); /* added twice */
    REQUIRE(sl_gguf_builder_serialize(w, &data, &size) == SL_OK);
    CHECK(size == n_orig && !memcmp(data, orig, size));
    free(data);
    sl_gguf_builder_free(w);
    sl_gguf_free(g);
    free(orig);
    sl_gguf_builder_free(sb);

    /* A key holding a NUL byte cannot be a builder key: refused, not cut. */
    bytes z = {.n = 0};
    b_raw(&z, "GGUF", 4);
    b_u32(&z, 3);
    b_u64(&z, 0);
    b_u64(&z, 1);
    b_u64(&z, 3);
    b_raw(&z, "a\0b", 3);
    b_u32(&z, SL_GGUF_U32);
    b_u32(&z, 1);
    REQUIRE(sl_gguf_open_memory(z.d, z.n, &g) == SL_OK);
    REQUIRE(sl_gguf_builder_new(&w) == SL_OK);
    CHECK(sl_gguf_copy_kv(w, g, 0) == SL_ERR_ARG);
    sl_gguf_builder_free(w);
    sl_gguf_free(g);
}

static void test_bad_headers(void) {
    bytes b;
    hand_made(&b);
    sl_gguf *g;
    bytes c = b;
    c.d[0] = 'X';
    CHECK(sl_gguf_open_memory(c.d, c.n, &g) == SL_ERR_CORRUPT);
    c = b;
    c.d[4] = 1; /* version 1 */
    CHECK(sl_gguf_open_memory(c.d, c.n, &g) == SL_ERR_UNSUPPORTED);
    c = b;
    c.d[8 + 7] = 0x10; /* tensor count 2^60 */
    CHECK(sl_gguf_open_memory(c.d, c.n, &g) == SL_ERR_LIMIT);
    CHECK(sl_gguf_open_memory(NULL, 0, &g) == SL_ERR_CORRUPT);
    /* duplicate key */
    bytes d = {.n = 0};
    b_raw(&d, "GGUF", 4);
    b_u32(&d, 3);
    b_u64(&d, 0);
    b_u64(&d, 2);
    for (int k = 0; k < 2; k++) {
        b_str(&d, "k");
        b_u32(&d, SL_GGUF_U32);
        b_u32(&d, 1);
    }
    CHECK(sl_gguf_open_memory(d.d, d.n, &g) == SL_ERR_CORRUPT);
    CHECK(strstr(sl_last_error(), "duplicate") != NULL);
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--write-golden")) {
        sl_gguf_builder *b = sample_builder();
        sl_status st = sl_gguf_builder_write(b, argv[2]);
        sl_gguf_builder_free(b);
        return st ? 1 : 0;
    }
    test_hand_made();
    test_round_trip();
    test_copy();
    test_bad_headers();
    return sl_test_summary();
}
