/* The AH encoder's body, compiled once per instruction set: the includer
 * defines AH_ENCODE_NAME (the function's name) and AH_MINMASK16(f) (the
 * lanes holding the minimum of 16 floats at f, as a bit mask, 0 only for
 * NaN input) and includes this file once. No include guard on purpose. */
#include "ah_kernels.h"

#include <string.h>

/* The copies must compute the same bits: no fused multiply-adds behind our
 * back (GCC does not contract in ISO C mode; clang would by default). */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* the first minimal lane */
static inline int ah_first_lane(unsigned mask) { return mask ? __builtin_ctz(mask) : 0; }

/* Encodes points [i0, i1). Compiled once per instruction set, so the
 * compiler can use wide vectors for the 16-candidate loops; there is no
 * contraction of multiply-adds (ISO C mode for GCC, the pragma above for
 * clang), so every copy computes the same bits (every AH_MINMASK16 is
 * exact).
 *
 * Per point and block, ||t - c||^2 and c.u of the 16 centres do not
 * change during the descent; they are computed once into scratch. The
 * descent of a point is a chain through P from block to block, so AH_LANES
 * points descend side by side and the processor overlaps their chains. A
 * point whose pass changed nothing would repeat it identically, so running
 * it along with the others changes nothing. */
void AH_ENCODE_NAME(const ah_enc_job *job, size_t i0, size_t i1, float *scratch) {
    const ah_enc *E = job->E;
    const size_t dim = E->dim, dpb = E->dpb, nb = E->nb;
    for (size_t i = i0; i < i1; i += AH_LANES) {
        const size_t lanes = SL_MIN((size_t)AH_LANES, i1 - i);
        double P[AH_LANES];
        for (size_t g = 0; g < lanes; g++) {
            const float *r = job->resid + (i + g) * dim, *u = job->dirs ? job->dirs + (i + g) * dim : NULL;
            uint8_t *code = job->codes + (i + g) * nb;
            float *sc = scratch + g * nb * 2 * AH_K; /* (nb, 2, 16): ||t - c||^2, then c.u */
            /* start: the nearest centre of each block */
            for (size_t b = 0; b < nb; b++) {
                const size_t j0 = b * dpb, wb = dim - j0 < dpb ? dim - j0 : dpb;
                float d2[AH_K] = {0}, cu[AH_K] = {0};
                for (size_t d = 0; d < wb; d++) {
                    const float tv = r[j0 + d], *col = E->ct + (j0 + d) * AH_K;
                    for (int j = 0; j < AH_K; j++) {
                        float diff = tv - col[j];
                        d2[j] += diff * diff;
                    }
                    if (E->aniso) {
                        const float uv = u[j0 + d];
                        for (int j = 0; j < AH_K; j++) cu[j] += uv * col[j];
                    }
                }
                code[b] = (uint8_t)ah_first_lane(AH_MINMASK16(d2));
                if (E->aniso) {
                    memcpy(sc + b * 2 * AH_K, d2, sizeof d2);
                    memcpy(sc + b * 2 * AH_K + AH_K, cu, sizeof cu);
                }
            }
            if (!E->aniso) continue;
            double p = 0;
            for (size_t b = 0; b < nb; b++) {
                const size_t j0 = b * dpb, wb = dim - j0 < dpb ? dim - j0 : dpb;
                for (size_t d = 0; d < wb; d++)
                    p += ((double)r[j0 + d] - E->ct[(j0 + d) * AH_K + code[b]]) * u[j0 + d];
            }
            P[g] = p;
        }
        if (!E->aniso) continue;
        /* Coordinate descent. With block B's centre switched from cur to
         * c, the error changes only in B: ||e||^2 changes by ||t - c||^2 -
         * ||t - cur||^2 and e.u becomes R - c.u with R = P + cur.u, so the
         * loss to minimize over the 16 centres is
         *     f(c) = ||t - c||^2 + (eta - 1) (R - c.u)^2. */
        for (int pass = 0; pass < E->passes; pass++) {
            int changed = 0;
            for (size_t b = 0; b < nb; b++) {
                for (size_t g = 0; g < lanes; g++) {
                    const float *d2 = scratch + (g * nb + b) * 2 * AH_K, *cu = d2 + AH_K;
                    uint8_t *code = job->codes + (i + g) * nb + b;
                    const int cur = *code;
                    const float R = (float)(P[g] + cu[cur]);
                    float f[AH_K];
                    for (int j = 0; j < AH_K; j++) {
                        float q = R - cu[j];
                        f[j] = d2[j] + E->w * (q * q);
                    }
                    /* keep cur unless another centre is strictly better,
                     * i.e. unless cur is not among the minimal lanes;
                     * branch-free, the choice is data-dependent */
                    const unsigned mask = AH_MINMASK16(f);
                    const int low = ah_first_lane(mask), keep = (int)((mask >> cur) & 1u);
                    const int best = low ^ ((low ^ cur) & -keep);
                    *code = (uint8_t)best;
                    P[g] += (double)cu[cur] - cu[best];
                    changed |= best != cur;
                }
            }
            if (!changed) break;
        }
        if (!job->par) continue;
        for (size_t g = 0; g < lanes; g++) {
            /* recomputed, not the running sum, so the update starts exact */
            const float *r = job->resid + (i + g) * dim, *u = job->dirs + (i + g) * dim;
            const uint8_t *code = job->codes + (i + g) * nb;
            double p = 0;
            for (size_t b = 0; b < nb; b++) {
                const size_t j0 = b * dpb, wb = dim - j0 < dpb ? dim - j0 : dpb;
                for (size_t d = 0; d < wb; d++)
                    p += ((double)r[j0 + d] - E->ct[(j0 + d) * AH_K + code[b]]) * u[j0 + d];
            }
            job->par[i + g] = p;
        }
    }
}

