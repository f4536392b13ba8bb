/* Symmetric InfoNCE: logits by GEMM, the row and column softmaxes by
 * log-sum-exp, the logit gradient G = (P + Q - 2T) / (2B) back through two
 * more GEMMs (infonce.h). */
#include "train/infonce.h"

#include "train/gemm.h"

#include <math.h>
#include <stdlib.h>

size_t sl_infonce_work_size(size_t batch) {
    size_t bb, n;
    if (sl_mul_overflow(batch, batch, &bb) || sl_mul_overflow(bb, 2, &n) ||
        sl_add_overflow(n, 2 * batch, &n))
        return 0;
    return n;
}

/* Number of rows in i's group (1 without groups): the target of a positive
 * is 1 / count. O(B^2) in all, small next to the GEMMs. */
static double target(const uint32_t *group, size_t batch, size_t i, size_t j, const float *count) {
    if (!group) return i == j ? 1.0 : 0.0;
    return group[i] == group[j] ? 1.0 / count[i] : 0.0;
}

sl_status sl_infonce(const float *u, const float *v, size_t batch, size_t dim, float log_scale,
                     const uint32_t *group, float *work, float *loss, float *du, float *dv,
                     float *dlog_scale) {
    if (!u || !v || !loss) return sl_fail(SL_ERR_ARG, "infonce: NULL argument");
    if (batch == 0 || dim == 0) return sl_fail(SL_ERR_ARG, "infonce: batch %zu, dim %zu", batch, dim);
    if (!isfinite(log_scale)) return sl_fail(SL_ERR_ARG, "infonce: log scale not finite");
    size_t need = sl_infonce_work_size(batch);
    if (need == 0) return sl_fail(SL_ERR_LIMIT, "infonce: batch %zu too large", batch);
    float *own = NULL;
    if (!work) {
        own = sl_malloc_array(need, sizeof(float));
        if (!own) return sl_fail(SL_ERR_NOMEM, "infonce: out of memory (batch %zu)", batch);
        work = own;
    }
    size_t bb = batch * batch;
    float *z = work;               // (batch, batch) logits Z
    float *g = work + bb;          // (batch, batch) dL/dZ
    float *count = g + bb;         // (batch) rows in each row's group
    float *col_lse = count + batch; // (batch) log-sum-exp of each column
    int clamped = log_scale > SL_INFONCE_MAX_LOG_SCALE;
    float c = expf(clamped ? SL_INFONCE_MAX_LOG_SCALE : log_scale);

    for (size_t i = 0; i < batch; i++) {
        size_t k = 0;
        for (size_t j = 0; j < batch && group; j++) k += group[j] == group[i];
        count[i] = group ? (float)k : 1.0f;
    }
    sl_status st = sl_gemm_f32(0, 1, batch, batch, dim, c, u, dim, v, dim, 0.0f, z, batch);
    if (st != SL_OK) goto done;

    /* Columns first, while z still holds the logits. The maximum taken out
     * of every exponent keeps each term in (0, 1]. */
    double total = 0.0;
    for (size_t j = 0; j < batch; j++) {
        float mx = z[j];
        for (size_t i = 1; i < batch; i++) mx = SL_MAX(mx, z[i * batch + j]);
        double s = 0.0;
        for (size_t i = 0; i < batch; i++) s += exp((double)z[i * batch + j] - mx);
        col_lse[j] = (float)(mx + log(s));
    }
    /* dL/dZ_ij = (P_ij - T_ij + Q_ij - T_ij) / (2B); the loss sums
     * T_ij (lse - Z_ij) over rows and over columns. */
    double inv2b = 0.5 / (double)batch;
    for (size_t i = 0; i < batch; i++) {
        const float *zi = z + i * batch;
        float mx = zi[0];
        for (size_t j = 1; j < batch; j++) mx = SL_MAX(mx, zi[j]);
        double s = 0.0;
        for (size_t j = 0; j < batch; j++) s += exp((double)zi[j] - mx);
        double lse = mx + log(s);
        for (size_t j = 0; j < batch; j++) {
            double t = target(group, batch, i, j, count);
            double p = exp((double)zi[j] - lse), q = exp((double)zi[j] - col_lse[j]);
            if (t != 0.0) total += t * ((lse - zi[j]) + ((double)col_lse[j] - zi[j]));
            g[i * batch + j] = (float)((p + q - 2.0 * t) * inv2b);
        }
    }
    *loss = (float)(total * inv2b);

    if (dlog_scale) {
        /* Z = exp(s) U V^T, so dZ/ds = Z: dL/ds = sum G_ij Z_ij; zero where
         * the clamp holds s constant */
        double ds = 0.0;
        for (size_t i = 0; i < bb; i++) ds += (double)g[i] * z[i];
        *dlog_scale = clamped ? 0.0f : (float)ds;
    }
    /* dU = c G V, dV = c G^T U */
    if (du) {
        st = sl_gemm_f32(0, 0, batch, dim, batch, c, g, batch, v, dim, 0.0f, du, dim);
        if (st != SL_OK) goto done;
    }
    if (dv) st = sl_gemm_f32(1, 0, batch, dim, batch, c, g, batch, u, dim, 0.0f, dv, dim);
done:
    free(own);
    return st;
}
