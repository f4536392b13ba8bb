/* Activation memory planning: one arena shared by every activation tensor,
 * tensors whose lifetimes do not overlap may share bytes. */
#ifndef SL_TFLITE_PLAN_H
#define SL_TFLITE_PLAN_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

#define SL_TFL_ARENA_ALIGN 64
/* Cap on the arena of one model (SL_ERR_LIMIT above it). */
#define SL_TFL_MAX_ARENA ((size_t)512 << 20)

typedef struct sl_tfl_buf {
    size_t size;    /* bytes */
    int64_t first;  /* index of the operator that writes it (-1: model input) */
    int64_t last;   /* index of the last operator that reads it */
    size_t offset;  /* out: offset in the arena, SL_TFL_ARENA_ALIGN-aligned */
} sl_tfl_buf;

/* Places every buffer so that buffers alive at the same time never
 * overlap: largest first, each at the lowest offset that fits between the
 * buffers already placed whose lifetimes intersect (a greedy best-fit, as
 * TFLite's arena planner does). *arena_size receives the total.
 * Errors: SL_ERR_LIMIT (arena above SL_TFL_MAX_ARENA), SL_ERR_NOMEM. */
sl_status sl_tfl_plan(sl_tfl_buf *bufs, size_t n, size_t *arena_size);

#endif /* SL_TFLITE_PLAN_H */
