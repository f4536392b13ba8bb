/* GEMM microkernel template; no include guard, included once per tile
 * shape by qgemm_avx2.c / qgemm_avx512.c with these macros defined:
 *   TILE_NAME, TILE_MR (rows), TILE_NV (vectors of TILE_W lanes),
 *   TILE_VEC (vector type), TILE_LOAD(p) (aligned load), TILE_SET1(x),
 *   TILE_ADD(a, b) (int32), TILE_DOT(acc, a, b) (acc += 4 bytes or 2 int16
 *   per lane of a times b), TILE_EP(x, e, g, mode) (requantization to a
 *   vector of output bytes), TILE_STORE(dst, bytes, n) (the first n).
 *
 * Defines TILE_NAME(c, t, r0, pn, mode), always inlined so that wrappers
 * instantiate it per epilogue mode (a constant): rows [r0, r0 + TILE_MR)
 * of tile t against the vectors of panel pn. Each k-step broadcasts 4 bytes of
 * an A row (4 u8 or 2 int16 values of k) into every lane and multiplies
 * with one B vector per TILE_W columns ((Kp / kstep, nv * W, 4 bytes)
 * layout), so TILE_MR * TILE_NV accumulators stay in registers. Rows past
 * t->mr re-read the last valid row (no out-of-bounds access) and are not
 * stored. */
static inline __attribute__((always_inline)) void TILE_NAME(const sl_qconv *c,
                                                            const sl_qgemm_tile *t, int r0,
                                                            const sl_qpanel *pn, const int mode) {
    const int N = c->d.out_c;
    const int nr = SL_MIN(TILE_MR, t->mr - r0);
    const sl_qep_glob g = c->g; /* a local: byte stores cannot alias it */
    const int32_t *ep = c->ep + (size_t)(pn->n0 / TILE_W) * SL_QEP_FIELDS * TILE_W;
    const uint8_t *a[TILE_MR];
    TILE_VEC acc[TILE_MR][TILE_NV];
    _Pragma("GCC unroll 16")
    for (int r = 0; r < TILE_MR; r++) {
        const int rr = r0 + (r < nr ? r : nr - 1);
        a[r] = (const uint8_t *)t->a + (size_t)rr * t->lda;
        const TILE_VEC rc = TILE_SET1(t->rowc ? t->rowc[rr] : 0);
        _Pragma("GCC unroll 16")
        for (int v = 0; v < TILE_NV; v++)
            acc[r][v] =
                TILE_ADD(rc, TILE_LOAD(ep + ((size_t)v * SL_QEP_FIELDS + SL_QEP_COLC) * TILE_W));
    }
    const uint8_t *b = c->b + pn->boff;
    const int ksteps = c->Kp / c->isa->kstep;
    for (int k = 0; k < ksteps; k++) {
        TILE_VEC bv[TILE_NV];
        _Pragma("GCC unroll 16")
        for (int v = 0; v < TILE_NV; v++) bv[v] = TILE_LOAD(b + (size_t)v * TILE_W * 4);
        b += TILE_NV * TILE_W * 4;
        _Pragma("GCC unroll 16")
        for (int r = 0; r < TILE_MR; r++) {
            int32_t x;
            memcpy(&x, a[r] + (size_t)k * 4, 4);
            const TILE_VEC av = TILE_SET1(x);
            _Pragma("GCC unroll 16")
            for (int v = 0; v < TILE_NV; v++) acc[r][v] = TILE_DOT(acc[r][v], av, bv[v]);
        }
    }
    _Pragma("GCC unroll 16")
    for (int r = 0; r < TILE_MR; r++) {
        if (r >= nr) break;
        uint8_t *o = t->c + (size_t)(r0 + r) * N + pn->n0;
        _Pragma("GCC unroll 16")
        for (int v = 0; v < TILE_NV; v++) {
            const int n = N - pn->n0 - v * TILE_W;
            if (n <= 0) break;
            const int32_t *epv = ep + (size_t)v * SL_QEP_FIELDS * TILE_W;
            TILE_STORE(o + v * TILE_W, TILE_EP(acc[r][v], epv, &g, mode), n);
        }
    }
}

#undef TILE_NAME
#undef TILE_MR
#undef TILE_NV
